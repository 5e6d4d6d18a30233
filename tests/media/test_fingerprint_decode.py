"""How the fingerprint decodes: only what it samples, with the same result.

The sampler skips the rest of a keyframe group once no frame left in it can
be sampled. That must never change a fingerprint (registered ones are
stored and compared bit for bit against new queries), so each clip here is
fingerprinted both ways and compared; and it must actually skip where it
safely can (closed groups) and not where it cannot (open GOPs, whose next
I picture refers back)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from provenance.media import fingerprint
from provenance.media.fingerprint import compute, compute_query
from tests.support.scenes import make_scene_clip

FPS = 25

# name: (encoder, options, keyframe interval in frames)
ENCODINGS = {
    "h264-gop1s": ("libx264", {"preset": "ultrafast", "crf": "23"}, FPS),
    "h264-bframes-gop2s": ("libx264", {"preset": "medium", "crf": "23"}, 2 * FPS),
    # groups of 0.8 s: some hold no sample and would be skipped whole
    "h264-open-gop": (
        "libx264",
        {"preset": "medium", "crf": "23", "x264-params": "open-gop=1:keyint=20:min-keyint=20:scenecut=0"},
        20,
    ),
    "hevc-open-gop": (
        "libx265",
        {"preset": "ultrafast", "crf": "28", "x265-params": f"log-level=error:open-gop=1:keyint={FPS}"},
        FPS,
    ),
    "vp9-gop1s": ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "crf": "40", "b": "0"}, FPS),
}


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fingerprint-decode")
    return make_scene_clip(folder / "scene.mp4", seed=21, seconds=8, width=320, height=180, fps=FPS, audio=False)


def _encode(src: Path, name: str) -> Path:
    codec, options, gop = ENCODINGS[name]
    if codec not in av.codecs_available:
        pytest.skip(f"PyAV's FFmpeg has no {codec} encoder")
    dst = src.with_name(f"{name}.{'webm' if 'vp9' in codec else 'mp4'}")
    if dst.exists():
        return dst
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream(codec, rate=FPS)
        vout.width, vout.height, vout.pix_fmt = vin.width, vin.height, "yuv420p"
        vout.options = dict(options)
        vout.codec_context.gop_size = gop
        for i, frame in enumerate(inp.decode(vin)):
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in vout.encode(frame):
                out.mux(packet)
        for packet in vout.encode():
            out.mux(packet)
    return dst


def _decoded_share(path: Path) -> float:
    """The share of the clip's frames the sampler has decoded, sampling one
    frame a second as compute() does."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = sum(1 for p in container.demux(stream) if p.size)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        clock = fingerprint._Clock()
        frames = 0
        for frame in fingerprint._decode(container, stream, clock):
            frames += 1
            clock.first = frame.time if clock.first is None else clock.first
            rel = frame.time - clock.first
            if rel + 1e-3 >= clock.next_t:
                clock.next_t = math.floor(rel + 1e-3) + 1.0
    return frames / packets


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_skipping_never_changes_a_fingerprint(scene: Path, name: str) -> None:
    clip = _encode(scene, name)
    for dense in (False, True):
        full = fingerprint._sample(clip, max_seconds=None, dense=dense, threads=1, skip_groups=False).fingerprint
        fast = compute(clip, dense=dense)
        assert fast.hashes == full.hashes and len(fast.hashes) >= (30 if dense else 7)
        assert fast.image_codes == full.image_codes and fast.zoom_hashes == full.zoom_hashes
        assert fast.duration == pytest.approx(full.duration, abs=2 / FPS)
        # frame threads (sign --register, verify --lookup) decode the same pictures
        assert compute(clip, dense=dense, threads=2) == fast


def test_closed_groups_are_decoded_only_up_to_their_last_sample(scene: Path) -> None:
    # keyframes on whole seconds: the keyframe is each second's sample
    assert _decoded_share(_encode(scene, "h264-gop1s")) < 0.25
    assert _decoded_share(_encode(scene, "vp9-gop1s")) < 0.25
    # 2 s groups: the samples are the keyframe and the frame 1 s later
    assert _decoded_share(_encode(scene, "h264-bframes-gop2s")) < 0.75


def test_open_gops_are_decoded_whole(scene: Path) -> None:
    # an open GOP's I picture is no place to start again (FFmpeg withholds
    # frames after it until its recovery point): nothing before it is
    # skipped, only the tail of the last group (the last of 8 seconds)
    assert _decoded_share(_encode(scene, "h264-open-gop")) > 0.85


def test_one_decode_gives_the_lookup_query_and_the_registered_codes(scene: Path) -> None:
    clip = _encode(scene, "h264-bframes-gop2s")
    query = compute_query(clip)
    registered = compute(clip)
    assert query.fingerprint == compute(clip, dense=True)
    codes = query.image_codes()
    assert codes == [(t, code) for (t, _), code in zip(registered.hashes, registered.image_codes, strict=True)]
    assert len(codes) >= 7


def test_the_image_code_is_iscc_cores() -> None:
    import iscc_core

    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:32, 0:32]
    images = [rng.integers(0, 256, (32, 32), dtype=np.uint8) for _ in range(20)]
    images += [((128 + 100 * np.sin(x / (2 + k)) * np.cos(y / (3 + k))).astype(np.uint8)) for k in range(20)]
    for pixels in images:
        expected = iscc_core.soft_hash_image_v0(pixels.flatten().tolist(), bits=64)
        assert fingerprint._image_code(pixels) == expected
