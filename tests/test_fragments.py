"""Fragmented MP4: ``verify INIT --segments GLOB`` gives one verdict per
media segment and says which are intact, tampered or missing (corpus
dashinit.mp4 + dash1.m4s, a modified copy, the init segment alone)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provenance.errors import UsageError
from provenance.media.fragments import is_init_segment, sequence_number
from provenance.verification.fragments import find_segments, verify_fragments
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify


@pytest.fixture
def dash(corpus: Path, tmp_path: Path) -> Path:
    """A writable copy of the corpus DASH pair, in its own folder."""
    for name in ("dashinit.mp4", "dash1.m4s"):
        shutil.copyfile(corpus / "fragmented" / name, tmp_path / name)
    return tmp_path


def _modified(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    data[-1000] ^= 0xFF  # inside the segment's mdat
    dst.write_bytes(bytes(data))
    return dst


def _renumbered(src: Path, dst: Path, number: int) -> Path:
    data = bytearray(src.read_bytes())
    at = data.index(b"mfhd") + 8
    data[at : at + 4] = number.to_bytes(4, "big")
    dst.write_bytes(bytes(data))
    return dst


def test_segment_structure_is_read_from_box_headers(dash: Path) -> None:
    assert is_init_segment(dash / "dashinit.mp4")
    assert not is_init_segment(dash / "dash1.m4s")
    assert sequence_number(dash / "dash1.m4s") == 1
    assert sequence_number(dash / "dashinit.mp4") is None


def test_init_with_its_segment_is_intact(dash: Path) -> None:
    report = verify_fragments(dash / "dashinit.mp4", [dash / "dash1.m4s"])
    assert [s.verdict for s in report.segments] == [Verdict.UNTRUSTED]  # intact; the corpus signer is a test cert
    assert report.verdict is Verdict.UNTRUSTED
    assert report.missing == ()
    assert report.summary == "1 of 1 segment intact"
    assert report.manifest.signer is not None


def test_a_modified_segment_is_tampered(dash: Path) -> None:
    bad = _modified(dash / "dash1.m4s", dash / "dash1-modified.m4s")
    report = verify_fragments(dash / "dashinit.mp4", [dash / "dash1.m4s", bad])
    verdicts = {Path(s.file).name: s.verdict for s in report.segments}
    assert verdicts == {"dash1.m4s": Verdict.UNTRUSTED, "dash1-modified.m4s": Verdict.TAMPERED}
    assert report.verdict is Verdict.TAMPERED
    assert "tampered or unreadable: dash1-modified.m4s" in report.summary
    bad_result = next(s for s in report.segments if s.verdict is Verdict.TAMPERED)
    assert any(f.code == "assertion.bmffHash.mismatch" for f in bad_result.failures)


def test_a_gap_in_sequence_numbers_is_reported_missing(dash: Path) -> None:
    third = _renumbered(dash / "dash1.m4s", dash / "dash3.m4s", 3)
    report = verify_fragments(dash / "dashinit.mp4", [third, dash / "dash1.m4s"])
    assert [s.sequence_number for s in report.segments] == [1, 3]
    assert report.missing == (2,)
    assert "missing: sequence 2" in report.summary
    assert report.verdict is Verdict.TAMPERED


def test_the_init_segment_alone_does_not_verify(dash: Path, run) -> None:
    report = verify(dash / "dashinit.mp4")
    assert report.verdict is Verdict.TAMPERED
    assert any("--segments" in note for note in report.notes)
    with pytest.raises(UsageError):
        verify_fragments(dash / "dashinit.mp4", [])
    result = run("verify", dash / "dashinit.mp4", "--segments", str(dash / "nothing*.m4s"))
    assert result.exit_code == 2 and "no files match" in result.output


def test_cli_reports_each_segment(dash: Path, run) -> None:
    _modified(dash / "dash1.m4s", dash / "dash2.m4s")
    result = run("verify", dash / "dashinit.mp4", "--segments", str(dash / "dash*.m4s"))
    assert result.exit_code == 1, result.output
    out = flat(result.output)
    assert "1 of 2 segments intact" in out
    assert "dash1.m4s" in out and "dash2.m4s" in out and "TAMPERED" in out

    data = json.loads(run("verify", dash / "dashinit.mp4", "--segments", str(dash / "dash1.m4s"), "--json").output)
    assert data["schema"] == "provenance.verify.fragments/1"
    assert data["verdict"] == "untrusted" and data["missing"] == []
    assert [s["verdict"] for s in data["segments"]] == ["untrusted"]
    assert data["manifest"]["schema"] == "provenance.verify/1"


def test_segment_glob_falls_back_to_the_init_folder(
    dash: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert find_segments("dash*.m4s", init=dash / "dashinit.mp4") == [dash / "dash1.m4s"]


def test_segments_with_a_plain_mp4_is_refused(make_clip, run, dash: Path) -> None:
    result = run("verify", make_clip("mp4"), "--segments", str(dash / "dash1.m4s"))
    assert result.exit_code == 5
    assert "not the init segment" in result.output


def flat(text: str) -> str:
    """CLI output as one line: the card wraps at the terminal's width."""
    return " ".join(text.replace("│", " ").split())


def test_an_identity_policy_judges_every_segment(dash: Path, run) -> None:
    from provenance.credentials import bridge
    from provenance.trust.store import SourceKind, TrustSource, TrustStore
    from provenance.verification.policy import ExpectSigner

    init, segment = dash / "dashinit.mp4", dash / "dash1.m4s"
    store = bridge.read_fragment(init, segment, trust=TrustStore())
    assert store is not None and store.active is not None
    leaf = store.active.signature.chain[0]  # CN=Alice: pin her, so the segment verifies
    pinned = TrustStore().with_source(TrustSource("alice", SourceKind.ALLOWED, (leaf,)))
    assert verify_fragments(init, [segment], trust=pinned, policy=ExpectSigner("Alice")).verdict is Verdict.VERIFIED
    report = verify_fragments(init, [segment], trust=pinned, policy=ExpectSigner("Jane Doe"))
    assert [s.verdict for s in report.segments] == [Verdict.WRONG_SIGNER] and report.exit_code == 7
    assert report.manifest.policy_failures and "Alice" in report.manifest.policy_failures[0]

    leaf_pem = dash / "alice.pem"
    from provenance.identity.certificates import pem

    leaf_pem.write_bytes(pem(leaf))
    cli = run(
        "verify", init, "--segments", str(segment), "--allowed", leaf_pem, "--expect-signer", "Jane Doe", "--json"
    )
    assert cli.exit_code == 7 and json.loads(cli.output)["verdict"] == "wrong_signer"
    both = run("verify", init, "--segments", str(segment), "--manifest", leaf_pem)
    assert both.exit_code == 2 and "exclude each other" in both.output
