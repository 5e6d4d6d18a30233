"""Content fingerprints of video: what survives a platform's re-encode.

A :class:`Fingerprint` is one 256-bit PDQ hash (Meta's perceptual image
hash, computed by :mod:`provenance.media.pdq`) per second of video, taken from the
first frame at or after each whole second, on a small grey copy of the frame
with uniform borders (letterbox, pillarbox) trimmed. PDQ survives
re-encoding, rescaling and overlays, and a second hash of the frame's centre
90% catches copies cropped by up to 5% a side; a sequence of them per
second survives frame-rate changes and trimming, and :func:`compare` finds
which span of a registered clip a query covers by sliding one sequence along
the other. docs/design/fingerprint.md says why PDQ and not ISCC, vPDQ or
TMK+PDQF, and how :data:`MATCH_THRESHOLD` was chosen.

Beside each PDQ hash the same normalised frame gives a 64-bit ISCC
Content-Code Image (ISO 24138, ``iscc-core``): ``io.iscc.v0`` is on the C2PA
soft-binding algorithm list, so :func:`soft_binding_assertion` records those
codes, one block per second with its timespan, in the embedded
``c2pa.soft-binding`` assertion; the repository indexes the PDQ hashes.

With :mod:`provenance.media.video` and :mod:`provenance.media.transcode`,
one of the modules that import ``av`` (and the only one importing
``iscc_core``).
"""

from __future__ import annotations

import itertools
import math
import os
import statistics
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import av
import av.error
import numpy as np

from provenance.errors import InputError, MalformedMediaError
from provenance.media.pdq import pdq_hash

ALGORITHM = "org.provenance.pdq-1s.v1"
"""Fingerprint.algorithm of :func:`compute`: PDQ per second, as above. Not on
the C2PA list (no PDQ or per-second video fingerprint is); the embedded
assertion uses :data:`SOFT_BINDING_ALG` instead."""

SOFT_BINDING_ALG = "io.iscc.v0"
"""The C2PA soft-binding algorithm list entry of the embedded assertion."""

MATCH_THRESHOLD = 0.5
"""A query matches a candidate when :func:`compare` scores at least this.

The score is the mean per-second similarity over the best alignment, where
one second scores 1 at a Hamming distance up to :data:`PAIR_NEAR` bits, 0 at
:data:`PAIR_FAR` bits or more, linearly between; seconds the query has and the
alignment cannot pair count 0. Unrelated video sits near 128 bits (score 0);
re-encoded, rescaled, cropped, letterboxed or overlaid copies at 0 to 75
bits; a second take of the same set at 64 to 126. benchmarks/bench_recovery.py measures recall and false matches at this
threshold."""

PAIR_NEAR = 50
PAIR_FAR = 100
STEP = 1.0  # seconds between samples
DENSE = 4  # samples a second of a dense (lookup) fingerprint
ZOOM = 0.9  # the centre fraction zoom_hashes look at
MIN_SECONDS = 2.0
MIN_QUALITY = 30  # PDQ quality (0..100) under which a frame is too flat to hash
MAX_SECONDS = 24 * 3600.0  # longer media is fingerprinted up to here
HASH_BYTES = 32
CODE_BYTES = 8
_WORK_WIDTH = 256  # frames are hashed at this width: PDQ looks at 64 x 64
_CODE_SIDE = 32  # the ISCC Image-Code looks at 32 x 32
_GROUP_BYTES = 16 << 20  # a keyframe group held longer than this is decoded whole
_MAGIC = b"PVFP"
_VERSION = 1


