"""`provenance verify PATH...` and `provenance sign PATH... -o OUTDIR`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from helpers import tampered_copy
from rich.console import Console

import provenance.cli.batch as batch_cli
from provenance.identity.pki import DevPKI
from provenance.trust.store import TrustStore
from provenance.verify.report import Verdict
from provenance.verify.verifier import verify


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
        "signed.mp4": "verified", "tampered.mp4": "tampered", "plain.mov": "no_credentials"}
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
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["day1/plain.mov", "signed.mp4"]
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
