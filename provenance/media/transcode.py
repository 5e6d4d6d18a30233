"""Edits that keep the chain, done with PyAV: transcode, trim, remux.

With :mod:`provenance.media.video`, the only module that imports ``av``.
Each function writes plain media (no credentials) to *dst*; signing the
result with the source as parent is :mod:`provenance.edit`'s job. The
outcome dataclasses say what was done, for the manifest's action
parameters.
"""

from __future__ import annotations

import contextlib
import errno
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from provenance._files import output_error
from provenance.errors import MalformedMediaError, OutputError, UsageError
from provenance.media.video import MediaInfo, open_media, probe

# FFmpeg errors writing the output that are the output's place, not the codec.
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})

# --video-codec names → PyAV encoders.
VIDEO_CODECS: dict[str, str] = {"h264": "libx264", "hevc": "libx265", "mpeg4": "mpeg4", "vp9": "libvpx-vp9"}
CRF_CODECS = frozenset({"h264", "hevc", "vp9"})
AUDIO_MODES = ("copy", "aac", "none")
# The codec a container gets when the caller names none.
DEFAULT_VIDEO_CODEC = {"avi": "mpeg4"}
HEVC_MIN_SIZE = 64
_DEFAULT_BITRATE = 2_000_000  # MPEG-4 Part 2 has no CRF; its encoder default (200 kb/s) is poor


@dataclass(frozen=True)
class TranscodeOutcome:
    """What :func:`transcode_media` did."""

    source: MediaInfo
    width: int
    height: int
    fps: Fraction
    video_codec: str
    crf: int | None
    bitrate: int | None
    audio: str  # "copy", "aac" or "none" (or "none" when the source had no audio)

    @property
    def resized(self) -> bool:
        return (self.width, self.height) != (self.source.width, self.source.height)


@dataclass(frozen=True)
class TrimOutcome:
    """What :func:`trim_media` did: the span kept, and how."""

    requested_start: float
    requested_end: float
    start: float
    end: float
    method: str  # "stream copy" or "re-encode"


@dataclass(frozen=True)
class RemuxOutcome:
    """What :func:`remux_media` copied."""

    streams: tuple[str, ...]  # codec names, e.g. ("vp9", "opus")


def _decode_error(path: Path, exc: Exception) -> MalformedMediaError:
    return MalformedMediaError(
        f"{path}: the video cannot be decoded ({_reason(exc)})",
        hint="the file is truncated or damaged; use an intact copy",
    )


def _reason(exc: Exception) -> str:
    # FFmpeg's own words without the (scratch) file name it appends.
    return str(getattr(exc, "strerror", None) or exc)


def _mux_error(exc: Exception, *, what: str, muxer: str, hint: str | None = None) -> UsageError:
    if getattr(exc, "errno", None) in _OUTPUT_ERRNOS:  # a full disk, not the codec's fault
        return _output_failure(exc)
    return UsageError(
        f"{what} cannot be written to {muxer.upper()} ({_reason(exc)})",
        hint=hint or "choose another output container or codec",
        reason=None if hint else "mux_unsupported",
    )


def _output_failure(exc: Exception) -> OutputError:
    name = getattr(exc, "filename", None)
    return output_error(Path(name).parent if name else Path("."), getattr(exc, "errno", None))


def _failure(exc: av.error.FFmpegError, *, src: Path, dst: Path, what: str, muxer: str) -> Exception:
    """A failure while writing *dst* is the place it is written to failing
    (a full disk) or the container refusing what it was given; any other is
    *src* failing to decode."""
    if getattr(exc, "errno", None) in _OUTPUT_ERRNOS and getattr(exc, "filename", None) != str(src):
        return _output_failure(exc)
    if getattr(exc, "filename", None) == str(dst):
        return _mux_error(exc, what=what, muxer=muxer)
    return _decode_error(src, exc)


