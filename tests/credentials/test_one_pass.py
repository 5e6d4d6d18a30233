"""One-pass signing of flat MP4/MOV/M4V (provenance.credentials.one_pass),
its fallbacks to c2pa-rs's Builder.sign, and what it must keep: verdicts,
packets, offsets, time-stamps, atomic output."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
from pathlib import Path

import pytest

from provenance.credentials import one_pass
from provenance.errors import CredentialError, IdentityError
from provenance.identity.signer import KeySigner
from provenance.media import boxes, formats
from provenance.signing import sign
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.conftest import sha256
from tests.support.bmff import decoded_frames, packets, remux, top_level_kinds, with_co64


@pytest.mark.parametrize("ext", ["mp4", "mov", "m4v"])
def test_bmff_clips_with_audio_are_signed_in_one_pass_and_verify(ext, make_clip, signer, trust, tmp_path: Path) -> None:
    src = make_clip(ext)
    before = sha256(src)
    result = sign(src, tmp_path / f"out.{ext}", signer=signer)
    assert result.method == "one-pass" and result.to_dict()["method"] == "one-pass"
    assert sha256(src) == before
    report = verify(result.output, trust=trust)
    assert report.verdict is Verdict.VERIFIED, report.failures
    assert report.manifest_id == result.manifest_id
    assert {p[0] for p in packets(result.output)} == {0, 1}  # video and audio


@pytest.mark.parametrize("movflags", [None, "faststart"])
def test_packets_survive_in_both_layouts(movflags, make_clip, signer, trust, tmp_path: Path) -> None:
    src = remux(make_clip("mp4"), tmp_path / "in.mp4", movflags=movflags)
    kinds = top_level_kinds(src)
    assert (kinds.index(b"moov") < kinds.index(b"mdat")) is (movflags == "faststart")
    result = sign(src, tmp_path / "out.mp4", signer=signer)
    assert result.method == "one-pass"
    # moov first and one 64-bit mdat last, in either source layout: the
    # layout c2pa-rs and c2pa-ts hash alike
    kinds = top_level_kinds(result.output)
    assert kinds[:2] == [b"ftyp", b"uuid"] and b"moov" in kinds[2:-1] and kinds.count(b"mdat") == 1
    kind, at, size, _ = list(boxes.top_level(result.output, formats.MP4))[-1]
    with open(result.output, "rb") as fh:
        fh.seek(at)
        assert kind == b"mdat" and fh.read(4) == b"\0\0\0\1" and at + size == result.output.stat().st_size
    assert verify(result.output, trust=trust).verdict is Verdict.VERIFIED
    assert packets(result.output) == packets(src)  # bytes, pts and dts: every chunk offset moved right


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_flipped_media_byte_is_tampered(where, make_clip, signer, trust, tmp_path: Path) -> None:
    out = sign(make_clip("mp4"), tmp_path / "out.mp4", signer=signer).output
    mdat = next((o, s) for k, o, s, _ in boxes.top_level(out, formats.MP4) if k == b"mdat")
    at = {"first": mdat[0] + 16, "middle": mdat[0] + mdat[1] // 2, "last": mdat[0] + mdat[1] - 1}[where]
    with open(out, "r+b") as fh:
        fh.seek(at)
        byte = fh.read(1)[0]
        fh.seek(at)
        fh.write(bytes([byte ^ 0xFF]))
    assert verify(out, trust=trust).verdict is Verdict.TAMPERED


def test_co64_chunk_offsets_are_moved_and_the_clip_still_plays(make_clip, signer, trust, tmp_path: Path) -> None:
    plain = make_clip("mp4")
    src = with_co64(plain, tmp_path / "co64.mp4")
    assert b"co64" in src.read_bytes() and b"stco" not in src.read_bytes()
    assert packets(src) == packets(plain)  # the helper's rewrite is faithful
    result = sign(src, tmp_path / "out.mp4", signer=signer)
    assert result.method == "one-pass"
    assert verify(result.output, trust=trust).verdict is Verdict.VERIFIED
    assert packets(result.output) == packets(plain)
    assert decoded_frames(result.output) == decoded_frames(plain)


def test_avi_signs_through_c2pa(make_clip, signer, trust, tmp_path: Path) -> None:
    result = sign(make_clip("avi"), tmp_path / "out.avi", signer=signer)
    assert result.method == "c2pa-rs"
    assert verify(result.output, trust=trust).verdict is Verdict.VERIFIED


def test_a_signed_input_is_signed_through_c2pa_with_its_parent(
    signed_clip: Path, signer, trust, tmp_path: Path
) -> None:
    result = sign(signed_clip, tmp_path / "again.mp4", signer=signer)
    assert result.method == "c2pa-rs" and result.parent_manifest
    assert verify(result.output, trust=trust).verdict is Verdict.VERIFIED


def test_a_fragmented_input_signs_through_c2pa(make_clip, signer, tmp_path: Path) -> None:
    src = remux(make_clip("mp4"), tmp_path / "frag.mp4", movflags="frag_keyframe+empty_moov")
    assert b"moof" in top_level_kinds(src)
    assert sign(src, tmp_path / "out.mp4", signer=signer).method == "c2pa-rs"


def test_flat_hash_signs_through_c2pa(make_clip, signer, trust, tmp_path: Path) -> None:
    result = sign(make_clip("mp4"), tmp_path / "out.mp4", signer=signer, flat_hash=True)
    assert result.method == "c2pa-rs"
    assert verify(result.output, trust=trust).verdict is Verdict.VERIFIED


def test_a_manifest_outgrowing_its_room_is_signed_again_through_c2pa(
    make_clip, signer, trust, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no room for the Merkle leaves: found only once signed, after the copy
    monkeypatch.setattr(one_pass, "_BYTES_PER_LEAF", 0)
    monkeypatch.setattr(one_pass, "_BYTES_PER_MDAT", 0)
    monkeypatch.setattr(one_pass, "_SLACK_BYTES", 0)
    src = make_clip("mp4")
    result = sign(src, tmp_path / "out.mp4", signer=signer)
    assert result.method == "c2pa-rs"
    assert verify(result.output, trust=trust).verdict is Verdict.VERIFIED
    assert packets(result.output) == packets(src)


def test_the_switch_turns_one_pass_off(make_clip, signer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(one_pass.ENV_SWITCH, "0")
    assert sign(make_clip("mp4"), tmp_path / "out.mp4", signer=signer).method == "c2pa-rs"


def test_time_stamps_still_come_from_the_signers_tsa(make_clip, pki, tsa, trust, tmp_path: Path) -> None:
    signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url)
    result = sign(make_clip("mp4"), tmp_path / "stamped.mp4", signer=signer)
    assert result.method == "one-pass"
    assert result.timestamp_authority == "Test Time Authority TSA" and result.timestamped_at
    assert len(tsa.authority.requests) == 1
    assert verify(result.output, trust=trust).verdict is Verdict.VERIFIED


class _FailingSigner(KeySigner):
    def sign(self, data: bytes) -> bytes:
        raise RuntimeError("HSM unplugged")


def test_a_failure_after_the_copy_leaves_no_output(make_clip, signer, tmp_path: Path) -> None:
    src = make_clip("mp4")
    before = sha256(src)
    out = tmp_path / "out" / "never.mp4"
    out.parent.mkdir()
    with pytest.raises(CredentialError, match="HSM unplugged"):
        sign(src, out, signer=_FailingSigner(signer._key, chain=signer.chain))
    assert os.listdir(out.parent) == []  # neither the output nor its temp file
    assert sha256(src) == before


class _GarbageSigner(KeySigner):
    def sign(self, data: bytes) -> bytes:
        return os.urandom(64)


def test_a_signature_that_does_not_verify_is_refused_as_before(make_clip, signer, tmp_path: Path) -> None:
    # c2pa-rs's verify_after_sign (the COSE signature and the store's
    # structure) runs in sign_embeddable too
    with pytest.raises(IdentityError, match="signature the signer made does not verify"):
        sign(make_clip("mp4"), tmp_path / "out.mp4", signer=_GarbageSigner(signer._key, chain=signer.chain))
    assert os.listdir(tmp_path) == ["clip.mp4"]


def test_threads_sign_side_by_side(make_clip, signer, trust, tmp_path: Path) -> None:
    clip = make_clip("mp4")
    sources = [shutil.copyfile(clip, tmp_path / f"in{i}.mp4") for i in range(4)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda s: sign(s, s.with_suffix(".signed.mp4"), signer=signer), sources))
    assert {r.method for r in results} == {"one-pass"}
    assert len({r.manifest_id for r in results}) == 4
    for result in results:
        assert verify(result.output, trust=trust).verdict is Verdict.VERIFIED
