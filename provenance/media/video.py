"""What provenance does with PyAV: sample clips, probing, thumbnails, re-encodes.

With its sibling :mod:`provenance.media.transcode` (edits that keep the
chain: transcode, trim, remux), the only module that imports ``av``.
"""

from __future__ import annotations

import codecs
import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from provenance._files import readable_name
from provenance.errors import MalformedMediaError

THUMBNAIL_MAX_WIDTH = 640
# Metadata that is not UTF-8 (RIFF INFO tags written by older tools hold
# Latin-1 or Windows code pages) is read byte by byte as Latin-1, instead of
# failing the whole file.
_METADATA_ERRORS = "provenance-latin1"
codecs.register_error(_METADATA_ERRORS, lambda e: (e.object[e.start : e.end].decode("latin-1"), e.end))  # type: ignore[attr-defined]


def _open_error(path: Path, exc: Exception) -> MalformedMediaError:
    reason = getattr(exc, "strerror", None) or exc  # FFmpeg's words, without the (/proc) name it opened
    return MalformedMediaError(
        f"{path}: the video cannot be decoded ({reason})",
        hint="the file is truncated or damaged; use an intact copy",
    )


@contextlib.contextmanager
def open_media(path: Path) -> Iterator[av.container.InputContainer]:
    """PyAV's input container for *path*, a regular file only (a FIFO is
    refused, not waited on), its metadata decoded even when not UTF-8."""
    with readable_name(path) as name, av.open(name, metadata_errors=_METADATA_ERRORS) as container:
        yield container