def _start(out: av.container.OutputContainer, *, what: str, muxer: str, hint: str | None = None) -> None:
    """Write the container header now, so a codec the container refuses is
    reported as such, not as a decoding error halfway through."""
    try:
        out.start_encoding()
    except (av.error.FFmpegError, ValueError) as exc:
        raise _mux_error(exc, what=what, muxer=muxer, hint=hint) from None


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _video_encoder(
    out: av.container.OutputContainer,
    *,
    codec: str,
    rate: Fraction,
    width: int,
    height: int,
    crf: int | None,
    bitrate: int | None,
) -> av.video.stream.VideoStream:
    stream: Any = out.add_stream(VIDEO_CODECS[codec], rate=rate)  # PyAV's stubs type it as any stream
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    options: dict[str, str] = {}
    if codec == "vp9":
        options.update({"deadline": "realtime", "cpu-used": "8"})
        if crf is not None:
            options.update({"crf": str(crf), "b": "0"})
    elif codec == "hevc":
        options["x265-params"] = "log-level=error"
        if crf is not None:
            options["crf"] = str(crf)
    elif crf is not None:
        options["crf"] = str(crf)
    if bitrate is not None:
        stream.bit_rate = bitrate
    elif codec == "mpeg4":
        stream.bit_rate = _DEFAULT_BITRATE
    stream.options = options
    return stream


def _scaled_frames(
    frames: Iterator[av.VideoFrame], *, template: av.video.stream.VideoStream, width: int, height: int, rate: Fraction
) -> Iterator[av.VideoFrame]:
    """Frames scaled to width×height at a constant *rate* (libavfilter
    ``scale`` and ``fps``), numbered from 0 in 1/rate units."""
    graph = av.filter.Graph()
    nodes = [
        graph.add_buffer(template=template),
        graph.add("scale", f"{width}:{height}"),
        graph.add("fps", f"{rate.numerator}/{rate.denominator}"),
        graph.add("format", "yuv420p"),
        graph.add("buffersink"),
    ]
    graph.link_nodes(*nodes).configure()
    count = 0

    def drain() -> Iterator[av.VideoFrame]:
        nonlocal count
        while True:
            try:
                frame = graph.vpull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            frame.pts = count
            frame.time_base = Fraction(1) / rate
            count += 1
            yield frame

    for frame in frames:
        graph.vpush(frame)
        yield from drain()
    graph.vpush(None)
    yield from drain()


class _AudioPath:
    """Audio of one input stream on its way out: stream copy, or decode,
    resample and encode (AAC; MP3 in AVI) frame by frame."""

    def __init__(
        self, out: av.container.OutputContainer, muxer: str, source: av.audio.stream.AudioStream, *, copy: bool
    ) -> None:
        self.out = out
        self.copy = copy
        self.stream: Any
        if copy:
            self.stream = out.add_stream_from_template(source)
            return
        codec = "libmp3lame" if muxer == "avi" else "aac"
        self.stream = out.add_stream(codec, rate=source.codec_context.sample_rate or 48000)
        layout = source.codec_context.layout.name if source.codec_context.layout else "stereo"
        self.stream.layout = layout if layout in ("mono", "stereo") else "stereo"
        ctx = self.stream.codec_context
        self.resampler = av.AudioResampler(
            format=ctx.format.name,
            layout=self.stream.layout.name,
            rate=ctx.sample_rate,
            frame_size=ctx.frame_size or None,
        )

    def packet(self, packet: av.Packet) -> None:
        """Take one demuxed packet of the source stream."""
        if self.copy:
            if packet.dts is not None:
                packet.stream = self.stream
                self.out.mux(packet)
            return
        for frame in packet.decode():
            self.frame(frame)  # type: ignore[arg-type]

    def frame(self, frame: av.AudioFrame | None) -> None:
        """Encode one decoded frame (``None`` flushes)."""
        if frame is not None:
            frame.pts = None
        for chunk in self.resampler.resample(frame):
            for packet in self.stream.encode(chunk):
                self.out.mux(packet)

    def finish(self) -> None:
        if self.copy:
            return
        self.frame(None)
        for packet in self.stream.encode(None):
            self.out.mux(packet)


