"""`provenance verify PATH...` and `provenance sign PATH... -o OUTDIR`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

import provenance.cli.batch as batch_cli
from provenance.identity.pki import DevPKI
from provenance.trust.store import TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.helpers import tampered_copy


@pytest.fixture
def uploads(make_clip, signed_clip: Path, tmp_path: Path) -> Path:
    """A folder with one clip of each kind, and a text file the walk ignores."""
    folder = tmp_path / "uploads"
    (folder / "day1").mkdir(parents=True)
    signed_clip.rename(folder / "signed.mp4")
    tampered_copy(folder / "signed.mp4", folder / "day1" / "tampered.mp4")
    make_clip("mov").rename(folder / "day1" / "plain.mov")
    (folder / "notes.txt").write_text("not a clip")
    return folder


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_one_file_keeps_the_card_and_the_json(run, signed_clip: Path) -> None:
    result = run("verify", signed_clip)
    assert result.exit_code == 0
    assert "VERIFIED" in result.stdout and "Jane Doe" in result.stdout and "files" not in result.stdout
    result = run("verify", signed_clip, "--json")
    assert json.loads(result.stdout)["verdict"] == "verified"  # one JSON document, not JSON lines


def test_verify_a_folder_records_each_file_and_exits_with_the_worst(run, uploads: Path, tmp_path: Path, trust) -> None:
    log = tmp_path / "reports.jsonl"
    result = run("verify", uploads, "--jsonl", log, "-j", "1")
    assert result.exit_code == 1, result.output  # tampered is the worst here
    records = {Path(r["file"]).name: r for r in jsonl(log.read_text())}
    assert {n: r["verdict"] for n, r in records.items()} == {
        "signed.mp4": "verified",
        "tampered.mp4": "tampered",
        "plain.mov": "no_credentials",
    }
    # The same schema as `verify --json`, field for field.
    single = json.loads(run("verify", uploads / "signed.mp4", "--json").stdout)
    assert records["signed.mp4"] == single
    # The summary: counts per verdict, and the failure listed with its reason.
    assert "3 files" in result.stdout
    assert "✔ verified" in result.stdout and "✗ tampered" in result.stdout and "○ no credentials" in result.stdout
    assert "Failures (1)" in result.stdout and "tampered.mp4" in result.stdout
    assert "bytes changed after signing" in result.stdout
    assert "━" not in result.stderr  # no progress bar when stderr is not a terminal


def test_json_lines_on_stdout_and_the_summary_on_stderr(run, uploads: Path) -> None:
    result = run("verify", uploads / "signed.mp4", uploads / "day1", "--json", "-j", "1")
    # One job: in input order (the folder's files sorted by name).
    assert [r["verdict"] for r in jsonl(result.stdout)] == ["verified", "no_credentials", "tampered"]
    assert "Failures (1)" in result.stderr


def test_a_bad_file_is_recorded_and_the_batch_goes_on(run, uploads: Path, tmp_path: Path) -> None:
    (uploads / "broken.mp4").write_bytes(b"this is not a video")
    missing = tmp_path / "missing.mp4"
    result = run("verify", uploads, missing, "--jsonl", "-", "-j", "2")
    records = {Path(r["file"]).name: r for r in jsonl(result.stdout)}
    assert len(records) == 5
    assert records["broken.mp4"]["verdict"] == "error" and records["broken.mp4"]["error"]
    assert records["missing.mp4"]["verdict"] == "error" and "no such file" in records["missing.mp4"]["error"]
    assert records["signed.mp4"]["verdict"] == "verified"
    assert result.exit_code == 5  # error is the worst verdict


def test_resume_skips_what_the_log_already_has(run, uploads: Path, make_clip, tmp_path: Path) -> None:
    log = tmp_path / "reports.jsonl"
    assert run("verify", uploads, "--jsonl", log, "-j", "1").exit_code == 1
    make_clip("mp4").rename(uploads / "late.mp4")
    result = run("verify", uploads, "--jsonl", log, "--resume", "-j", "1")
    records = jsonl(log.read_text())
    assert [Path(r["file"]).name for r in records].count("signed.mp4") == 1
    assert Path(records[-1]["file"]).name == "late.mp4" and len(records) == 4
    assert "3 already done in an earlier run" in result.stdout
    assert result.exit_code == 1  # the tampered clip of the first run still counts


def test_resume_needs_a_log_file(run, uploads: Path) -> None:
    result = run("verify", uploads, "--resume")
    assert result.exit_code == 2 and "--resume needs --jsonl" in result.stderr


def test_paths_from_stdin(run, uploads: Path) -> None:
    listing = f"{uploads / 'signed.mp4'}\n{uploads / 'day1' / 'plain.mov'}\n"
    result = run("verify", "-", "--jsonl", "-", input=listing)
    assert sorted(r["verdict"] for r in jsonl(result.stdout)) == ["no_credentials", "verified"]
    assert result.exit_code == 4


def test_nothing_to_do_is_a_usage_error(run, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("verify", tmp_path / "empty")
    assert result.exit_code == 2 and "no files to process" in result.stderr


def test_progress_bar_shows_on_a_terminal_unless_quiet(run, uploads: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(batch_cli, "console_err", Console(file=screen, force_terminal=True, width=120))
    run("verify", uploads, "-j", "1")
    assert "files" in screen.getvalue() and "━" in screen.getvalue()
    screen.truncate(0)
    run("verify", uploads, "-j", "1", "--quiet")
    assert screen.getvalue().strip("\x00") == ""


def test_sign_a_folder_keeps_the_layout_under_outdir(run, uploads: Path, tmp_path: Path, trust: TrustStore) -> None:
    (uploads / "day1" / "tampered.mp4").unlink()
    out = tmp_path / "signed"
    before = {p: p.read_bytes() for p in uploads.rglob("*") if p.is_file()}
    result = run("sign", uploads, "-o", out, "--title", "Batch", "-j", "2", "--jsonl", tmp_path / "sign.jsonl")
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "day1/plain.mov",
        "signed.mp4",
    ]
    assert verify(out / "day1" / "plain.mov", trust=trust).verdict is Verdict.VERIFIED
    report = verify(out / "signed.mp4", trust=trust)
    assert report.verdict is Verdict.VERIFIED and report.ingredients  # the earlier signature kept as parent
    assert before == {p: p.read_bytes() for p in uploads.rglob("*") if p.is_file()}  # inputs untouched
    records = jsonl((tmp_path / "sign.jsonl").read_text())
    assert {Path(r["input"]).name for r in records} == {"plain.mov", "signed.mp4"}
    assert all(r["error"] is None and r["manifest_id"] for r in records)

    # Again: the outputs exist, so each file fails (and says why) unless --force.
    result = run("sign", uploads, "-o", out, "-j", "1")
    assert result.exit_code == 2 and result.stdout.count("output file exists") == 2
    assert run("sign", uploads, "-o", out, "-j", "1", "--force").exit_code == 0


def test_sign_into_a_folder_inside_the_input_does_not_sign_its_own_outputs(run, uploads: Path) -> None:
    (uploads / "day1" / "tampered.mp4").unlink()
    out = uploads / "signed"
    assert run("sign", uploads, "-o", out, "-j", "1").exit_code == 0
    assert run("sign", uploads, "-o", out, "-j", "1", "--force").exit_code == 0
    assert not (out / "signed").exists()


def test_sign_one_file_into_an_existing_folder(run, make_clip, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run("sign", make_clip("mp4", name="one.mp4"), "-o", out, "-q")
    assert result.exit_code == 0 and (out / "one.mp4").is_file()


def test_sign_one_file_into_a_new_folder_named_with_a_slash(run, make_clip, tmp_path: Path) -> None:
    result = run("sign", make_clip("mp4", name="one.mp4"), "-o", f"{tmp_path / 'new'}/", "-q")
    assert result.exit_code == 0 and (tmp_path / "new" / "one.mp4").is_file()


def test_sign_one_file_to_a_file_is_unchanged(run, make_clip, tmp_path: Path) -> None:
    result = run("sign", make_clip(), "-o", tmp_path / "x.mp4")
    assert result.exit_code == 0 and result.stdout.startswith("✓ signed")


def test_sign_batch_with_a_bad_identity_stops_before_any_file(run, uploads: Path, tmp_path: Path, pki: DevPKI) -> None:
    result = run("sign", uploads, "-o", tmp_path / "out", "--key", tmp_path / "nokey.pem", "--cert", pki.chain)
    assert result.exit_code == 6 and "private key not found" in result.stderr
    assert not any((tmp_path / "out").rglob("*.mp4"))


# --- the identity policy, per file, and options that need one file ----------


def test_batch_verify_judges_every_file_by_the_identity_policy(run, signed_clip: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.mp4"
    second.write_bytes(signed_clip.read_bytes())
    result = run("verify", signed_clip, second, "--expect-signer", "Tom Cruise", "--jsonl", "-", "-j", "2")
    assert result.exit_code == 7, result.output  # wrong_signer, as for one file
    records = jsonl(result.stdout)
    assert [r["verdict"] for r in records] == ["wrong_signer", "wrong_signer"]
    reason = "expected signer 'Tom Cruise', but it was signed by Jane Doe (Example News)"
    assert all(r["policy_failures"] == [reason] for r in records)
    assert "Failures (2)" in result.stderr and reason in result.stderr and "✗ wrong signer" in result.stderr
    met = run(
        "verify",
        signed_clip,
        second,
        "--expect-signer",
        "jane@example.org",
        "--expect-org",
        "Example News",
        "--jsonl",
        "-",
        "-j",
        "1",
    )
    assert met.exit_code == 0 and {r["verdict"] for r in jsonl(met.stdout)} == {"verified"}


def test_batch_exit_code_and_summary_follow_verdict_severity(run, uploads: Path) -> None:
    """Worst last in the summary, and the worst decides the exit code:
    untrusted < wrong_signer < no_credentials < invalid < tampered < error."""
    wrong = run(
        "verify", uploads / "signed.mp4", uploads / "day1" / "plain.mov", "--expect-org", "Other News", "-j", "1"
    )
    assert wrong.exit_code == 4  # no credentials outranks wrong signer
    text = wrong.stdout
    assert text.index("✗ wrong signer") < text.index("○ no credentials")
    assert "Failures (1)" in text and "expected organisation 'Other News'" in text
    everything = run("verify", uploads, "--expect-org", "Other News", "-j", "1")
    assert everything.exit_code == 1  # tampered outranks both
    text = everything.stdout
    assert text.index("✗ wrong signer") < text.index("○ no credentials") < text.index("✗ tampered")


@pytest.mark.parametrize(
    "args, words",
    [
        (["verify", "{a}", "{b}", "--segments", "seg*.m4s"], "--segments verifies one fragmented MP4"),
        (["verify", "{dir}", "--manifest", "{a}"], "--manifest names the sidecar of one clip"),
        (["sign", "{a}", "{b}", "-o", "{out}", "--sidecar"], "--sidecar signs one clip"),
        (["sign", "{dir}", "-o", "{out}", "--remux"], "--remux signs one clip"),
        (["sign", "{a}", "{b}"], "a batch needs -o OUTDIR"),
    ],
)
def test_options_for_one_clip_are_refused_in_a_batch(
    run, uploads: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    names = {"a": uploads / "signed.mp4", "b": uploads / "day1" / "plain.mov", "dir": uploads, "out": tmp_path / "out"}
    result = run(*[arg.format(**names) for arg in args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
    assert not (tmp_path / "out").exists()


def test_batch_sign_passes_the_tsa_and_flat_hash_to_every_worker(
    run, uploads: Path, tsa, tsa_identity, trust: TrustStore, tmp_path: Path
) -> None:
    from provenance.credentials import bridge
    from provenance.trust.store import SourceKind

    (uploads / "day1" / "tampered.mp4").unlink()
    out = tmp_path / "signed"
    result = run(
        "sign", uploads, "-o", out, "-j", "2", "--tsa", tsa.url, "--flat-hash", "--jsonl", tmp_path / "s.jsonl"
    )
    assert result.exit_code == 0, result.output
    records = jsonl((tmp_path / "s.jsonl").read_text())
    assert len(records) == 2 and all(r["timestamp_authority"] == "Test Time Authority TSA" for r in records)
    tsa_root = tmp_path / "tsa-root.pem"
    tsa_root.write_bytes(tsa_identity.root_pem)
    stamped = trust.with_pem_file(tsa_root, kind=SourceKind.TSA, name="test tsa")
    for clip in (out / "signed.mp4", out / "day1" / "plain.mov"):
        report = verify(clip, trust=stamped)
        assert report.verdict is Verdict.VERIFIED and report.timestamped, report.status
        model = bridge.read_store(clip, mime_type="video/mp4", trust=TrustStore())
        assert model is not None and model.active is not None
        bmff = model.active.assertion("c2pa.hash.bmff").data
        assert "merkle" not in bmff  # --flat-hash reached the workers


def test_batch_sign_refuses_a_certificate_validators_reject_before_any_file(run, uploads: Path, tmp_path: Path) -> None:
    from provenance.identity import certificates as certs
    from provenance.identity.keys import write_private_key
    from tests.certfactory import MiniCA

    ca = MiniCA.make("Batch Org")
    key, leaf = ca.leaf(ca=True)  # a CA certificate as claim signer: validators reject it
    write_private_key(tmp_path / "ca.key", key)
    (tmp_path / "ca-chain.pem").write_bytes(certs.pem(leaf, ca.issuing))
    result = run(
        "sign",
        uploads,
        "-o",
        tmp_path / "out",
        "-j",
        "2",
        "--key",
        tmp_path / "ca.key",
        "--cert",
        tmp_path / "ca-chain.pem",
    )
    assert result.exit_code != 0 and "cA=TRUE" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not any((tmp_path / "out").rglob("*.*"))


def test_the_reason_given_is_the_failure_that_decided_the_verdict(run, uploads: Path, tmp_path: Path) -> None:
    # no trust: the tampered clip also fails signingCredential.untrusted, listed before the hash mismatch
    run("trust", "remove", "development-root")
    result = run("verify", uploads / "day1" / "tampered.mp4", uploads / "signed.mp4", "-j", "1")
    assert result.exit_code == 1
    failures = result.stdout[result.stdout.index("Failures") :]
    assert "tampered.mp4" in failures and "bytes changed after signing" in failures
    assert "no trusted authority vouches" not in failures
    from provenance.cli.render import headline  # the one-line form the demo prints

    line = headline(verify(uploads / "day1" / "tampered.mp4"))
    assert "TAMPERED" in line and "bytes changed after signing" in line


def test_one_file_with_json_and_a_jsonl_log_prints_the_report_and_logs_it(
    run, signed_clip: Path, tmp_path: Path
) -> None:
    """Issue 12, item 9: `verify one.mp4 --json --jsonl F` printed the batch
    summary instead of the JSON report."""
    log = tmp_path / "reports.jsonl"
    result = run("verify", signed_clip, "--json", "--jsonl", log)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # one JSON document, no summary
    assert report["verdict"] == "verified" and report["file"] == str(signed_clip)
    assert "files" not in result.output
    assert jsonl(log.read_text()) == [report]
    # other batch options do not turn one file with --json into JSON lines either
    quiet = run("verify", signed_clip, "--json", "-q", "-j", "1")
    assert json.loads(quiet.stdout)["verdict"] == "verified"
    # --resume appends to the log; --resume without a log stays a usage error
    assert run("verify", signed_clip, "--json", "--jsonl", log, "--resume").exit_code == 0
    assert len(jsonl(log.read_text())) == 2
    assert run("verify", signed_clip, "--json", "--resume").exit_code == 2


@pytest.mark.parametrize("existing", [False, True])
def test_a_batch_never_signs_into_a_folder_named_like_a_file(
    run, uploads: Path, make_clip, tmp_path: Path, existing: bool
) -> None:
    """Issue 12, item 9: `sign DIR -o one.mp4` created a folder named one.mp4."""
    out = tmp_path / ("taken.dat" if existing else "one.mp4")
    if existing:
        out.write_bytes(b"keep me")
    second = make_clip("mov", name="second.mov")
    for args in ((uploads,), (second, make_clip("mp4", name="third.mp4")), (second, "-j", "1")):
        result = run("sign", *args, "-o", out)
        assert result.exit_code == 2, result.output
        assert (
            result.stderr.count("\n") == 1 and f"-o {out}" in result.stderr and "signs into a folder" in result.stderr
        )
        assert out.read_bytes() == b"keep me" if existing else not out.exists()
    # a folder named like a file is still taken when it exists or ends with '/'
    if not existing:
        assert run("sign", second, "-j", "1", "-o", f"{out}/").exit_code == 0
        assert (out / "second.mov").is_file()
        assert run("sign", uploads, "-o", out, "-j", "1").exit_code == 1  # the tampered clip fails; the rest signed
        assert (out / "signed.mp4").is_file()
