"""Procedural video for fingerprint tests and benchmarks: varied content and
motion from a seed, and what platforms do to a clip (tests/support/transforms.py).

A scene is a textured background (low-frequency noise, a gradient, stripes)
under a panning camera, with moving shapes, optional cuts to a second
background, and per-frame sensor noise. ``take`` varies what a second take
of the same scene would: shape motion, camera jitter and noise, while the
set (background) stays the same; that is the near-duplicate the fingerprint
must tell apart from a copy.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def _texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """An RGB background: smooth noise blobs plus a gradient or stripes."""
    layers = []
    for _channel in range(3):
        cells = int(rng.integers(3, 12))
        small = (rng.random((cells, cells * 2)) * 255).astype(np.uint8)
        grey = av.VideoFrame.from_ndarray(small, format="gray")
        layers.append(
            grey.reformat(width=width, height=height, interpolation="BICUBIC").to_ndarray().astype(np.float32)
        )
    img = np.stack(layers, axis=-1)
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    kind = int(rng.integers(0, 3))
    if kind == 0:
        angle = rng.random() * np.pi
        img *= 0.6
        img += (0.4 * 255 * (np.cos(angle) * xs + np.sin(angle) * ys))[..., None] / 1.5
    elif kind == 1:
        freq = rng.uniform(4, 16)
        img = 0.7 * img + (0.3 * 255 * (0.5 + 0.5 * np.sin(2 * np.pi * freq * (xs + 0.3 * ys))))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def make_scene_clip(
    path: Path,
    *,
    seed: int,
    seconds: float = 6.0,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    take: int = 0,
    cuts: bool = True,
    audio: bool = True,
    static: bool = False,
    gop_seconds: float = 2.0,
) -> Path:
    """Encode scene *seed* (take *take*) as H.264 at *path*; AAC tone when *audio*;
    a keyframe every *gop_seconds*.

    *static* keeps the camera and shapes still (a tripod shot of a set), so
    two takes differ only by noise, jitter and where the shapes stand.
    """
    set_rng = np.random.default_rng(seed)
    take_rng = np.random.default_rng((seed, take))
    pad = max(width, height) // 2
    backgrounds = [_texture(set_rng, height + 2 * pad, width + 2 * pad) for _ in range(2 if cuts else 1)]
    cut_every = float(set_rng.uniform(3.0, 7.0))
    pan = np.zeros(2) if static else set_rng.uniform(-40, 40, size=2)  # pixels per second
    shapes = []
    for _ in range(int(set_rng.integers(2, 6))):
        shapes.append(
            {
                "pos": take_rng.uniform([0, 0], [height, width]),
                "vel": np.zeros(2) if static else take_rng.uniform(-120, 120, size=2),
                "size": float(set_rng.uniform(0.06, 0.2) * height),
                "color": set_rng.integers(0, 256, size=3).astype(np.uint8),
                "round": bool(set_rng.integers(0, 2)),
            }
        )
    jitter = take_rng.uniform(0.5, 3.0)
    ys = np.arange(height)[:, None]
    xs = np.arange(width)[None, :]
    frames = max(1, round(seconds * fps))
    with av.open(str(path), "w") as out:
        vstream = out.add_stream("libx264", rate=fps)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.options = {"preset": "ultrafast", "crf": "20"}
        vstream.codec_context.gop_size = max(1, round(fps * gop_seconds))
        astream = None
        if audio:
            astream = out.add_stream("aac", rate=48000)
            astream.layout = "mono"
        for i in range(frames):
            t = i / fps
            bg = backgrounds[int(t // cut_every) % len(backgrounds)]
            dy, dx = pan * t + take_rng.normal(0, jitter, size=2)
            oy = int(np.clip(pad + dy, 0, 2 * pad))
            ox = int(np.clip(pad + dx, 0, 2 * pad))
            img = bg[oy : oy + height, ox : ox + width].copy()
            for shape in shapes:
                cy, cx = (shape["pos"] + shape["vel"] * t) % [height, width]
                r = shape["size"]
                if shape["round"]:
                    mask = (ys - cy) ** 2 + (xs - cx) ** 2 < r * r
                else:
                    mask = (abs(ys - cy) < r) & (abs(xs - cx) < r * 0.7)
                img[mask] = shape["color"]
            noise = take_rng.normal(0, 4, size=(height // 4, width // 4, 1)).repeat(4, 0).repeat(4, 1)
            img = np.clip(img + noise, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vstream.encode(frame):
                out.mux(packet)
        for packet in vstream.encode():
            out.mux(packet)
        if astream is not None:
            from provenance.media.video import _encode_tone

            _encode_tone(out, astream, seconds)
    return path


def make_black_clip(path: Path, *, seconds: float = 3.0, width: int = 320, height: int = 240, fps: int = 25) -> Path:
    """A clip of black frames: nothing to fingerprint."""
    with av.open(str(path), "w") as out:
        vstream = out.add_stream("libx264", rate=fps)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        black = np.zeros((height, width, 3), dtype=np.uint8)
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(black, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vstream.encode(frame):
                out.mux(packet)
        for packet in vstream.encode():
            out.mux(packet)
    return path
