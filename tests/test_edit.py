"""Edits that keep the chain: transcode, trim and remux on real PyAV clips
(MP4, MOV, AVI; WebM/MKV through their sidecars), signed with the source
as parent; unsigned sources; refusal of tampered ones; bad input."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.edit import remux, transcode, trim
from provenance.errors import InvalidParentError, OutputExistsError, UsageError
from provenance.identity.signer import KeySigner
from provenance.media import boxes
from provenance.media.transcode import keyframe_times
from provenance.media.video import make_sample_clip, probe
from provenance.signing import sign, sign_sidecar
from provenance.trust.store import TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.conftest import sha256

CONTAINERS = ["mp4", "mov", "avi"]


@pytest.fixture(scope="module")
def three_second(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Tiny 3-second clips (keyframes at 0, 1, 2 s) per container, made once."""
    cache: dict[str, Path] = {}

    def make(ext: str) -> Path:
        if ext not in cache:
            cache[ext] = make_sample_clip(
                tmp_path_factory.mktemp("three") / f"clip.{ext}", seconds=3.0, width=160, height=120
            )
        return cache[ext]

    return make


@pytest.fixture
def signed(three_second: Callable[[str], Path], signer: KeySigner, tmp_path: Path) -> Callable[[str], Path]:
    def make(ext: str) -> Path:
        return sign(three_second(ext), tmp_path / f"signed.{ext}", signer=signer).output

    return make


