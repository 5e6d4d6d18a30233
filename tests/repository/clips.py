"""Real clips for the repository tests, made with PyAV: distinct content
per seed (random blocks that change every second, so no two seeds look
alike and no second is uniform)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def make_content_clip(
    path: Path, *, seed: int, seconds: int = 6, width: int = 320, height: int = 240, fps: int = 15
) -> Path:
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18"}
        for _second in range(seconds):
            blocks = rng.integers(0, 256, size=(height // 40, width // 40, 3), dtype=np.uint8)
            image = np.kron(blocks, np.ones((40, 40, 1), dtype=np.uint8))
            for i in range(fps):
                # a slow drift keeps it moving without changing what it is
                frame = av.VideoFrame.from_ndarray(np.roll(image, i, axis=1).copy(), format="rgb24")
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def platform_copy(src: Path, dst: Path, *, width: int = 192, height: int = 144, crf: int = 32) -> Path:
    """What a platform makes of a clip: decoded, scaled down, re-encoded at
    a lower quality, with no metadata (and so no credentials)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream("libx264", rate=vin.average_rate)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.options = {"crf": str(crf)}
        for frame in inp.decode(vin):
            scaled = frame.reformat(width=width, height=height, format="yuv420p")
            scaled.pts, scaled.time_base = frame.pts, frame.time_base
            for packet in vout.encode(scaled):
                out.mux(packet)
        for packet in vout.encode():
            out.mux(packet)
    return dst
