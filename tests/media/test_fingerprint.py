"""Content fingerprints: transformed copies of a clip match it, with the
span they cover; other clips, near-duplicate takes and other parts of the
same film do not; flat and short clips are refused with a one-line error."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.identity.signer import KeySigner
from provenance.media.fingerprint import (
    ALGORITHM,
    MATCH_THRESHOLD,
    SOFT_BINDING_ALG,
    Fingerprint,
    FingerprintError,
    compare,
    compute,
    hamming,
    soft_binding_assertion,
)
from provenance.media.video import make_sample_clip
from tests.support.scenes import make_black_clip, make_scene_clip
from tests.support.transforms import EXCERPT_SECONDS, TRANSFORMS, apply, available

SECONDS = 12.0
EXCERPT_START = 1.4


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fingerprint")


@pytest.fixture(scope="module")
def original(clips: Path) -> Path:
    # small and short keeps the transforms quick; the benchmark does 720p
    return make_scene_clip(clips / "scene.mp4", seed=11, seconds=SECONDS, width=320, height=180, fps=15)


@pytest.fixture(scope="module")
def original_fp(original: Path) -> Fingerprint:
    return compute(original)


@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_a_transformed_copy_matches_with_its_span(
    transform: str, original: Path, original_fp: Fingerprint, clips: Path
) -> None:
    if not available(transform):
        pytest.skip(f"PyAV's FFmpeg has no {TRANSFORMS[transform].codec} encoder")
    copy, start, end = apply(transform, original, clips, excerpt_start=EXCERPT_START, height=120)
    match = compare(compute(copy, dense=True), original_fp)
    assert match.score >= MATCH_THRESHOLD, match
    assert abs(match.start - start) <= 0.75 and abs(match.end - end) <= 1.0, (match, start, end)
    if transform != "excerpt":
        # a registration-style (one a second) fingerprint of a full copy
        # matches too; an excerpt cut between seconds of fast motion needs
        # the dense query's sub-second phases
        assert compare(compute(copy), original_fp).score >= MATCH_THRESHOLD


def test_an_excerpt_is_placed_within_the_original(original: Path, original_fp: Fingerprint, clips: Path) -> None:
    copy, start, end = apply("excerpt", original, clips, excerpt_start=EXCERPT_START, stem="placed")
    match = compare(compute(copy, dense=True), original_fp)
    assert (start, end) == (EXCERPT_START, EXCERPT_START + EXCERPT_SECONDS)
    assert match.score >= MATCH_THRESHOLD
    assert 0.9 <= match.start <= 1.9 and 10.9 <= match.end <= 11.9, match


def test_other_clips_and_a_second_take_do_not_match(original_fp: Fingerprint, clips: Path) -> None:
    other = make_scene_clip(clips / "other.mp4", seed=12, seconds=SECONDS, width=320, height=180, fps=15)
    take = make_scene_clip(clips / "take2.mp4", seed=11, take=1, seconds=SECONDS, width=320, height=180, fps=15)
    for clip in (other, take):
        assert compare(compute(clip, dense=True), original_fp).score < MATCH_THRESHOLD / 2, clip
    assert compare(original_fp, original_fp).score == 1.0
    # a dense fingerprint as the candidate scores like a registered one
    dense = compute(clips / "scene.mp4", dense=True)
    assert compare(dense, dense).score == 1.0 and compare(compute(other, dense=True), dense).score < MATCH_THRESHOLD / 2


def test_real_footage_matches_its_reencode_but_not_another_scene(corpus: Path, clips: Path) -> None:
    long, short = corpus / "footage" / "bunny-16s.mp4", corpus / "footage" / "bunny-10s.mp4"
    long_fp = compute(long)
    assert long_fp.duration == pytest.approx(16.0, abs=0.1) and 15 <= len(long_fp.hashes) <= 16
    copy, _, _ = apply("360p", long, clips)
    match = compare(compute(copy, dense=True), long_fp)
    assert match.score >= MATCH_THRESHOLD and (match.start, match.end) == (0.0, 16.0)
    # the other clip is the same film, another scene: similar colours and
    # style, different content
    assert compare(compute(short, dense=True), long_fp).score < MATCH_THRESHOLD / 2


def test_a_black_clip_is_too_uniform(clips: Path) -> None:
    with pytest.raises(FingerprintError, match="too uniform") as info:
        compute(make_black_clip(clips / "black.mp4"))
    assert isinstance(info.value, InputError) and "\n" not in str(info.value)


def test_a_clip_under_two_seconds_is_too_short(clips: Path) -> None:
    short = make_sample_clip(clips / "short.mp4", seconds=1.0)
    with pytest.raises(FingerprintError, match=r"too short to fingerprint \(1\.0 s"):
        compute(short)
    # max_seconds cuts what is fingerprinted
    long = make_scene_clip(clips / "five.mp4", seed=3, seconds=5, width=160, height=96, fps=10, audio=False)
    assert compute(long, max_seconds=3.0).hashes[-1][0] <= 3.0
    with pytest.raises(FingerprintError, match="too short"):
        compute(long, max_seconds=1.5)


def test_a_file_that_is_not_video_is_bad_input(clips: Path) -> None:
    junk = clips / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 100)
    with pytest.raises(InputError):
        compute(junk)
    with pytest.raises(InputError, match="no such file"):
        compute(clips / "missing.mp4")


def test_fingerprint_bytes_round_trip_and_reject_damage(original_fp: Fingerprint) -> None:
    data = original_fp.to_bytes()
    assert Fingerprint.from_bytes(data) == original_fp
    assert original_fp.algorithm == ALGORITHM
    assert len(original_fp.hashes) == len(original_fp.image_codes) == len(original_fp.zoom_hashes) >= SECONDS - 1
    assert all(len(h) == 32 for _, h in original_fp.hashes)
    assert [t for t, _ in original_fp.hashes] == sorted(t for t, _ in original_fp.hashes)
    assert len(data) == 4 + 2 + len(ALGORITHM) + 13 + len(original_fp.hashes) * (4 + 32 + 8 + 32)
    damaged = [data[:-1], b"XXXX" + data[4:], data[:4] + b"\x09" + data[5:], data + b"\x00"]
    # two hashes at the same time
    first = 4 + 2 + len(ALGORITHM) + 13
    damaged.append(data[: first + 36] + data[first : first + 4] + data[first + 40 :])
    for bad in damaged:
        with pytest.raises(FingerprintError, match="malformed"):
            Fingerprint.from_bytes(bad)


def test_hamming() -> None:
    assert hamming(bytes(32), bytes(32)) == 0
    assert hamming(b"\xff" * 32, bytes(32)) == 256
    assert hamming(b"\x01\x80", b"\x00\x00") == 2
    with pytest.raises(ValueError):
        hamming(b"\x00", b"\x00\x00")


def test_soft_binding_assertion_has_iscc_codes_per_timespan(original_fp: Fingerprint) -> None:
    data = soft_binding_assertion(original_fp)
    assert data["alg"] == SOFT_BINDING_ALG == "io.iscc.v0"
    blocks = data["blocks"]
    assert len(blocks) == len(original_fp.hashes)
    spans = [(b["scope"]["timespan"]["start"], b["scope"]["timespan"]["end"]) for b in blocks]
    assert spans[0][0] == 0 and all(s < e <= s + 1000 for s, e in spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False))
    for block, code in zip(blocks, original_fp.image_codes, strict=True):
        value = block["value"]
        assert value.startswith("ISCC:EE")  # Content-Code, Image subtype
        # the base32 body holds a 2-byte header, then the 8-byte digest
        body = base64.b32decode(value[5:] + "=" * (-len(value[5:]) % 8))
        assert body[2:] == code
    # a dense (lookup) fingerprint has no image codes to put there
    dense = Fingerprint(algorithm=ALGORITHM, hashes=original_fp.hashes, duration=original_fp.duration)
    with pytest.raises(FingerprintError):
        soft_binding_assertion(dense)


def test_c2pa_signs_and_reads_back_the_soft_binding_assertion(
    original: Path, original_fp: Fingerprint, signer: KeySigner, tmp_path: Path
) -> None:
    import datetime as dt
    import json

    import c2pa

    from provenance.credentials import bridge
    from provenance.credentials.manifest import SourceType, definition

    manifest = definition(
        title="scene",
        author="Jane Doe",
        mime_type="video/mp4",
        source=SourceType.CAMERA,
        published_at=dt.datetime.now(dt.UTC),
        with_thumbnail=False,
    )
    data = soft_binding_assertion(original_fp)
    manifest["assertions"].append({"label": "c2pa.soft-binding", "data": data})
    signed = tmp_path / "signed.mp4"
    with open(original, "rb") as source, open(signed, "wb") as dest:
        bridge.sign_stream(
            manifest,
            signer=signer,
            mime_type="video/mp4",
            source=source,
            dest=dest,
            resources={},
            parent=None,
            merkle=True,
        )
    store = json.loads(c2pa.Reader(str(signed)).json())
    active = store["manifests"][store["active_manifest"]]
    (found,) = [a["data"] for a in active["assertions"] if a["label"] == "c2pa.soft-binding"]
    assert found["alg"] == "io.iscc.v0" and found["blocks"] == data["blocks"]
    assert store["validation_state"] != "Invalid"
    # the signed file's content still fingerprints as the original
    assert compare(compute(signed, dense=True), original_fp).score == pytest.approx(1.0, abs=0.02)
