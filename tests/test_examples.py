"""Every example in examples/ runs, as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from provenance import Verdict, verify
from provenance.identity.pki import DevPKI
from provenance.trust.store import TrustStore
from tests.helpers import tampered_copy

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_sign_on_publish(make_clip, pki: DevPKI, trust: TrustStore, tmp_path: Path) -> None:
    clip = make_clip("mov")
    out = tmp_path / "published.mov"
    proc = run_example(
        "sign_on_publish.py", "--key", pki.signer_key, "--cert", pki.chain, clip, out, "--title", "Harbour at dawn"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output"] == str(out)
    report = verify(out, trust=trust)
    assert (report.verdict, report.title) == (Verdict.VERIFIED, "Harbour at dawn")


def test_sign_on_publish_reports_a_bad_key_in_one_line(make_clip, tmp_path: Path, pki: DevPKI) -> None:
    proc = run_example(
        "sign_on_publish.py", "--key", tmp_path / "missing.key", "--cert", pki.chain, make_clip(), tmp_path / "out.mp4"
    )
    assert proc.returncode == 6
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1


def test_verify_on_upload_rejects_tampered(make_clip, signed_clip: Path, pki: DevPKI, tmp_path: Path) -> None:
    tampered = tampered_copy(signed_clip, tmp_path / "tampered.mp4")
    unsigned = make_clip("mp4", name="unsigned.mp4")
    proc = run_example("verify_on_upload.py", "--trust", pki.root_cert, signed_clip, tampered, unsigned)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{signed_clip}: accepted: signed by Jane Doe (Example News)"
    assert lines[1].startswith(f"{tampered}: rejected: tampered (assertion.")
    assert lines[2] == f"{unsigned}: accepted, labelled no_credentials"

    proc = run_example("verify_on_upload.py", "--trust", pki.root_cert, signed_clip)
    assert proc.returncode == 0


def test_transcode_and_resign(signed_clip: Path, pki: DevPKI, trust: TrustStore, tmp_path: Path) -> None:
    out = tmp_path / "rendition.mp4"
    proc = run_example(
        "transcode_and_resign.py",
        "--key",
        pki.signer_key,
        "--cert",
        pki.chain,
        "--trust",
        pki.root_cert,
        "--height",
        "48",
        signed_clip,
        out,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["operation"], result["parent_verdict"]) == ("transcode", "verified")
    report = verify(out, trust=trust)
    assert report.verdict is Verdict.VERIFIED
    assert report.title and report.title.endswith("(transcoded)")
    assert out.read_bytes() != signed_clip.read_bytes()
    # the chain is kept: the upload's manifest is the parent, with its own verdict
    actions = [a.action for a in report.actions]
    assert "c2pa.transcoded" in actions and "c2pa.resized" in actions
    (parent,) = report.ingredients
    assert (parent.relationship, parent.verdict) == ("parentOf", Verdict.VERIFIED)


def test_transcode_and_resign_refuses_tampered_input(signed_clip: Path, pki: DevPKI, tmp_path: Path) -> None:
    tampered = tampered_copy(signed_clip, tmp_path / "tampered.mp4")
    proc = run_example(
        "transcode_and_resign.py",
        "--key",
        pki.signer_key,
        "--cert",
        pki.chain,
        "--trust",
        pki.root_cert,
        tampered,
        tmp_path / "out.mp4",
    )
    assert proc.returncode == 1
    assert "refusing to transcode a tampered upload" in proc.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_no_example_or_page_names_a_chain_option() -> None:
    """Issue 12, item 9: examples said --chain where the CLI says --cert."""
    repo = EXAMPLES.parent
    pages = [repo / "README.md", *sorted((repo / "docs").rglob("*.md")), *sorted(EXAMPLES.glob("*.py"))]
    offenders = [f"{p.relative_to(repo)}" for p in pages if "--chain" in p.read_text(encoding="utf-8")]
    assert offenders == []
    help_text = subprocess.run(
        [sys.executable, str(EXAMPLES / "sign_on_publish.py"), "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "--cert" in help_text
