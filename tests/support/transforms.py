"""What platforms do to a clip, done with PyAV: re-encode (H.264 at a low
bitrate, HEVC, VP9), rescale, change the frame rate, crop, letterbox,
overlay a logo, cut an excerpt, drop the audio.

``apply(name, src, dst)`` runs one of :data:`TRANSFORMS` and returns the
span of the source (start, end in seconds) that the output holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

EXCERPT_SECONDS = 10.0


@dataclass(frozen=True)
class Recipe:
    suffix: str = ".mp4"
    codec: str = "libx264"
    options: tuple[tuple[str, str], ...] = (("preset", "ultrafast"), ("crf", "30"))
    height: int | None = None  # rescale to this height (aspect kept)
    fps: int | None = None
    crop: float = 0.0  # fraction cut off each side
    letterbox: bool = False
    logo: bool = False
    excerpt: bool = False


TRANSFORMS: dict[str, Recipe] = {
    "h264-low": Recipe(options=(("preset", "veryfast"), ("b", "250k"), ("maxrate", "300k"), ("bufsize", "600k"))),
    "hevc": Recipe(
        codec="libx265", options=(("preset", "ultrafast"), ("crf", "32"), ("x265-params", "log-level=error"))
    ),
    "vp9": Recipe(
        suffix=".webm",
        codec="libvpx-vp9",
        options=(("deadline", "realtime"), ("cpu-used", "8"), ("crf", "40"), ("b", "0")),
    ),
    "360p": Recipe(height=360),
    "fps": Recipe(fps=15),
    "crop5": Recipe(crop=0.05),
    "letterbox": Recipe(letterbox=True),
    "logo": Recipe(logo=True),
    "excerpt": Recipe(excerpt=True),
    "no-audio": Recipe(codec="copy"),
}


def available(name: str) -> bool:
    """Whether PyAV's FFmpeg has the encoder transform *name* needs."""
    codec = TRANSFORMS[name].codec
    return codec == "copy" or codec in av.codecs_available


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def apply(
    name: str,
    src: Path,
    dst_dir: Path,
    *,
    excerpt_start: float = 3.4,
    height: int | None = None,
    stem: str | None = None,
) -> tuple[Path, float, float]:
    """Transform *src* into *dst_dir*; the output and the source span it
    holds. *height* replaces the rescale target (360) for small sources."""
    recipe = TRANSFORMS[name]
    if height and recipe.height:
        recipe = Recipe(height=height)
    dst = dst_dir / f"{stem or src.stem}.{name}{recipe.suffix}"
    if recipe.codec == "copy":
        return _drop_audio(src, dst)
    with av.open(str(src)) as source:
        vin = source.streams.video[0]
        width, height = vin.codec_context.width, vin.codec_context.height
        rate = vin.average_rate or Fraction(25)
        duration = float(source.duration / 1_000_000) if source.duration else 0.0
        start, end = (excerpt_start, excerpt_start + EXCERPT_SECONDS) if recipe.excerpt else (0.0, duration)
        out_w, out_h = width, height
        if recipe.crop:
            out_w, out_h = _even(width * (1 - 2 * recipe.crop)), _even(height * (1 - 2 * recipe.crop))
        if recipe.height:
            out_w, out_h = _even(out_w * recipe.height / out_h), recipe.height
        frame_h = _even(out_w * 3 / 4) if recipe.letterbox else out_h
        fps = recipe.fps or rate
        with av.open(str(dst), "w") as out:
            vout = out.add_stream(recipe.codec, rate=fps)
            vout.width, vout.height, vout.pix_fmt = out_w, frame_h, "yuv420p"
            vout.options = dict(recipe.options)
            frames = _frames(source, vin, start=start, end=end, fps=Fraction(fps) if recipe.fps else None)
            for index, (_, img) in enumerate(frames):
                img = _edit(img, recipe, out_w, out_h, frame_h)
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = index
                frame.time_base = 1 / Fraction(fps)
                for packet in vout.encode(frame):
                    out.mux(packet)
            for packet in vout.encode():
                out.mux(packet)
    return dst, start, min(end, duration) if duration else end


def _frames(
    source: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    *,
    start: float,
    end: float,
    fps: Fraction | None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Decoded RGB frames from *start* to *end* (times relative to *start*),
    resampled to *fps* by repeating or dropping frames when given."""
    first: float | None = None
    next_out = 0.0
    for frame in source.decode(stream):
        t = float(frame.time or 0.0)
        first = t if first is None else first
        rel = t - first
        if rel < start - 1e-6:
            continue
        if rel >= end - 1e-6:
            break
        img = frame.to_ndarray(format="rgb24")
        if fps is None:
            yield rel - start, img
            continue
        while next_out <= rel - start + 1e-6:
            yield next_out, img
            next_out += float(1 / fps)


def _edit(img: np.ndarray, recipe: Recipe, out_w: int, out_h: int, frame_h: int) -> np.ndarray:
    h, w = img.shape[:2]
    if recipe.crop:
        dy, dx = round(h * recipe.crop), round(w * recipe.crop)
        img = img[dy : h - dy, dx : w - dx]
    if img.shape[:2] != (out_h, out_w):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
        img = frame.reformat(width=out_w, height=out_h, interpolation="AREA").to_ndarray()
    if recipe.logo:
        img = img.copy()
        lw, lh = out_w // 6, out_h // 8
        y0, x0 = out_h - lh - out_h // 20, out_w - lw - out_w // 20
        img[y0 : y0 + lh, x0 : x0 + lw] = 240
        img[y0 + lh // 4 : y0 + 3 * lh // 4, x0 + lw // 8 : x0 + 7 * lw // 8 : 3] = (200, 30, 30)
    if recipe.letterbox and frame_h != out_h:
        canvas = np.zeros((frame_h, out_w, 3), dtype=np.uint8)
        top = (frame_h - out_h) // 2
        canvas[top : top + out_h] = img
        img = canvas
    return img


def _drop_audio(src: Path, dst: Path) -> tuple[Path, float, float]:
    """Copy the video packets only (what muting an upload does)."""
    with av.open(str(src)) as source, av.open(str(dst), "w") as out:
        vin = source.streams.video[0]
        vout = out.add_stream_from_template(vin)
        for packet in source.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            out.mux(packet)
        duration = float(source.duration / 1_000_000) if source.duration else 0.0
    return dst, 0.0, duration