def transcode_media(
    src: Path,
    dst: Path,
    *,
    muxer: str,
    video_codec: str | None = None,
    crf: int | None = None,
    bitrate: int | None = None,
    height: int | None = None,
    fps: Fraction | None = None,
    audio: str = "copy",
) -> TranscodeOutcome:
    """Decode every frame of *src* and encode it again into *dst* (container
    *muxer*, e.g. ``"mp4"``), optionally scaled to *height* (width keeps
    the aspect ratio), at frame rate *fps*, with *crf* or *bitrate*.
    *audio* is ``"copy"`` (stream copy), ``"aac"`` (re-encode; MP3 in AVI)
    or ``"none"``.
    """
    codec = video_codec or DEFAULT_VIDEO_CODEC.get(muxer, "h264")
    if codec not in VIDEO_CODECS:
        raise UsageError(f"--video-codec {codec}: unknown codec", hint=f"use one of {', '.join(VIDEO_CODECS)}")
    if crf is not None and bitrate is not None:
        raise UsageError("--crf and --bitrate exclude each other", hint="give one of them")
    if crf is not None and codec not in CRF_CODECS:
        raise UsageError(
            f"--crf does not apply to {codec}", hint="give a bitrate for MPEG-4 Part 2", reason="crf_not_for_codec"
        )
    if audio not in AUDIO_MODES:
        raise UsageError(f"--audio {audio}: unknown mode", hint="use copy, aac or none")
    info = probe(src)
    if not info.width or not info.height:
        raise UsageError(f"{src}: has no video stream", hint="give a video file")
    out_height = _even(height) if height else info.height
    out_width = _even(info.width * out_height / info.height) if height else info.width
    if codec == "hevc" and min(out_width, out_height) < HEVC_MIN_SIZE:
        # libx265 corrupts its heap on some pictures smaller than one 64×64
        # coding tree unit (seen at 48×32); refuse rather than crash.
        raise UsageError(
            f"hevc needs a picture of at least {HEVC_MIN_SIZE}×{HEVC_MIN_SIZE} pixels, not {out_width}×{out_height}",
            hint="use h264 for a picture this small, or a larger height",
            reason="hevc_too_small",
        )
    rate = fps or info.fps or Fraction(30)
    try:
        with open_media(src) as inp, av.open(str(dst), "w", format=muxer) as out:
            vin = inp.streams.video[0]
            vin.thread_type = "AUTO"
            ain = inp.streams.audio[0] if inp.streams.audio and audio != "none" else None
            try:
                vout = _video_encoder(
                    out, codec=codec, rate=rate, width=out_width, height=out_height, crf=crf, bitrate=bitrate
                )
            except (av.error.FFmpegError, ValueError) as exc:
                raise _mux_error(exc, what=f"{codec} video", muxer=muxer) from None
            audio_what = f" and {ain.codec_context.name} audio ({audio})" if ain is not None else ""
            audio_hint = "choose another container or --video-codec, or use --audio aac or --audio none"
            try:
                apath = _AudioPath(out, muxer, ain, copy=audio == "copy") if ain is not None else None
            except (av.error.FFmpegError, ValueError) as exc:
                raise _mux_error(exc, what=f"{codec} video{audio_what}", muxer=muxer, hint=audio_hint) from None
            _start(out, what=f"{codec} video{audio_what}", muxer=muxer, hint=audio_hint)
            frames = _video_frames(inp, vin, ain, apath)
            for frame in _scaled_frames(frames, template=vin, width=out_width, height=out_height, rate=rate):
                for packet in vout.encode(frame):
                    out.mux(packet)
            for packet in vout.encode(None):
                out.mux(packet)
            if apath is not None:
                apath.finish()
    except av.error.FFmpegError as exc:
        raise _failure(exc, src=src, dst=dst, what=f"{codec} video", muxer=muxer) from None
    return TranscodeOutcome(
        source=info,
        width=out_width,
        height=out_height,
        fps=rate,
        video_codec=codec,
        crf=crf,
        bitrate=bitrate,
        audio=audio if ain is not None else "none",
    )


def _video_frames(
    inp: av.container.InputContainer,
    vin: av.video.stream.VideoStream,
    ain: av.audio.stream.AudioStream | None,
    audio: _AudioPath | None,
) -> Iterator[av.VideoFrame]:
    """Decoded video frames of *inp*; audio packets met on the way go to *audio*."""
    streams = [vin] if ain is None else [vin, ain]
    for packet in inp.demux(*streams):
        if packet.stream is vin:
            yield from packet.decode()  # type: ignore[misc]
        elif audio is not None:
            audio.packet(packet)


def keyframe_times(path: Path) -> tuple[float, ...]:
    """Presentation times (seconds, from the clip's start) of the video
    keyframes of *path*, read from packet flags without decoding."""
    times: list[float] = []
    try:
        with open_media(path) as container:
            if not container.streams.video:
                return ()
            stream = container.streams.video[0]
            base = _first_pts(stream)
            for packet in container.demux(stream):
                if packet.is_keyframe and packet.pts is not None and packet.time_base is not None:
                    times.append(float((packet.pts - base) * packet.time_base))
    except av.error.FFmpegError as exc:
        raise _decode_error(path, exc) from None
    return tuple(sorted(times))