@pytest.mark.parametrize("ext", CONTAINERS)
def test_transcode_records_parent_and_actions(
    ext: str, signed, signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    src = signed(ext)
    before = sha256(src)
    out = tmp_path / f"out.{ext}"
    result = transcode(src, out, signer=signer, trust=trust, height=96, fps=None, audio="aac")
    assert sha256(src) == before
    assert result.parent_verdict == "verified" and result.parent_credentials == "embedded"
    info = probe(out)
    assert (info.width, info.height) == (128, 96)
    assert info.video_codec == ("mpeg4" if ext == "avi" else "h264")

    report = verify(out, trust=trust)
    assert report.verdict is Verdict.VERIFIED
    names = [a.action for a in report.actions]
    assert names == ["c2pa.opened", "c2pa.transcoded", "c2pa.resized"]
    params = report.actions[1].parameters
    assert params["container"] == ext.upper() and params["audio"] == "aac" and params["frameRate"] == "30"
    parent = report.ingredients[0]
    assert (parent.relationship, parent.title, parent.verdict) == ("parentOf", src.name, Verdict.VERIFIED)
    assert report.chain_summary == "signed by Jane Doe (trusted); original by Jane Doe (trusted)"


def test_transcode_without_resize_records_no_resized_action(
    signed, signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    out = transcode(signed("mp4"), tmp_path / "out.mp4", signer=signer, trust=trust, crf=35, audio="none").output
    report = verify(out, trust=trust)
    assert [a.action for a in report.actions] == ["c2pa.opened", "c2pa.transcoded"]
    assert report.actions[1].parameters["crf"] == 35
    assert probe(out).audio_codec is None


@pytest.mark.parametrize("ext", CONTAINERS)
def test_trim_on_keyframes_copies_streams(
    ext: str, signed, signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    src = signed(ext)
    keyframes = keyframe_times(src)
    assert len(keyframes) >= 3
    start, end = keyframes[1], keyframes[2]
    out = tmp_path / f"trim.{ext}"
    trim(src, out, signer=signer, trust=trust, start=start, end=end)
    report = verify(out, trust=trust)
    assert report.verdict is Verdict.VERIFIED
    edited = report.actions[1]
    assert edited.action == "c2pa.edited"
    assert edited.parameters["method"] == "stream copy"
    assert edited.parameters["start"] == pytest.approx(start) and edited.parameters["end"] == pytest.approx(end)
    assert probe(out).duration == pytest.approx(end - start, abs=0.1)


@pytest.mark.parametrize("ext", CONTAINERS)
def test_trim_between_keyframes_reencodes(
    ext: str, signed, signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    out = tmp_path / f"trim.{ext}"
    trim(signed(ext), out, signer=signer, trust=trust, start=0.5, end=1.75)
    params = verify(out, trust=trust).actions[1].parameters
    assert params["method"] == "re-encode"
    assert (params["start"], params["end"]) == (0.5, 1.75)
    assert probe(out).duration == pytest.approx(1.25, abs=0.1)


@pytest.mark.parametrize(("ext", "target"), [("mov", "mp4"), ("mp4", "mov"), ("avi", "mp4")])
def test_remux_changes_only_the_container(
    ext: str, target: str, signed, signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    src = signed(ext)
    out = tmp_path / f"remuxed.{target}"
    result = remux(src, out, signer=signer, trust=trust)
    assert result.actions[0]["parameters"]["from"] == ext.upper()
    before, after = probe(src), probe(out)
    assert (after.video_codec, after.width, after.height) == (before.video_codec, before.width, before.height)
    report = verify(out, trust=trust)
    assert report.verdict is Verdict.VERIFIED
    assert report.actions[1].action == "c2pa.repackaged"
    assert report.actions[1].parameters["to"] == target.upper()
    assert report.ingredients[0].verdict is Verdict.VERIFIED


@pytest.mark.parametrize("ext", ["webm", "mkv"])
def test_webm_and_mkv_with_sidecar_remux_to_mp4_keeping_the_chain(
    ext: str, signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    clip = make_sample_clip(tmp_path / f"clip.{ext}", seconds=1.0, width=96, height=64)
    sign_sidecar(clip, signer=signer)
    before = sha256(clip)
    result = remux(clip, tmp_path / "clip.mp4", signer=signer, trust=trust)
    assert sha256(clip) == before
    assert result.parent_credentials == "sidecar" and result.parent_verdict == "verified"
    report = verify(tmp_path / "clip.mp4", trust=trust)
    assert report.verdict is Verdict.VERIFIED
    parent = report.ingredients[0]
    assert parent.verdict is Verdict.VERIFIED and parent.title == clip.name
    assert parent.signer is not None and parent.signer.common_name == "Jane Doe"
    assert report.chain_summary == "signed by Jane Doe (trusted); original by Jane Doe (trusted)"


def test_editing_an_unsigned_clip_records_an_unsigned_source(make_clip, run, tmp_path: Path) -> None:
    src = make_clip("mp4")
    out = tmp_path / "edited.mp4"
    result = run("trim", src, "-o", out, "--start", "0", "--end", "0.5", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["parent_verdict"] == "no_credentials"
    card = run("verify", out)
    assert card.exit_code == 0, card.output
    assert "the original was not signed" in flat(card.output)
    report = json.loads(run("verify", out, "--json").output)
    assert report["ingredients"][0]["verdict"] == "no_credentials"
    assert report["chain_summary"] == "signed by Jane Doe (trusted); the original was not signed"
    assert report["chain_verdict"] == "no_credentials"


def test_a_tampered_parent_is_refused(signed, signer: KeySigner, trust: TrustStore, run, tmp_path: Path) -> None:
    src = signed("mp4")
    boxes.flip_media_byte(src)
    before = sha256(src)
    out = tmp_path / "out.mp4"
    with pytest.raises(InvalidParentError):
        transcode(src, out, signer=signer, trust=trust)
    result = run("transcode", src, "-o", out)
    assert result.exit_code == 1
    assert "tampered" in result.output and "--allow-invalid-parent" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and sha256(src) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.mp4")]  # no scratch left behind


def test_allow_invalid_parent_records_the_failure(signed, run, tmp_path: Path) -> None:
    src = signed("mp4")
    boxes.flip_media_byte(src)
    out = tmp_path / "out.mp4"
    result = run("transcode", src, "-o", out, "--allow-invalid-parent")
    assert result.exit_code == 0, result.output
    assert "TAMPERED" in flat(result.output)
    verified = run("verify", out, "--json")
    report = json.loads(verified.output)
    assert verified.exit_code == 0  # the active manifest is intact and trusted
    parent = report["ingredients"][0]
    assert parent["verdict"] == "tampered"
    assert "assertion.bmffHash.mismatch" in [s["code"] for s in parent["status"] if s["kind"] == "failure"]
    assert report["chain_summary"] == "signed by Jane Doe (trusted); original by Jane Doe (tampered)"
    assert report["chain_verdict"] == "tampered"


def test_a_tampered_sidecar_parent_is_refused_then_recorded(
    signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    clip = make_sample_clip(tmp_path / "clip.webm", seconds=1.0, width=96, height=64, audio=False)
    sign_sidecar(clip, signer=signer)
    data = bytearray(clip.read_bytes())
    data[-40] ^= 0x01
    clip.write_bytes(bytes(data))
    with pytest.raises(InvalidParentError):
        remux(clip, tmp_path / "clip.mp4", signer=signer, trust=trust)
    remux(clip, tmp_path / "clip.mp4", signer=signer, trust=trust, allow_invalid_parent=True)
    parent = verify(tmp_path / "clip.mp4", trust=trust).ingredients[0]
    assert parent.verdict is Verdict.TAMPERED
    assert "assertion.dataHash.mismatch" in [s.code for s in parent.status]


def test_outputs_are_refused_when_they_cannot_be_written(signed, signer: KeySigner, tmp_path: Path) -> None:
    src = signed("mp4")
    with pytest.raises(UsageError, match="output is the input"):
        transcode(src, src, signer=signer)
    existing = tmp_path / "exists.mp4"
    existing.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError):
        remux(src, existing, signer=signer)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(UsageError, match="cannot carry embedded credentials"):
        remux(src, tmp_path / "out.webm", signer=signer)
    with pytest.raises(UsageError, match="names no container"):
        transcode(src, tmp_path / "out.txt", signer=signer)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2", "--end", "1"], "not a span"),
        (["--start", "9"], "only"),
        (["--end", "99"], "only"),
        (["--start", "soon"], "not a time"),
        (["--tolerance", "-1"], "must not be negative"),
    ],
)
def test_bad_trim_ranges_are_usage_errors(args: list[str], message: str, make_clip, run, tmp_path: Path) -> None:
    result = run("trim", make_clip("mp4"), "-o", tmp_path / "out.mp4", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--crf", "20", "--bitrate", "1M"], "exclude each other"),
        (["--video-codec", "mpeg4", "--crf", "20"], "does not apply"),
        (["--bitrate", "fast"], "not a bit rate"),
        (["--fps", "0"], "out of range"),
    ],
)
def test_bad_transcode_options_are_usage_errors(args: list[str], message: str, make_clip, run, tmp_path: Path) -> None:
    result = run("transcode", make_clip("mp4"), "-o", tmp_path / "out.mp4", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_cli_edits_print_what_they_recorded(signed, run, tmp_path: Path) -> None:
    src = signed("mov")
    result = run("transcode", src, "-o", tmp_path / "out.mp4", "--height", "60", "--fps", "15", "--bitrate", "300k")
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "c2pa.transcoded" in out and "c2pa.resized" in out and "bitrate=300000" in out
    assert "kept as parent" in out
    info = probe(tmp_path / "out.mp4")
    assert info.height == 60 and info.fps == 15
    remuxed = run("remux", src, "-o", tmp_path / "out2.mp4", "--json")
    assert remuxed.exit_code == 0, remuxed.output
    assert json.loads(remuxed.output)["actions"][0]["action"] == "c2pa.repackaged"


def test_streams_the_output_container_refuses_are_usage_errors(make_clip, run, tmp_path: Path) -> None:
    webm = make_sample_clip(tmp_path / "clip.webm", seconds=0.5, width=64, height=48)  # VP9 + Opus
    copied = run("transcode", webm, "-o", tmp_path / "out.mov")  # MOV takes no Opus by stream copy
    assert copied.exit_code == 2, copied.output
    assert "opus audio (copy) cannot be written to MOV" in flat(copied.output) and "--audio aac" in copied.output
    assert run("transcode", webm, "-o", tmp_path / "out.mov", "--audio", "aac").exit_code == 0
    remuxed = run("remux", make_clip("mp4"), "-o", tmp_path / "out.avi")  # H.264 from MP4 is not AVI-ready
    assert remuxed.exit_code == 2, remuxed.output
    assert "cannot be copied into AVI" in flat(remuxed.output) and "provenance transcode" in remuxed.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # scratch files removed


def test_missing_input_is_a_bad_input(run, tmp_path: Path) -> None:
    result = run("remux", tmp_path / "nope.mp4", "-o", tmp_path / "out.mp4")
    assert result.exit_code == 5
    assert "no such file" in result.output


def test_a_damaged_source_is_a_bad_input(signed, run, tmp_path: Path) -> None:
    src = signed("mp4")
    damaged = tmp_path / "damaged.mp4"
    shutil.copyfile(src, damaged)
    with open(damaged, "r+b") as fh:
        fh.truncate(damaged.stat().st_size // 3)
    result = run("transcode", damaged, "-o", tmp_path / "out.mp4")
    assert result.exit_code in (1, 5), result.output  # a truncated store is invalid or unreadable
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.mp4").exists()


def flat(text: str) -> str:
    """CLI output as one line: the card wraps at the terminal's width."""
    return " ".join(text.replace("│", " ").split())


def test_edits_bind_merkle_leaves_unless_flat_hash(
    signed, signer: KeySigner, trust: TrustStore, run, tmp_path: Path
) -> None:
    from provenance.credentials import bridge

    def hash_assertion(path: Path) -> dict:
        model = bridge.read_store(path, mime_type="video/mp4", trust=TrustStore())
        assert model is not None and model.active is not None
        return model.active.assertion("c2pa.hash.bmff").data

    src = signed("mp4")
    merkle = remux(src, tmp_path / "m.mp4", signer=signer, trust=trust).output
    assert run("trim", src, "-o", tmp_path / "f.mp4", "--end", "1", "--flat-hash").exit_code == 0
    assert "merkle" in hash_assertion(merkle) and "merkle" not in hash_assertion(tmp_path / "f.mp4")
    for out in (merkle, tmp_path / "f.mp4"):
        report = verify(out, trust=trust)
        assert report.verdict is Verdict.VERIFIED and report.ingredients[0].verdict is Verdict.VERIFIED


def test_an_edit_refuses_a_certificate_validators_reject_before_any_work(
    signed, signer: KeySigner, tmp_path: Path
) -> None:
    from provenance.errors import ProvenanceError
    from provenance.identity.profile import ProfileError
    from tests.certfactory import MiniCA

    ca = MiniCA.make("Edit Org")
    key, leaf = ca.leaf(ca=True)  # a CA certificate as claim signer: validators reject it
    bad = KeySigner(key, chain=[leaf, ca.issuing])
    src = signed("mp4")
    before = sha256(src)
    with pytest.raises(ProfileError) as caught:
        transcode(src, tmp_path / "out.mp4", signer=bad, height=64)
    assert isinstance(caught.value, ProvenanceError) and "cA=TRUE" in caught.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signed.mp4"] and sha256(src) == before


def test_edits_judge_the_source_by_the_trust_store_unless_told_not_to(three_second, run, tmp_path: Path) -> None:
    from provenance.identity.certificates import pem
    from tests.certfactory import MiniCA

    ca = MiniCA.make("Wire Agency")
    key, leaf = ca.leaf()
    src = sign(three_second("mp4"), tmp_path / "wire.mp4", signer=KeySigner(key, chain=[leaf, ca.issuing])).output
    root = tmp_path / "wire-root.pem"
    root.write_bytes(pem(ca.root))
    assert run("trust", "add", "wire", root, "--title", "Wire Agency roots").exit_code == 0

    stored = run("remux", src, "-o", tmp_path / "a.mov", "--json")
    assert stored.exit_code == 0, stored.output
    assert json.loads(stored.output)["parent_verdict"] == "verified"
    ignored = run("remux", src, "-o", tmp_path / "b.mov", "--no-trust-store", "--json")
    assert ignored.exit_code == 0, ignored.output
    assert json.loads(ignored.output)["parent_verdict"] == "untrusted"