def decodable_video(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    """The first video stream, if FFmpeg has a decoder for it (a damaged
    ``hdlr`` or a missing ``stbl`` leave a stream with none)."""
    if not container.streams.video:
        return None
    stream = container.streams.video[0]
    return stream if stream.codec_context is not None else None


def make_sample_clip(
    path: Path,
    *,
    seconds: float = 2.0,
    width: int = 320,
    height: int = 240,
    fps: int = 30,
    container: str | None = None,
    codec: str | None = None,
    audio: bool = True,
    scene: bool = False,
) -> Path:
    """Encode a short synthetic clip (moving bars and a tone) at *path*;
    with *scene*, a slowly moving picture instead (soft shapes over a
    drifting gradient), which a content fingerprint can follow through a
    re-encode the way it follows real footage.

    The container follows the extension unless *container* is given. AVI gets
    MPEG-4 Part 2 video, WebM gets VP9 and Opus, everything else H.264.

    >>> make_sample_clip(Path("/tmp/sample.mp4"))  # doctest: +SKIP
    """
    suffix = path.suffix.lower()
    if codec is None:
        codec = {".avi": "mpeg4", ".webm": "libvpx-vp9"}.get(suffix, "libx264")
    if container is None and suffix == ".m4v":
        container = "mp4"
    frames = max(1, int(seconds * fps))
    with av.open(str(path), "w", format=container) as out:
        vstream = out.add_stream(codec, rate=fps)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.codec_context.gop_size = fps
        if codec.startswith("libvpx"):
            vstream.options = {"deadline": "realtime", "cpu-used": "8"}
        astream = None
        if audio:
            audio_codec = {"libx264": "aac", "libvpx-vp9": "libopus", "libvpx": "libopus"}.get(codec, "mp3")
            astream = out.add_stream(audio_codec, rate=48000)
            astream.layout = "mono"
        ys = np.arange(height, dtype=np.int32)[:, None]
        xs = np.arange(width, dtype=np.int32)[None, :]
        for i in range(frames):
            img = _scene_frame(xs, ys, i / fps) if scene else _bars_frame(xs, ys, i, fps)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vstream.encode(frame):
                out.mux(packet)
        for packet in vstream.encode():
            out.mux(packet)
        if astream is not None:
            _encode_tone(out, astream, seconds)
    return path


def _bars_frame(xs: np.ndarray, ys: np.ndarray, i: int, fps: int) -> np.ndarray:
    img = np.empty((ys.shape[0], xs.shape[1], 3), dtype=np.uint8)
    img[..., 0] = ((xs + i * 4) % 256).astype(np.uint8)
    img[..., 1] = ((ys * 2 + i) % 256).astype(np.uint8)
    img[..., 2] = 255 if (i // fps) % 2 else 64
    return img


def _scene_frame(xs: np.ndarray, ys: np.ndarray, t: float) -> np.ndarray:
    """A drifting gradient with three soft shapes crossing it: smooth enough
    to survive compression, different from second to second."""
    height, width = ys.shape[0], xs.shape[1]
    base = 110 + 50 * np.sin(xs / 41.0 + t * 0.7) * np.cos(ys / 33.0 - t * 0.4)
    for k, (speed, size, level) in enumerate(((23.0, 0.22, 90.0), (-17.0, 0.16, -80.0), (11.0, 0.3, 60.0))):
        cx = (width * (0.2 + 0.3 * k) + speed * t) % width
        cy = height * (0.3 + 0.2 * k) + 0.15 * height * np.sin(t * (0.5 + 0.3 * k))
        r = size * height
        base = base + level * np.exp(-(((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r * r)))
    grey = np.clip(base, 0, 255)
    return np.stack([grey, np.clip(grey * 0.9 + 20, 0, 255), np.clip(255 - grey * 0.8, 0, 255)], axis=-1).astype(
        np.uint8
    )


def _encode_tone(out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float) -> None:
    rate = 48000
    frame_size = stream.codec_context.frame_size or 1152
    total = int(seconds * rate)
    t = np.arange(total, dtype=np.float32) / rate
    samples = (0.2 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    fmt = stream.codec_context.format.name
    for start in range(0, total, frame_size):
        chunk = samples[start : start + frame_size]
        if len(chunk) < frame_size:
            chunk = np.pad(chunk, (0, frame_size - len(chunk)))
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        if fmt != "flt":
            frame = av.AudioResampler(format=fmt, layout="mono", rate=rate).resample(frame)[0]
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def thumbnail_jpeg(path: Path, *, max_width: int = THUMBNAIL_MAX_WIDTH) -> bytes | None:
    """A JPEG of a representative keyframe: the first keyframe at or after a
    third of the clip (past fades and slates), or the first frame of a short
    clip. Returns ``None`` for a file with no video stream, or one FFmpeg
    cannot decode (such a clip is signed without a thumbnail).
    """
    try:
        with open_media(path) as container:
            stream = decodable_video(container)
            if stream is None:
                return None
            stream.codec_context.skip_frame = "NONKEY"
            frame = None
            duration = container.duration  # microseconds
            if duration and duration > 0:
                try:
                    container.seek(duration // 3, any_frame=False, backward=True)
                except av.error.FFmpegError:
                    container.seek(0)
            frame = next(iter(container.decode(stream)), None)
            if frame is None:
                container.seek(0)
                frame = next(iter(container.decode(stream)), None)
            if frame is None:
                return None
            return _encode_jpeg(frame, max_width=max_width)
    except av.error.FFmpegError as exc:
        raise _open_error(path, exc) from None


def _encode_jpeg(frame: av.VideoFrame, *, max_width: int) -> bytes:
    width, height = frame.width, frame.height
    if width > max_width:
        height = max(2, int(height * max_width / width) // 2 * 2)
        width = max_width
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = width, height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    codec.qscale = 3  # type: ignore[attr-defined]
    codec.flags |= av.codec.context.Flags.qscale
    scaled = frame.reformat(width=width, height=height, format="yuvj420p")
    scaled.pts = 0
    data = io.BytesIO()
    for packet in codec.encode(scaled):
        data.write(bytes(packet))
    for packet in codec.encode(None):
        data.write(bytes(packet))
    return data.getvalue()


def reencode(src: Path, dst: Path, *, crf: int = 28) -> Path:
    """Re-encode *src* to *dst* the way a careless re-upload does: decode every
    frame and encode it again (H.264, or MPEG-4 in AVI). Metadata and any
    embedded credentials are dropped, as real re-encoders drop them.
    """
    try:
        with open_media(src) as inp, av.open(str(dst), "w") as out:
            vin = inp.streams.video[0]
            codec = "mpeg4" if dst.suffix.lower() == ".avi" else "libx264"
            rate = vin.average_rate or Fraction(30)
            vout = out.add_stream(codec, rate=rate)
            vout.width, vout.height, vout.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
            if codec == "libx264":
                vout.options = {"crf": str(crf)}
            # Frames numbered in the output's time base keep their timing
            # (pts None would stamp every frame 0: a clip of no duration).
            for index, frame in enumerate(inp.decode(vin)):
                frame.pts, frame.time_base = index, 1 / Fraction(rate)
                for packet in vout.encode(frame):
                    out.mux(packet)
            for packet in vout.encode():
                out.mux(packet)
    except av.error.FFmpegError as exc:
        raise _open_error(src, exc) from None
    return dst


@dataclass(frozen=True)
class MediaInfo:
    """What PyAV reports about a clip: enough to describe an edit."""

    duration: float | None  # seconds
    width: int | None
    height: int | None
    fps: Fraction | None
    video_codec: str | None
    audio_codec: str | None

    @property
    def size(self) -> str | None:
        return f"{self.width}x{self.height}" if self.width and self.height else None


def probe(path: Path) -> MediaInfo:
    """Duration, picture size, frame rate and codecs of *path*."""
    try:
        with open_media(path) as container:
            video = decodable_video(container)
            if video is None and container.streams.video:
                raise MalformedMediaError(
                    f"{path}: its video stream cannot be decoded (FFmpeg finds no codec for it)",
                    hint="the file is damaged or uses a codec FFmpeg lacks; use an intact copy",
                )
            audio = container.streams.audio[0] if container.streams.audio else None
            duration = container.duration / 1_000_000 if container.duration else None
            if duration is None and video is not None and video.duration and video.time_base:
                duration = float(video.duration * video.time_base)
            return MediaInfo(
                duration=duration,
                width=video.codec_context.width if video else None,
                height=video.codec_context.height if video else None,
                fps=(video.average_rate or video.base_rate) if video else None,
                video_codec=video.codec_context.name if video else None,
                audio_codec=audio.codec_context.name if audio else None,
            )
    except av.error.FFmpegError as exc:
        raise _open_error(path, exc) from None


def make_large_clip(path: Path, *, size_bytes: int, width: int = 1280, height: int = 720, fps: int = 30) -> Path:
    """A valid MP4 of about *size_bytes*, made fast: a few noise frames are
    encoded once (MPEG-4 Part 2, intra only, near-lossless so they stay big)
    and their packets are muxed again and again with new timestamps. For
    benchmarks; no need to encode a gigabyte of video."""
    rng = np.random.default_rng(7)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = 1
        stream.codec_context.qscale = 1  # type: ignore[attr-defined]
        stream.codec_context.flags |= av.codec.context.Flags.qscale
        payloads: list[bytes] = []
        for _ in range(8):
            img = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
            payloads += [bytes(p) for p in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24"))]
        payloads += [bytes(p) for p in stream.encode()]
        written = n = 0
        while written < size_bytes:
            packet = av.Packet(payloads[n % len(payloads)])
            packet.stream = stream
            packet.pts = packet.dts = n
            packet.time_base = Fraction(1, fps)
            packet.is_keyframe = True
            out.mux(packet)
            written += packet.size
            n += 1
    return path