def _first_pts(stream: Any) -> int:
    return int(stream.start_time) if stream.start_time is not None else 0


def trim_media(
    src: Path,
    dst: Path,
    *,
    muxer: str,
    start: float,
    end: float | None,
    tolerance: float | None = None,
    same_container: bool = True,
) -> TrimOutcome:
    """Keep the span [*start*, *end*) of *src* (seconds) in *dst*.

    When both cut points fall within *tolerance* (default: one frame) of a
    keyframe, or *end* is the clip's end, the packets are copied as they are
    (no quality loss, cut on the keyframes); otherwise every kept frame is
    decoded and encoded again, cut exactly. Stream copy also needs the
    output container to be the input's (*same_container*).
    """
    info = probe(src)
    duration = info.duration or 0.0
    frame = float(1 / info.fps) if info.fps else 1 / 30
    tolerance = frame if tolerance is None else tolerance
    stop = duration if end is None else end
    if start < 0 or (end is not None and end <= start):
        raise UsageError(f"--start {start:g} --end {stop:g}: not a span", hint="give 0 <= start < end")
    if start >= duration - tolerance / 2:
        raise UsageError(f"--start {start:g}: the clip is only {duration:.3f} s long", hint="start earlier")
    if stop > duration + tolerance:
        raise UsageError(
            f"--end {stop:g}: the clip is only {duration:.3f} s long", hint=f"end at {duration:.3f} or earlier"
        )
    stop = min(stop, duration)
    keyframes = keyframe_times(src)
    cut_start = _near(keyframes, start, tolerance)
    to_end = stop >= duration - tolerance
    cut_end = duration if to_end else _near(keyframes, stop, tolerance)
    if same_container and cut_start is not None and cut_end is not None and cut_end > cut_start:
        _copy_span(src, dst, muxer=muxer, start=cut_start, end=None if to_end else cut_end)
        return TrimOutcome(start, stop, round(cut_start, 6), round(cut_end, 6), "stream copy")
    _reencode_span(src, dst, muxer=muxer, start=start, end=stop, info=info)
    return TrimOutcome(start, stop, start, stop, "re-encode")


def _near(points: tuple[float, ...], target: float, tolerance: float) -> float | None:
    best = min(points, key=lambda p: abs(p - target), default=None)
    return best if best is not None and abs(best - target) <= tolerance else None


def _copy_span(src: Path, dst: Path, *, muxer: str, start: float, end: float | None) -> None:
    try:
        with open_media(src) as inp, av.open(str(dst), "w", format=muxer) as out:
            streams = [s for s in (inp.streams.video[:1] + inp.streams.audio[:1])]
            mapping = {s.index: out.add_stream_from_template(s) for s in streams}
            _start(out, what="the source's streams", muxer=muxer)
            bases = {s.index: _first_pts(s) for s in streams}
            vin = streams[0]
            shift = {s.index: int(round(start / (s.time_base or 1))) + bases[s.index] for s in streams}
            for packet in inp.demux(*streams):
                if packet.dts is None or packet.pts is None:
                    continue
                index = packet.stream.index
                when = float((packet.pts - bases[index]) * packet.time_base)
                # Video packets are kept by presentation time: with closed GOPs
                # a keyframe-aligned span holds every frame its frames refer to.
                if when < start - 1e-6 or (end is not None and when >= end - 1e-6):
                    continue
                if index != vin.index and when < start:
                    continue
                packet.pts -= shift[index]
                packet.dts -= shift[index]
                packet.stream = mapping[index]
                out.mux(packet)
    except av.error.FFmpegError as exc:
        raise _failure(exc, src=src, dst=dst, what="the source's streams", muxer=muxer) from None


