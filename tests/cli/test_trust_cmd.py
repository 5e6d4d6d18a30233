"""``provenance trust ...`` and how ``verify`` uses the trust store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import sha256
from tests.support import flat
from tests.support.trust_lists import mirror_official_lists


def _one_line_error(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


def test_third_party_file_trusted_through_a_source_added_from_a_url(
    run, corpus: Path, http_site, tmp_path: Path
) -> None:
    clip = corpus / "signed/video1.mp4"
    before = sha256(clip)
    untrusted = run("verify", clip, "--json")
    assert untrusted.exit_code == 3 and json.loads(untrusted.output)["verdict"] == "untrusted"

    url = http_site.put("c2pa-test-roots.pem", (corpus / "certs/c2pa-test-root-bundle.pem").read_bytes())
    added = run("trust", "add", "c2pa-test-roots", url)
    assert added.exit_code == 0, added.output
    assert "c2pa-test-roots (anchors, 8 entries)" in added.output

    report = run("verify", clip, "--json")  # the store is used by default
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert data["verdict"] == "verified" and data["signer"]["trusted_by"] == "c2pa-test-roots"
    card = run("verify", clip)
    assert "Vouched by c2pa-test-roots" in flat(card.output)
    # --no-trust-store ignores it for one call
    assert run("verify", clip, "--no-trust-store").exit_code == 3
    assert sha256(clip) == before


def test_third_party_file_trusted_through_a_source_added_from_a_file(run, corpus: Path, tmp_path: Path) -> None:
    trust_dir = tmp_path / "elsewhere"
    added = run(
        "trust",
        "add",
        "test-roots",
        corpus / "certs/c2pa-test-root-bundle.pem",
        "--title",
        "C2PA test roots",
        "--trust-dir",
        trust_dir,
    )
    assert added.exit_code == 0, added.output
    report = run("verify", corpus / "signed/video1.mp4", "--trust-dir", trust_dir, "--json")
    assert report.exit_code == 0 and json.loads(report.output)["signer"]["trusted_by"] == "C2PA test roots"
    run.env["PROVENANCE_TRUST_DIR"] = str(trust_dir)
    listed = run("trust", "list", "--json")
    [entry] = json.loads(listed.output)["sources"]
    assert entry["name"] == "test-roots" and entry["entries"] == 8 and entry["fetched_at"]


def test_trust_flags_add_to_the_store_for_one_call(run, signed_clip: Path, pki, tmp_path: Path, corpus: Path) -> None:
    assert run("trust", "add", "corpus-roots", corpus / "certs/c2pa-test-root-bundle.pem").exit_code == 0
    assert run("trust", "remove", "development-root").exit_code == 0
    # the dev PKI's root is not in the store any more; --trust adds it for this call only
    got = run("verify", signed_clip, "--trust", pki.root_cert, "--json")
    assert got.exit_code == 0 and json.loads(got.output)["signer"]["trusted_by"] == str(pki.root_cert)
    assert run("verify", signed_clip).exit_code == 3


def test_list_remove_and_one_line_errors(run, http_site, pki) -> None:
    registered = run("trust", "list")  # what 'keys init' registered
    assert "development-root" in registered.output and "development root" in registered.output
    assert run("trust", "remove", "development-root").exit_code == 0
    empty = run("trust", "list")
    assert empty.exit_code == 0 and "no trust sources" in empty.output
    assert run("trust", "add", "acme-newsroom", pki.root_cert).exit_code == 0
    listed = run("trust", "list")
    assert "acme-newsroom" in listed.output and "anchors" in listed.output
    again = run("trust", "add", "acme-newsroom", pki.root_cert)
    assert again.exit_code == 2 and "exists" in _one_line_error(again.output)
    missing = run("trust", "add", "gone", http_site.url("nope.pem"))
    assert missing.exit_code == 5 and "HTTP 404" in _one_line_error(missing.output)
    garbage = run("trust", "add", "junk", pki.signer_key)  # a private key is not a trust list
    assert garbage.exit_code == 5 and "no PEM certificates" in _one_line_error(garbage.output)
    assert run("trust", "remove", "acme-newsroom").exit_code == 0
    nothing = run("trust", "remove", "acme-newsroom")
    assert nothing.exit_code == 2 and "no trust source named" in _one_line_error(nothing.output)


def test_update_reports_failures_and_keeps_copies(run, http_site, pki) -> None:
    url = http_site.put("org.pem", pki.root_cert.read_bytes())
    assert run("trust", "add", "org", url).exit_code == 0
    ok = run("trust", "update")
    assert ok.exit_code == 0 and "org: unchanged" in ok.output
    http_site.put("org.pem", b"\x00garbage\xff")
    bad = run("trust", "update", "org", "--json")
    assert bad.exit_code == 5
    [outcome] = json.loads(bad.output)
    assert outcome["ok"] is False and "no PEM certificates" in outcome["error"]
    [listed] = [s for s in json.loads(run("trust", "list", "--json").output)["sources"] if s["name"] == "org"]
    assert listed["entries"] == 1 and "no PEM certificates" in listed["last_error"]
    unknown = run("trust", "update", "nope")
    assert unknown.exit_code == 2


def test_add_defaults_from_a_mirror_and_verify_names_the_list(run, http_site, trust_lists: Path, corpus: Path) -> None:
    mirror_official_lists(http_site, trust_lists)
    result = run("trust", "add-defaults", "--mirror", http_site.base_url)
    assert result.exit_code == 0, result.output
    for name in ("c2pa-trust-list", "c2pa-tsa-trust-list", "interim-anchors", "interim-allowed", "interim-ekus"):
        assert f"{name}: updated" in result.output
    # video1.mp4 is signed with c2pa-rs test certificates: on no official list
    report = json.loads(run("verify", corpus / "signed/video1.mp4", "--json").output)
    assert report["verdict"] == "untrusted"
    help_text = run("trust", "add-defaults", "--help").output
    assert "C2PA-TSA-TRUST-LIST.pem" in help_text and "allowed.sha256.txt" in help_text


def test_a_source_that_never_fetched_warns_and_is_skipped(run, http_site, signed_clip: Path) -> None:
    result = run("trust", "add-defaults", "--mirror", http_site.base_url)  # nothing there
    assert result.exit_code == 5
    verified = run("verify", signed_clip)
    assert verified.exit_code == 0  # the dev root still vouches
    assert "has never been fetched" in verified.output


def test_add_defaults_never_claims_a_previous_copy_it_does_not_have(run, tmp_path: Path, trust_lists: Path) -> None:
    """Issue 12, item 9: "kept the previous copy" was said when there was none."""
    empty = tmp_path / "mirror"
    empty.mkdir()
    first = run("trust", "add-defaults", "--mirror", empty)
    assert first.exit_code == 5
    assert "kept the previous copy" not in first.output
    assert "c2pa-trust-list: no C2PA-TRUST-LIST.pem or C2PA-TRUST-LIST.json in" in first.stderr
    assert "no copy yet" in first.stderr and first.stderr.count("\n") == 5
    good = run("trust", "add-defaults", "--mirror", trust_lists)  # ../shared/trust, its own file names
    assert good.exit_code == 0, good.output
    assert "interim-anchors: updated (18 entries)" in good.output
    again = run("trust", "add-defaults", "--mirror", empty)
    assert again.exit_code == 5 and "(kept the previous copy, 30 entries)" in again.stderr
    assert "no copy yet" not in again.stderr
