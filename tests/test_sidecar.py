"""Sidecars: ``sign --sidecar`` leaves the clip unchanged and writes
NAME.c2pa bound by a data hash; ``verify`` finds it, and says when the clip
changed or the sidecar belongs to another clip. ``sign --remux`` is the
other route for WebM/MKV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.credentials import bridge
from provenance.credentials.model import StatusKind
from provenance.credentials.sidecar import candidates, find_sidecar, sidecar_path
from provenance.identity.signer import KeySigner
from provenance.media import formats
from provenance.media.video import make_sample_clip, probe
from provenance.signing import sign_sidecar
from provenance.trust.store import TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.conftest import sha256


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sidecar-clips")
    return {
        ext: make_sample_clip(folder / f"sample.{ext}", seconds=1.0, width=96, height=64) for ext in ("webm", "mkv")
    }


@pytest.fixture
def webm(clips: dict[str, Path], tmp_path: Path) -> Path:
    dst = tmp_path / "clip.webm"
    dst.write_bytes(clips["webm"].read_bytes())
    return dst


def test_sidecar_names_follow_c2patool() -> None:
    assert sidecar_path(Path("a/clip.webm")) == Path("a/clip.c2pa")
    assert candidates(Path("clip.webm")) == (Path("clip.webm.c2pa"), Path("clip.c2pa"))


def test_detect_any_names_containers_that_cannot_embed(clips: dict[str, Path], tmp_path: Path) -> None:
    assert formats.detect_any(clips["webm"]) is formats.WEBM
    assert formats.detect_any(clips["mkv"]) is formats.MKV
    other = tmp_path / "notes.bin"
    other.write_bytes(b"just bytes")
    assert formats.detect_any(other) is formats.OTHER


@pytest.mark.parametrize("ext", ["webm", "mkv"])
def test_sign_sidecar_leaves_the_clip_unchanged_and_verifies(
    ext: str, clips: dict[str, Path], run, tmp_path: Path
) -> None:
    clip = tmp_path / f"clip.{ext}"
    clip.write_bytes(clips[ext].read_bytes())
    before = sha256(clip)
    result = run("sign", clip, "--sidecar", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["mode"] == "sidecar" and data["output"] == str(tmp_path / "clip.c2pa")
    assert sha256(clip) == before
    assert find_sidecar(clip) == tmp_path / "clip.c2pa"

    card = run("verify", clip)
    assert card.exit_code == 0, card.output
    assert "from sidecar file (clip.c2pa)" in flat(card.output)
    report = json.loads(run("verify", clip, "--json").output)
    assert report["verdict"] == "verified"
    assert report["credentials_source"] == "sidecar"
    assert report["sidecar"] == str(tmp_path / "clip.c2pa")


def test_the_sidecar_is_bound_by_a_data_hash(webm: Path, signer: KeySigner, trust: TrustStore) -> None:
    result = sign_sidecar(webm, signer=signer)
    store = result.output.read_bytes()
    model = bridge.read_store(webm, mime_type="video/webm", trust=trust, manifest_data=store)
    assert model is not None and model.active is not None
    codes = [s.code for s in model.active.statuses if s.kind is StatusKind.SUCCESS]
    assert "assertion.dataHash.match" in codes
    assert not any("bmffHash" in code for code in codes)
    assert model.active.title == "clip.webm"
    assert not model.embedded


def test_sidecar_works_for_an_mp4_that_must_not_change(make_clip, signer: KeySigner, trust: TrustStore) -> None:
    clip = make_clip("mp4")
    before = sha256(clip)
    sign_sidecar(clip, signer=signer)
    assert sha256(clip) == before
    report = verify(clip, trust=trust)
    assert report.verdict is Verdict.VERIFIED and report.credentials_source == "sidecar"


def test_a_changed_clip_with_an_intact_sidecar_is_tampered(webm: Path, signer: KeySigner, run) -> None:
    sign_sidecar(webm, signer=signer)
    data = bytearray(webm.read_bytes())
    data[len(data) // 2] ^= 0x01
    webm.write_bytes(bytes(data))
    result = run("verify", webm)
    assert result.exit_code == 1
    assert "TAMPERED" in result.output
    assert "clip.webm changed after its sidecar clip.c2pa was signed" in flat(result.output)


def test_a_sidecar_of_another_clip_is_tampered_and_says_so(
    webm: Path, clips: dict[str, Path], signer: KeySigner, run, tmp_path: Path
) -> None:
    other = tmp_path / "other.webm"
    other.write_bytes(
        make_sample_clip(tmp_path / "src.webm", seconds=0.5, width=64, height=48, audio=False).read_bytes()
    )
    sidecar = sign_sidecar(other, signer=signer).output
    result = run("verify", webm, "--manifest", sidecar)
    assert result.exit_code == 1
    text = flat(result.output)
    assert "belongs to another clip" in text and "'other.webm'" in text
    report = json.loads(run("verify", webm, "--manifest", sidecar, "--json").output)
    assert report["verdict"] == "tampered"
    assert any("belongs to another clip" in n for n in report["notes"])


def test_webm_without_a_sidecar_says_what_to_do(webm: Path, run) -> None:
    result = run("verify", webm)
    assert result.exit_code == 5
    assert "no sidecar manifest" in result.output and "--sidecar" in result.output


@pytest.mark.parametrize("content", [b"", b"not a manifest at all"])
def test_an_unreadable_sidecar_is_a_bad_input(content: bytes, webm: Path, run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.c2pa"
    bad.write_bytes(content)
    result = run("verify", webm, "--manifest", bad)
    assert result.exit_code == 5, result.output
    assert "bad.c2pa" in result.output and "Traceback" not in result.output
    missing = run("verify", webm, "--manifest", tmp_path / "missing.c2pa")
    assert missing.exit_code == 5 and "not found" in missing.output


def test_an_existing_sidecar_is_kept_without_force(webm: Path, run) -> None:
    assert run("sign", webm, "--sidecar").exit_code == 0
    first = (webm.parent / "clip.c2pa").read_bytes()
    again = run("sign", webm, "--sidecar")
    assert again.exit_code == 2 and "exists" in again.output and "clip.webm.c2pa" in again.output
    assert (webm.parent / "clip.c2pa").read_bytes() == first
    assert run("sign", webm, "--sidecar", "--force").exit_code == 0


def test_the_more_specific_sidecar_wins(
    clips: dict[str, Path], signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    webm, mkv = tmp_path / "clip.webm", tmp_path / "clip.mkv"
    webm.write_bytes(clips["webm"].read_bytes())
    mkv.write_bytes(clips["mkv"].read_bytes())
    sign_sidecar(webm, signer=signer)  # clip.c2pa
    sign_sidecar(mkv, tmp_path / "clip.mkv.c2pa", signer=signer)
    assert verify(webm, trust=trust).verdict is Verdict.VERIFIED
    assert verify(mkv, trust=trust).sidecar == str(tmp_path / "clip.mkv.c2pa")


@pytest.mark.parametrize("ext", ["webm", "mkv"])
def test_sign_remux_embeds_into_mp4(ext: str, clips: dict[str, Path], run, tmp_path: Path) -> None:
    clip = tmp_path / f"clip.{ext}"
    clip.write_bytes(clips[ext].read_bytes())
    before = sha256(clip)
    out = tmp_path / "clip.mp4"
    result = run("sign", clip, "-o", out, "--remux", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["mode"] == "remuxed"
    assert sha256(clip) == before
    assert probe(out).video_codec == probe(clip).video_codec  # stream copy, no re-encode
    report = json.loads(run("verify", out, "--json").output)
    assert report["verdict"] == "verified"
    assert [a["action"] for a in report["actions"]] == ["c2pa.created", "c2pa.repackaged", "c2pa.published"]
    assert report["actions"][1]["parameters"]["from"] == formats.detect_any(clip).name


def test_sign_without_output_or_with_both_routes_is_a_usage_error(webm: Path, run, tmp_path: Path) -> None:
    assert run("sign", webm).exit_code == 2
    both = run("sign", webm, "-o", tmp_path / "x.mp4", "--sidecar", "--remux")
    assert both.exit_code == 2 and "exclude each other" in both.output


def flat(text: str) -> str:
    """CLI output as one line: the card wraps at the terminal's width."""
    return " ".join(text.replace("│", " ").split())


def test_an_embedded_store_wins_and_a_sidecar_beside_it_is_mentioned(
    signed_clip: Path, signer: KeySigner, trust: TrustStore
) -> None:
    sign_sidecar(signed_clip, signer=signer)  # the embedded credentials become its parent
    report = verify(signed_clip, trust=trust)
    assert report.credentials_source == "embedded" and report.verdict is Verdict.VERIFIED
    assert any("signed.c2pa" in note and "--manifest" in note for note in report.notes)
    via_sidecar = verify(signed_clip, trust=trust, manifest=signed_clip.with_suffix(".c2pa"))
    assert via_sidecar.verdict is Verdict.VERIFIED and via_sidecar.credentials_source == "sidecar"
    assert via_sidecar.ingredients[0].verdict is Verdict.VERIFIED  # the embedded manifest, kept as parent


def test_an_identity_policy_applies_to_sidecar_credentials(webm: Path, run) -> None:
    assert run("sign", webm, "--sidecar").exit_code == 0
    assert run("verify", webm, "--expect-signer", "Jane Doe").exit_code == 0
    wrong = run("verify", webm, "--expect-org", "Other News", "--json")
    data = json.loads(wrong.output)
    assert wrong.exit_code == 7 and data["verdict"] == "wrong_signer" and data["credentials_source"] == "sidecar"
    assert data["policy_failures"] and "Example News" in data["policy_failures"][0]


def test_flat_hash_does_not_apply_to_a_sidecar(webm: Path, run) -> None:
    result = run("sign", webm, "--sidecar", "--flat-hash")
    assert result.exit_code == 2 and "--flat-hash" in result.output and not sidecar_path(webm).exists()


def test_remux_binds_merkle_leaves_unless_flat_hash(
    webm: Path, signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    from provenance.signing import sign_remuxed

    def hash_assertion(path: Path) -> dict:
        model = bridge.read_store(path, mime_type="video/mp4", trust=TrustStore())
        assert model is not None and model.active is not None
        return model.active.assertion("c2pa.hash.bmff").data

    merkle = sign_remuxed(webm, tmp_path / "m.mp4", signer=signer).output
    flat = sign_remuxed(webm, tmp_path / "f.mp4", signer=signer, flat_hash=True).output
    assert "merkle" in hash_assertion(merkle) and "merkle" not in hash_assertion(flat)
    assert verify(merkle, trust=trust).verdict is verify(flat, trust=trust).verdict is Verdict.VERIFIED