def _reencode_span(src: Path, dst: Path, *, muxer: str, start: float, end: float, info: MediaInfo) -> None:
    codec = DEFAULT_VIDEO_CODEC.get(muxer, "h264")
    rate = info.fps or Fraction(30)
    try:
        with open_media(src) as inp, av.open(str(dst), "w", format=muxer) as out:
            vin = inp.streams.video[0]
            ain = inp.streams.audio[0] if inp.streams.audio else None
            vout = _video_encoder(
                out, codec=codec, rate=rate, width=info.width or 2, height=info.height or 2, crf=None, bitrate=None
            )
            apath = _AudioPath(out, muxer, ain, copy=False) if ain is not None else None
            _start(out, what=f"{codec} video", muxer=muxer)
            bases = {vin.index: _first_pts(vin)}
            if ain is not None:
                bases[ain.index] = _first_pts(ain)
            if start > 0:
                inp.seek(int(start / (vin.time_base or 1)) + bases[vin.index], stream=vin, backward=True)
            index = 0
            for packet in inp.demux(*[s for s in (vin, ain) if s is not None]):
                decoded: Any
                for decoded in packet.decode():
                    if decoded.pts is None:
                        continue
                    when = float((decoded.pts - bases[packet.stream.index]) * decoded.time_base)
                    if not start - 1e-6 <= when < end - 1e-6:
                        continue
                    if packet.stream is vin:
                        decoded.pts = index
                        decoded.time_base = Fraction(1) / rate
                        index += 1
                        for out_packet in vout.encode(decoded):
                            out.mux(out_packet)
                    elif apath is not None:
                        apath.frame(decoded)  # type: ignore[arg-type]
            for out_packet in vout.encode(None):
                out.mux(out_packet)
            if apath is not None:
                apath.finish()
    except av.error.FFmpegError as exc:
        raise _failure(exc, src=src, dst=dst, what=f"{codec} video", muxer=muxer) from None


def remux_media(src: Path, dst: Path, *, muxer: str) -> RemuxOutcome:
    """Copy the video and audio streams of *src* into a *muxer* container
    without re-encoding (subtitle and data streams are left out)."""
    with contextlib.ExitStack() as stack:
        try:
            inp = stack.enter_context(open_media(src))
        except av.error.FFmpegError as exc:
            raise _decode_error(src, exc) from None
        # A stream FFmpeg finds no codec for (a damaged hdlr) cannot be copied either.
        streams = [s for s in list(inp.streams.video) + list(inp.streams.audio) if s.codec_context is not None]
        if not streams:
            raise UsageError(f"{src}: has no video or audio stream", hint="give a video file")
        names = tuple(s.codec_context.name for s in streams)
        refused = f"{src}: its streams ({', '.join(names)}) cannot be copied into {muxer.upper()}"
        hint = "use 'provenance transcode' to re-encode instead"
        try:
            with av.open(str(dst), "w", format=muxer) as out:
                try:
                    mapping = {s.index: out.add_stream_from_template(s) for s in streams}
                    out.start_encoding()
                except (av.error.FFmpegError, ValueError) as exc:
                    raise UsageError(f"{refused} ({_reason(exc)})", hint=hint) from None
                for packet in inp.demux(*streams):
                    if packet.dts is None:
                        continue
                    packet.stream = mapping[packet.stream.index]
                    out.mux(packet)
        except av.error.FFmpegError as exc:
            if getattr(exc, "errno", None) in _OUTPUT_ERRNOS and getattr(exc, "filename", None) != str(src):
                raise _output_failure(exc) from None
            if getattr(exc, "filename", None) == str(dst):
                raise UsageError(f"{refused} ({_reason(exc)})", hint=hint) from None
            raise _decode_error(src, exc) from None
    return RemuxOutcome(streams=names)


def container_for(fmt_name: str) -> str:
    """The FFmpeg muxer for one of provenance's container names."""
    return {"MP4": "mp4", "M4V": "mp4", "MOV": "mov", "AVI": "avi", "WebM": "webm", "MKV": "matroska"}[fmt_name]


def parse_time(text: str) -> float:
    """Seconds from ``"12.5"``, ``"1:02.5"`` or ``"0:01:02.5"``."""
    try:
        parts = [float(p) for p in text.strip().split(":")]
    except ValueError:
        raise UsageError(f"{text!r}: not a time", hint="give seconds (12.5) or [HH:]MM:SS(.fff)") from None
    if not 1 <= len(parts) <= 3 or any(p < 0 or math.isnan(p) or math.isinf(p) for p in parts):
        raise UsageError(f"{text!r}: not a time", hint="give seconds (12.5) or [HH:]MM:SS(.fff)")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds
