"""A stolen creator key stops verifying as that creator: sign with the
signer's OCSP status attached, revoke, verify offline (the attached status)
and online (c2pa-rs asks the responder), against a real
``provenance keys ocsp-serve`` and a real RFC 3161 TSA on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.identity import revocation
from tests.support.ocsp import (
    Creator,
    OrgCA,
    issue_creator,
    make_org_ca,
    new_creator,
    org_with_responder,
    running_responder,
)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OrgCA, Path]]:
    with org_with_responder(tmp_path_factory.mktemp("revocation-org")) as made:
        yield made


_creator = new_creator


def _sign(run, creator: Creator, clip: Path, out: Path, *extra: str | Path):
    return run("sign", clip, "-o", out, "--key", creator.key, "--cert", creator.chain, *extra)


def _verify(run, authority: OrgCA, clip: Path, *extra: str | Path) -> tuple[int, dict]:
    result = run("verify", clip, "--no-trust-store", "--trust", authority.root, "--json", *extra)
    return result.exit_code, json.loads(result.output)


def _codes(report: dict) -> dict[str, str]:
    return {s["code"]: s["kind"] for s in report["status"]}


def test_good_status_travels_with_the_clip(run, org, make_clip, tmp_path: Path) -> None:
    authority, _ = org
    creator = _creator(org, "Good Status")
    out = tmp_path / "good.mp4"
    signed = _sign(run, creator, make_clip("mp4"), out, "--ocsp")
    assert signed.exit_code == 0, signed.output
    code, report = _verify(run, authority, out)
    assert code == 0 and report["verdict"] == "verified"
    # the status came with the clip: checked offline, by c2pa-rs
    assert _codes(report).get("signingCredential.ocsp.notRevoked") == "success"
    assert not any("revocation" in n or "revoked" in n for n in report["notes"])
    # without the status, the same signer's clip says revocation was not checked
    bare = tmp_path / "bare.mp4"
    assert _sign(run, creator, make_clip("mp4"), bare).exit_code == 0
    code, report = _verify(run, authority, bare)
    assert code == 0 and "signingCredential.ocsp.notRevoked" not in _codes(report)
    assert any("revocation was not checked" in n for n in report["notes"])


def test_a_revoked_signer_is_invalid_online_and_cannot_sign_again(run, org, make_clip, tmp_path: Path) -> None:
    authority, _ = org
    creator = _creator(org, "Stolen Key")
    out = tmp_path / "before.mp4"
    assert _sign(run, creator, make_clip("mp4"), out, "--ocsp").exit_code == 0
    revocation.revoke(authority.ca, creator.serial, reason="key-compromise")
    # offline: the status attached at signing said good, and nothing says otherwise
    code, report = _verify(run, authority, out)
    assert code == 0 and report["verdict"] == "verified"
    # online: the responder says revoked, and no trusted time-stamp predates it
    code, report = _verify(run, authority, out, "--online")
    assert code == 1 and report["verdict"] == "invalid"
    assert _codes(report)["signingCredential.ocsp.revoked"] == "failure"
    assert any("revoked by its certificate authority" in n and "no longer verifies" in n for n in report["notes"])
    card = run("verify", out, "--no-trust-store", "--trust", authority.root, "--online")
    assert card.exit_code == 1 and "revoked" in card.output
    # the stolen key cannot sign with its status any more (exit 6, one line)
    again = _sign(run, creator, make_clip("mp4"), tmp_path / "after.mp4", "--ocsp")
    assert again.exit_code == 6
    assert "is revoked on" in again.output and "key compromise" in again.output
    assert not (tmp_path / "after.mp4").exists()


def test_revoked_after_a_trusted_time_stamp_stays_valid(run, org, make_clip, tsa, tsa_identity, tmp_path: Path) -> None:
    """The C2PA rule (c2pa-rs decides): a certificate revoked after the
    trusted signing time still vouches for what it signed before."""
    authority, _ = org
    tsa_root = tmp_path / "tsa-root.pem"
    tsa_root.write_bytes(tsa_identity.root_pem)
    stamped_creator = _creator(org, "Stamped Then Revoked")
    stamped = tmp_path / "stamped.mp4"
    assert _sign(run, stamped_creator, make_clip("mp4"), stamped, "--ocsp", "--tsa", tsa.url).exit_code == 0
    time.sleep(1.5)  # revocation times have whole seconds: revoke strictly after the stamp
    revocation.revoke(authority.ca, stamped_creator.serial, reason="key-compromise")
    code, report = _verify(run, authority, stamped, "--online", "--tsa-trust", tsa_root)
    assert report["timestamped"] is True
    assert code == 0 and report["verdict"] == "verified", [s["code"] for s in report["status"]]
    assert "signingCredential.ocsp.revoked" not in _codes(report)
    # revoked as of a time before the trusted signing time: revoked
    early_creator = _creator(org, "Revoked Before Stamp")
    early = tmp_path / "early.mp4"
    assert _sign(run, early_creator, make_clip("mp4"), early, "--ocsp", "--tsa", tsa.url).exit_code == 0
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    revocation.revoke(authority.ca, early_creator.serial, reason="key-compromise", at=before)
    code, report = _verify(run, authority, early, "--online", "--tsa-trust", tsa_root)
    assert code == 1 and report["verdict"] == "invalid"
    assert "signingCredential.ocsp.revoked" in _codes(report)
    # without a trusted time-stamp, the later revocation counts: no proof the signing came first
    plain_creator = _creator(org, "Not Stamped")
    plain = tmp_path / "plain.mp4"
    assert _sign(run, plain_creator, make_clip("mp4"), plain, "--ocsp").exit_code == 0
    time.sleep(1.5)
    revocation.revoke(authority.ca, plain_creator.serial, reason="key-compromise")
    code, report = _verify(run, authority, plain, "--online")
    assert code == 1 and "signingCredential.ocsp.revoked" in _codes(report)


def test_an_unreachable_responder_is_a_note_at_verify_and_an_error_at_sign(run, make_clip, tmp_path: Path) -> None:
    authority = make_org_ca(tmp_path / "ca")
    (tmp_path / "c").mkdir()
    creator = issue_creator(authority, tmp_path / "c", "Far Away")
    out = tmp_path / "signed.mp4"
    with running_responder(authority, tmp_path / "responder.log"):
        assert _sign(run, creator, make_clip("mp4"), out, "--ocsp").exit_code == 0
    # the responder is gone: verify --online says so, and keeps the verdict
    code, report = _verify(run, authority, out, "--online")
    assert code == 0 and report["verdict"] == "verified"
    assert _codes(report).get("signingCredential.ocsp.inaccessible") == "informational"
    assert any("could not be reached" in n for n in report["notes"])
    # sign --ocsp cannot fetch: a one-line error, exit 1, nothing written
    failed = _sign(run, creator, make_clip("mp4"), tmp_path / "never.mp4", "--ocsp")
    assert failed.exit_code == 1
    assert "could not be reached" in failed.output and len(failed.output.strip().splitlines()) == 1
    assert not (tmp_path / "never.mp4").exists()


def test_a_published_response_file_is_attached_without_network(run, make_clip, tmp_path: Path) -> None:
    authority = make_org_ca(tmp_path / "ca")  # no responder running at all
    (tmp_path / "c").mkdir()
    creator = issue_creator(authority, tmp_path / "c", "Offline Signer")
    status = tmp_path / "status.der"
    assert (
        run("keys", "ca", "ocsp-response", creator.chain, "-o", status, "--ca", authority.ca.directory).exit_code == 0
    )
    out = tmp_path / "signed.mp4"
    signed = _sign(run, creator, make_clip("mp4"), out, "--ocsp-response", status)
    assert signed.exit_code == 0, signed.output
    code, report = _verify(run, authority, out)
    assert code == 0 and _codes(report).get("signingCredential.ocsp.notRevoked") == "success"
    # a response about someone else is refused
    (tmp_path / "d").mkdir()
    other = issue_creator(authority, tmp_path / "d", "Someone Else")
    wrong = _sign(run, other, make_clip("mp4"), tmp_path / "wrong.mp4", "--ocsp-response", status)
    assert wrong.exit_code == 1 and "not about this certificate" in wrong.output
    garbage = tmp_path / "garbage.der"
    garbage.write_bytes(b"\x00" * 50)
    bad = _sign(run, creator, make_clip("mp4"), tmp_path / "bad.mp4", "--ocsp-response", garbage)
    assert bad.exit_code == 1 and "not an OCSP response" in bad.output
    fifo = tmp_path / "status.fifo"
    os.mkfifo(fifo)  # never read (it would block): refused, exit 5
    blocked = _sign(run, creator, make_clip("mp4"), tmp_path / "fifo.mp4", "--ocsp-response", fifo)
    assert blocked.exit_code == 5 and "not a regular file" in blocked.output


def test_sign_ocsp_needs_a_certificate_that_names_a_responder(run, make_clip, tmp_path: Path) -> None:
    # the tests' development PKI issues no AIA
    result = run("sign", make_clip("mp4"), "-o", tmp_path / "x.mp4", "--ocsp")
    assert result.exit_code == 6 and "names no OCSP responder" in result.output


def test_an_edit_with_ocsp_also_fetches_the_parent_signers_status(run, org, make_clip, tmp_path: Path) -> None:
    """builder.certificate_status_fetch: c2pa-rs asks the parent's responder
    (by GET; provenance's own client POSTs) and keeps the answer."""
    authority, work = org
    original = _creator(org, "Original Author")
    editor = _creator(org, "Desk Editor")
    parent = tmp_path / "parent.mp4"
    assert _sign(run, original, make_clip("mp4"), parent).exit_code == 0  # no status attached
    log = work / "responder.log"
    gets_before = log.read_text().count("GET good")
    edited = tmp_path / "edited.mp4"
    result = run("remux", parent, "-o", edited, "--key", editor.key, "--cert", editor.chain, "--ocsp")
    assert result.exit_code == 0, result.output
    assert log.read_text().count("GET good") == gets_before + 1
    code, report = _verify(run, authority, edited)
    assert code == 0 and report["verdict"] == "verified"
    assert _codes(report).get("signingCredential.ocsp.notRevoked") == "success"  # the editor's own


def test_a_signer_command_attaches_the_status_too(run, org, make_clip, tmp_path: Path) -> None:
    """Only the certificate is asked about, so a key held elsewhere (here a
    stand-in KMS command) gets its status attached like a key file."""
    import shlex
    import sys

    authority, _ = org
    creator = _creator(org, "Kms Creator")
    script = Path(__file__).resolve().parents[1] / "sign_with_key_file.py"
    command = shlex.join([sys.executable, str(script), str(creator.key)])
    out = tmp_path / "kms.mp4"
    result = run("sign", make_clip("mp4"), "-o", out, "--signer-command", command, "--cert", creator.chain, "--ocsp")
    assert result.exit_code == 0, result.output
    code, report = _verify(run, authority, out)
    assert code == 0 and _codes(report).get("signingCredential.ocsp.notRevoked") == "success"