def waiting_threads() -> int:
    """Decoder threads for a fingerprint someone waits on (``sign
    --register``, ``verify --lookup``): the cores this process may run on,
    up to 4. Frame threads decode the same pictures (the fingerprint is
    identical) at a little more CPU time and a fraction of the wall time."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores))


class FingerprintError(InputError):
    """The clip cannot be fingerprinted: under :data:`MIN_SECONDS` of video,
    too uniform (black, flat or no informative frames), or fingerprint data
    is malformed. Exit code 5 (bad input), like every :class:`InputError`."""


@dataclass(frozen=True)
class Match:
    """How well a query matches a candidate, and where.

    ``start``/``end`` are seconds in the *candidate*: the span the query
    covers (the whole candidate when the query is a full copy).
    """

    score: float
    start: float
    end: float

    @property
    def matched(self) -> bool:
        return self.score >= MATCH_THRESHOLD


@dataclass(frozen=True)
class Fingerprint:
    """Per-second perceptual hashes of a clip.

    ``hashes`` holds ``(seconds from the first frame, 32-byte PDQ hash)`` in
    increasing time, about one per second; seconds whose frame was too flat
    (black, a fade) are left out. ``image_codes`` is empty or holds, for each
    hash, the 8-byte ISCC Image-Code digest of the same frame;
    ``zoom_hashes`` is empty or holds, for each hash, the PDQ hash of the
    frame's centre 90% (what a copy cropped by 5% a side shows).
    Registered clips carry both; a dense lookup query (``compute(...,
    dense=True)``) has four hashes a second and neither.
    """

    algorithm: str
    hashes: tuple[tuple[float, bytes], ...]
    duration: float
    image_codes: tuple[bytes, ...] = ()
    zoom_hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        for extra in (self.image_codes, self.zoom_hashes):
            if extra and len(extra) != len(self.hashes):
                raise FingerprintError("fingerprint data is malformed: extra hashes do not pair with hashes")

    def to_bytes(self) -> bytes:
        """Compact and versioned: 36 bytes a hash, 76 with image codes and zoom hashes."""
        alg = self.algorithm.encode()
        flags = (1 if self.image_codes else 0) | (2 if self.zoom_hashes else 0)
        out = bytearray(_MAGIC)
        out += struct.pack(">BB", _VERSION, len(alg)) + alg
        out += struct.pack(">dIB", self.duration, len(self.hashes), flags)
        for t, h in self.hashes:
            out += struct.pack(">I", round(t * 1000)) + h
        out += b"".join(self.image_codes) + b"".join(self.zoom_hashes)
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """The inverse of :meth:`to_bytes`; malformed data raises
        :class:`FingerprintError`, never anything else."""
        try:
            return cls._parse(memoryview(data))
        except (struct.error, UnicodeDecodeError, ValueError) as exc:
            raise FingerprintError(f"fingerprint data is malformed ({exc})") from None

    @classmethod
    def _parse(cls, data: memoryview) -> Fingerprint:
        if bytes(data[:4]) != _MAGIC:
            raise ValueError("not a provenance fingerprint")
        version, alg_len = struct.unpack_from(">BB", data, 4)
        if version != _VERSION:
            raise ValueError(f"unsupported version {version}")
        pos = 6
        alg = bytes(data[pos : pos + alg_len]).decode()
        pos += alg_len
        duration, count, flags = struct.unpack_from(">dIB", data, pos)
        pos += 13
        if not (math.isfinite(duration) and 0 <= duration <= MAX_SECONDS) or count > MAX_SECONDS * DENSE + 1:
            raise ValueError("duration or hash count out of range")
        has_codes, has_zoom = bool(flags & 1), bool(flags & 2)
        expected = pos + count * (4 + HASH_BYTES + CODE_BYTES * has_codes + HASH_BYTES * has_zoom)
        if len(data) != expected or flags > 3:
            raise ValueError(f"{len(data)} bytes where {expected} were expected")
        hashes = []
        last = -1.0
        for _ in range(count):
            (ms,) = struct.unpack_from(">I", data, pos)
            t = ms / 1000
            if t <= last or t > MAX_SECONDS:
                raise ValueError("hash times are not increasing")
            last = t
            hashes.append((t, bytes(data[pos + 4 : pos + 4 + HASH_BYTES])))
            pos += 4 + HASH_BYTES
        codes = (
            tuple(bytes(data[pos + i * CODE_BYTES : pos + (i + 1) * CODE_BYTES]) for i in range(count))
            if has_codes
            else ()
        )
        pos += count * CODE_BYTES * has_codes
        zoom = (
            tuple(bytes(data[pos + i * HASH_BYTES : pos + (i + 1) * HASH_BYTES]) for i in range(count))
            if has_zoom
            else ()
        )
        return cls(algorithm=alg, hashes=tuple(hashes), duration=duration, image_codes=codes, zoom_hashes=zoom)


def hamming(a: bytes, b: bytes) -> int:
    """Number of differing bits between two equal-length hashes."""
    if len(a) != len(b):
        raise ValueError(f"hashes differ in length ({len(a)} and {len(b)} bytes)")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


@dataclass(frozen=True)
class LookupQuery:
    """What one decode of a clip gives a repository lookup: its dense
    fingerprint and the small grey copy of the first frame of each whole
    second (the frames a registered fingerprint samples), from which
    :meth:`image_codes` computes the ISCC codes that confirm a candidate
    against its signed soft binding, only when a candidate comes back."""

    fingerprint: Fingerprint
    seconds: tuple[tuple[float, bytes], ...]  # (time, 32 x 32 grey pixels)

    def image_codes(self) -> list[tuple[float, bytes]]:
        """``(seconds, 8-byte ISCC Image-Code digest)`` per whole second, as
        ``compute(path)`` gives them in ``image_codes``."""
        side = _CODE_SIDE
        return [(t, _image_code(np.frombuffer(px, dtype=np.uint8).reshape(side, side))) for t, px in self.seconds]


def compute(path: Path, *, max_seconds: float | None = None, dense: bool = False, threads: int = 1) -> Fingerprint:
    """Fingerprint the first video stream of *path* (its first *max_seconds*).

    One sample a second (with image codes and zoom hashes) for registering;
    *dense* samples four times a second and skips both, for a lookup query,
    so that an excerpt cut anywhere aligns with a registered clip within
    1/8 s. Decodes on *threads* threads, skipping the loop filter,
    non-reference frames (the hashes look at 256-pixel-wide grey copies,
    where neither shows) and the rest of a keyframe group once none of its
    frames is sampled.

    Raises :class:`FingerprintError` for a clip under 2 s or without two
    informative frames, :class:`MalformedMediaError` for an undecodable file.
    """
    return _sample(path, max_seconds=max_seconds, dense=dense, threads=threads).fingerprint


def compute_query(path: Path, *, max_seconds: float | None = None, threads: int = 1) -> LookupQuery:
    """``compute(path, dense=True)`` and, from the same decode, what
    :meth:`LookupQuery.image_codes` needs: a lookup decodes the clip once."""
    return _sample(path, max_seconds=max_seconds, dense=True, threads=threads, keep_seconds=True)


class _Clock:
    """Where sampling stands, shared by the sampler and the packet feeder:
    the first frame's time, the next time to sample (seconds from the first
    frame), and the latest packet time seen (the clip's length)."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.next_t = 0.0
        self.exact = True  # frames carry their packets' times; else nothing is skipped
        self.latest = -math.inf


def _sample(
    path: Path,
    *,
    max_seconds: float | None,
    dense: bool,
    threads: int,
    keep_seconds: bool = False,
    skip_groups: bool = True,
) -> LookupQuery:
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file", hint="check the path")
    limit = min(max_seconds, MAX_SECONDS) if max_seconds is not None else MAX_SECONDS
    step = STEP / DENSE if dense else STEP
    hashes: list[tuple[float, bytes]] = []
    codes: list[bytes] = []
    zooms: list[bytes] = []
    seconds: list[tuple[float, bytes]] = []
    clock = _Clock()
    scalers = _Scalers()
    last = 0.0
    frame_step = 0.0
    next_whole = 0.0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise FingerprintError(f"{path}: no video stream to fingerprint")
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONREF"
            if stream.codec_context.name in ("h264", "hevc"):
                stream.codec_context.options = {"skip_loop_filter": "all"}
            rate = float(stream.average_rate or 0) or 25.0
            frame_step = 1.0 / rate
            index = 0
            for frame in _decode(container, stream, clock if skip_groups else None, threads=threads, step=step):
                if frame.time is None:
                    clock.exact = False
                t = float(frame.time) if frame.time is not None else index / rate
                index += 1
                if clock.first is None:
                    clock.first = t
                rel = t - clock.first
                if rel > limit:
                    break
                last = max(last, rel)
                if rel + 1e-3 < clock.next_t:
                    continue
                # one sample per frame: a jump in timestamps skips samples
                # rather than hashing one frame many times
                clock.next_t = (math.floor(rel / step + 1e-3) + 1) * step
                # the frame a registered fingerprint samples for this second
                whole = keep_seconds and rel + 1e-3 >= next_whole
                if whole:
                    next_whole = math.floor(rel + 1e-3) + 1.0
                sample = _hash_frame(frame, extras=not dense, small=whole, scalers=scalers)
                if sample is None:
                    continue
                at = round(rel, 3)
                hashes.append((at, sample.digest))
                if not dense:
                    assert sample.small is not None  # extras include the small copy
                    codes.append(_image_code(sample.small))
                    zooms.append(sample.zoom)
                elif sample.small is not None:
                    seconds.append((at, sample.small.tobytes()))
    except av.error.FFmpegError as exc:
        raise MalformedMediaError(
            f"{path}: the video cannot be decoded ({exc})",
            hint="the file is truncated or damaged; use an intact copy",
        ) from None
    if clock.first is not None and clock.latest - clock.first <= limit:
        # frames left undecoded (non-reference, a skipped group's tail) still count
        last = max(last, clock.latest - clock.first)
    duration = round(min(last + frame_step, limit), 3) if clock.first is not None else 0.0
    if duration < MIN_SECONDS:
        raise FingerprintError(
            f"{path}: too short to fingerprint ({duration:.1f} s of video)",
            hint=f"a content fingerprint needs at least {MIN_SECONDS:g} s",
        )
    if len(hashes) < 2:
        raise FingerprintError(
            f"{path}: too uniform to fingerprint (black or flat frames)",
            hint="a content fingerprint needs frames with visible detail",
        )
    fp = Fingerprint(
        algorithm=ALGORITHM, hashes=tuple(hashes), duration=duration, image_codes=tuple(codes), zoom_hashes=tuple(zooms)
    )
    return LookupQuery(fingerprint=fp, seconds=tuple(seconds))


def _decode(
    container: Any, stream: Any, clock: _Clock | None, *, threads: int = 1, step: float = STEP
) -> Iterator[av.VideoFrame]:
    """The decoded frames of *stream*. With *clock*, the rest of a keyframe
    group is not decoded once every frame left in it (by its packets'
    presentation times) falls before ``clock.next_t``: none would be
    sampled. Only a group's tail is dropped, never a packet a decoded one
    refers to, and only when the next group starts clean (its keyframe
    has no leading pictures that refer back), so the frames that are
    sampled decode exactly as in a full decode: 2-second groups of one
    sample a second decode about half their frames, 1-second groups that
    start on whole seconds only their keyframes.

    Up to *threads* frame threads decode when the first group is longer
    than 1.5 sampling steps (*step*), so that runs of frames are decoded;
    with a keyframe per sample only the keyframe is, and a frame thread
    would only decode one frame more per group (measured: 12 % more wall
    time, not less)."""
    base = stream.time_base
    starts = _random_access_test(stream.codec_context)
    configured = False
    for group, clean_after in _groups(container.demux(stream), starts):
        times = [float(p.pts * base) if p.pts is not None else math.inf for p in group]
        if not configured:  # before the first decode opens the decoder
            known = [t for t in times if t != math.inf]
            span = max(known) - min(known) if known else math.inf
            use = threads > 1 and (clock is None or not clean_after or span > 1.5 * step)
            stream.thread_type = "AUTO" if use else "NONE"
            stream.codec_context.thread_count = threads if use else 1
            configured = True
        if clock is not None:
            clock.latest = max([clock.latest, *(t for t in times if t != math.inf)])
        # the latest presentation time among the packets from i on
        later = list(itertools.accumulate(reversed(times), max))[::-1]
        for i, packet in enumerate(group):
            if (
                clock is not None
                and clean_after
                and clock.exact
                and clock.first is not None
                and later[i] - clock.first + 2e-3 < clock.next_t
            ):
                break
            yield from stream.codec_context.decode(packet)
    for frame in stream.codec_context.decode(None):  # drain: these come without a time base
        if frame.time_base is None:
            frame.time_base = base
        yield frame


def _groups(packets: Iterable[Any], starts: Callable[[Any], bool] | None) -> Iterator[tuple[list[Any], bool]]:
    """*packets* in groups from one keyframe to the next, each with whether
    the group after it starts clean: on a packet *starts* says the decoder
    can start at (an IDR picture, not an open GOP's I picture), with no
    packet showing before it (a leading picture refers to the group
    before). A group is held until the next one is read; one over
    :data:`_GROUP_BYTES` is passed on undecided (nothing skipped), and
    nothing is without *starts*."""
    pending: list[Any] | None = None
    current: list[Any] = []
    size = 0
    for packet in packets:
        if packet.size == 0:  # the demuxer's end-of-stream packet: _decode drains itself
            continue
        if packet.is_keyframe and current:
            if pending is not None:
                yield pending, _clean(current, starts)
            pending, current, size = current, [], 0
        current.append(packet)
        size += packet.size
        if size > _GROUP_BYTES:
            if pending is not None:
                yield pending, False
            yield current, False
            pending, current, size = None, [], 0
    if pending is not None:
        yield pending, _clean(current, starts) if current else True
    if current:
        yield current, True


def _clean(group: list[Any], starts: Callable[[Any], bool] | None) -> bool:
    first = group[0]
    if starts is None or not first.is_keyframe or first.pts is None or not starts(first):
        return False
    return all(p.pts is not None and p.pts >= first.pts for p in group)


def _random_access_test(codec: Any) -> Callable[[Any], bool] | None:
    """A test of whether a keyframe packet of *codec* is a point where
    decoding starts afresh, or None when that cannot be told (then nothing
    is skipped). H.264 and HEVC mark open GOPs' I pictures as keyframes
    too; after those FFmpeg withholds frames until its recovery point, so
    only IDR pictures count (found in the packet's NAL units). A VP8, VP9
    or AV1 keyframe resets every reference; so does any frame of an
    intra-only codec."""
    name = codec.name
    extradata = bytes(codec.extradata or b"")
    if name in ("vp8", "vp9", "av1") or codec.codec.intra_only:
        return lambda packet: True
    if name == "h264" and len(extradata) > 4 and extradata[0] == 1:  # avcC: length-prefixed NAL units
        size = (extradata[4] & 3) + 1
        return lambda packet: _first_slice_type(bytes(packet), size, hevc=False) == 5
    if name == "hevc" and len(extradata) > 21 and extradata[0] == 1:  # hvcC
        size = (extradata[21] & 3) + 1
        return lambda packet: _first_slice_type(bytes(packet), size, hevc=True) in (19, 20)
    return None  # Annex B streams (MPEG-TS), MPEG-2's open GOPs, the rest: decode every group whole


def _first_slice_type(data: bytes, length_size: int, *, hevc: bool) -> int | None:
    """The NAL unit type of the first picture slice in a length-prefixed
    packet (H.264 types 1-5, HEVC 0-31), or None."""
    pos = 0
    while pos + length_size < len(data):
        length = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        if length <= 0 or pos >= len(data):
            return None
        kind = (data[pos] >> 1) & 0x3F if hevc else data[pos] & 0x1F
        if (hevc and kind < 32) or (not hevc and 1 <= kind <= 5):
            return kind
        pos += length
    return None


class _Sample(NamedTuple):
    digest: bytes
    zoom: bytes
    small: np.ndarray | None  # 32 x 32 grey, for the ISCC Image-Code


class _Scalers:
    """The two swscale conversions a sample needs, each kept from frame to
    frame: a fresh one costs its filter set-up every time (a 32 x 32
    bicubic copy took 0.8-2.3 ms that way, 0.07 ms reused), with the same
    pixels out."""

    def __init__(self) -> None:
        from av.video.reformatter import VideoReformatter

        self.work = VideoReformatter()
        self.code = VideoReformatter()


def _hash_frame(
    frame: av.VideoFrame, *, extras: bool, small: bool = False, scalers: _Scalers | None = None
) -> _Sample | None:
    """PDQ hash of one frame and, with *extras*, the PDQ hash of its centre
    90% and its 32 x 32 grey copy (for the ISCC Image-Code; also with
    *small*), or None when it is flat."""
    scalers = scalers or _Scalers()
    height = max(2, round(frame.height * _WORK_WIDTH / max(frame.width, 1)))
    work = scalers.work.reformat(frame, width=_WORK_WIDTH, height=height, format="gray", interpolation="AREA")
    trimmed = _trim_borders(work.to_ndarray())
    if trimmed is None:
        return None
    digest, quality = pdq_hash(trimmed)
    if quality < MIN_QUALITY:
        return None
    zoom = b""
    if extras:
        h, w = trimmed.shape
        dy, dx = round(h * (1 - ZOOM) / 2), round(w * (1 - ZOOM) / 2)
        zoom, _ = pdq_hash(np.ascontiguousarray(trimmed[dy : h - dy, dx : w - dx]))
    pixels = None
    if extras or small:
        copy = av.VideoFrame.from_ndarray(np.ascontiguousarray(trimmed), format="gray")
        code = scalers.code.reformat(copy, width=_CODE_SIDE, height=_CODE_SIDE, interpolation="BICUBIC")
        pixels = code.to_ndarray()
    return _Sample(digest, zoom, pixels)


def _image_code(pixels: np.ndarray) -> bytes:
    """The 64-bit ISCC Content-Code Image digest of 32 x 32 grey *pixels*:
    ``iscc_core.soft_hash_image_v0(pixels, bits=64)`` step for step (its
    DCT, ``alg_dct``, per row, then per column, the top-left 8 x 8 against
    their median), with the column DCT run only on the 8 columns a 64-bit
    code reads, which saves 24 of its 64 DCTs. tests/media/test_fingerprint.py
    checks it against iscc-core's function."""
    import iscc_core

    rows = [iscc_core.alg_dct(row) for row in pixels.tolist()]
    columns = [iscc_core.alg_dct([row[x] for row in rows]) for x in range(8)]
    block = [columns[x][y] for y in range(8) for x in range(8)]
    middle = statistics.median(block)
    return int("".join("1" if v > middle else "0" for v in block), 2).to_bytes(CODE_BYTES, "big")


def _trim_borders(grey: np.ndarray) -> np.ndarray | None:
    """Cut uniform bars (letterbox, pillarbox) off the edges, or None when
    under a quarter of the frame would remain (a flat frame)."""
    rows = _content_span(grey)
    cols = _content_span(grey.T)
    if rows is None or cols is None:
        return None
    (top, bottom), (left, right) = rows, cols
    if (bottom - top) * (right - left) < grey.size / 4:
        return None
    return grey[top:bottom, left:right]


def _content_span(grey: np.ndarray) -> tuple[int, int] | None:
    """First and past-last row of *grey* that is not part of a uniform bar."""
    means = grey.mean(axis=1)
    stds = grey.std(axis=1)
    flat = stds < 6.0
    n = len(means)
    top = 0
    while top < n and flat[top] and abs(means[top] - means[0]) < 10:
        top += 1
    bottom = n
    while bottom > top and flat[bottom - 1] and abs(means[bottom - 1] - means[n - 1]) < 10:
        bottom -= 1
    if bottom - top < 8:
        return None
    return top, bottom


def compare(query: Fingerprint, candidate: Fingerprint) -> Match:
    """Slide *query* along *candidate*; the best alignment's score (see
    :data:`MATCH_THRESHOLD`) and the candidate span it covers.

    A query may be a copy of the whole candidate or an excerpt of it (10 s or
    more to match reliably); seconds of the query outside the candidate
    count against the score. A dense query is tried at each of its four
    sub-second phases, and each query is tried against the candidate's full
    frames and, where it has them, their centre 90% (a cropped copy).
    """
    if not query.hashes or not candidate.hashes:
        return Match(score=0.0, start=0.0, end=0.0)
    # a candidate is a registered (one a second) fingerprint; of a dense one,
    # only the samples on whole seconds take part
    keep = list(range(len(candidate.hashes)))
    if len(keep) > 1.5 * candidate.duration / STEP + 2:
        keep = [i for i in keep if round((candidate.hashes[i][0] % STEP) * DENSE / STEP) % DENSE == 0]
    c_idx = np.array([round(candidate.hashes[i][0] / STEP) for i in keep], dtype=np.int64)
    variants = [_bits([candidate.hashes[i][1] for i in keep])]
    if candidate.zoom_hashes:
        variants.append(_bits([candidate.zoom_hashes[i] for i in keep]))
    if len(keep) == 0:
        return Match(score=0.0, start=0.0, end=0.0)
    q_times = np.array([t for t, _ in query.hashes])
    q_bits = _bits([h for _, h in query.hashes])
    # the sub-second phase of each query sample, in quarters of a second
    phase = np.rint((q_times % STEP) * DENSE / STEP).astype(np.int64) % DENSE
    best_score, best_shift = 0.0, 0.0
    for k in np.unique(phase):
        rows = phase == k
        q_idx = np.rint(q_times[rows] / STEP - k / DENSE).astype(np.int64)
        offsets = c_idx[None, :] - q_idx[:, None]
        lo = int(offsets.min())
        denominator = min(len(q_idx), len(c_idx))
        for c_bits in variants:
            qb = q_bits[rows]
            # Hamming distances of every query sample to every candidate second
            dist = qb @ (1 - c_bits).T + (1 - qb) @ c_bits.T
            sim = np.clip((PAIR_FAR - dist) / (PAIR_FAR - PAIR_NEAR), 0.0, 1.0)
            # an alignment is a candidate index minus a query index: sum each diagonal
            totals = np.bincount((offsets - lo).ravel(), weights=sim.ravel())
            at = int(np.argmax(totals))
            score = float(totals[at]) / denominator
            if score > best_score:
                best_score, best_shift = score, (at + lo) * STEP - k * STEP / DENSE
    best_shift = float(best_shift)
    start = min(max(0.0, best_shift), candidate.duration)
    end = min(candidate.duration, best_shift + query.duration)
    return Match(score=round(min(best_score, 1.0), 4), start=round(start, 3), end=round(max(end, start), 3))


def _bits(hashes: list[bytes]) -> np.ndarray:
    """Hashes unpacked to rows of 0/1; float32 keeps the distance products in BLAS."""
    raw = np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(len(hashes), HASH_BYTES)
    return np.unpackbits(raw, axis=1).astype(np.float32)


def soft_binding_assertion(fp: Fingerprint) -> dict[str, Any]:
    """The data of a ``c2pa.soft-binding`` assertion for *fp*.

    Algorithm ``io.iscc.v0`` (ISO 24138, on the C2PA soft-binding algorithm
    list); one block per fingerprinted second, scoped to its timespan in
    milliseconds from the start of the media, whose value is that second's
    ISCC Content-Code Image in its canonical ``ISCC:...`` form.
    """
    import iscc_core

    if not fp.image_codes:
        raise FingerprintError("this fingerprint carries no ISCC image codes for a soft-binding assertion")
    blocks = []
    times = [t for t, _ in fp.hashes]
    for i, (t, code) in enumerate(zip(times, fp.image_codes, strict=True)):
        end = times[i + 1] if i + 1 < len(times) else fp.duration
        end = min(end, t + STEP, fp.duration)
        iscc = iscc_core.encode_component(
            mtype=iscc_core.MT.CONTENT,
            stype=iscc_core.ST_CC.IMAGE,
            version=iscc_core.VS.V0,
            bit_length=CODE_BYTES * 8,
            digest=code,
        )
        blocks.append(
            {
                "scope": {"timespan": {"start": round(t * 1000), "end": max(round(end * 1000), round(t * 1000) + 1)}},
                "value": f"ISCC:{iscc}",
            }
        )
    return {
        "alg": SOFT_BINDING_ALG,
        "name": "ISCC Content-Code Image of the first frame of each second (ISO 24138)",
        "blocks": blocks,
        "pad": [],
    }
