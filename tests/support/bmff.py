"""Test helpers for BMFF layouts: PyAV remuxes into other layouts, the
packets a demuxer sees, and a moov rewrite from stco to co64 (muxers only
write co64 past 4 GiB, too big for tests)."""

from __future__ import annotations

import struct
from pathlib import Path

import av

_PATH_TO_STBL = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def remux(src: Path, dst: Path, *, movflags: str | None = None) -> Path:
    """Copy the streams of *src* into *dst* without re-encoding, with ffmpeg's
    ``movflags`` (``faststart``: moov before mdat; ``frag_keyframe+empty_moov``:
    a fragmented file)."""
    options = {"movflags": movflags} if movflags else {}
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4", options=options) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return dst


def packets(path: Path) -> list[tuple[int, int | None, int | None, bytes]]:
    """``(stream, pts, dts, bytes)`` of every packet, as a player demuxes them."""
    with av.open(str(path)) as inp:
        return [(p.stream.index, p.pts, p.dts, bytes(p)) for p in inp.demux() if p.size]


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as inp:
        return sum(1 for _ in inp.decode(video=0))


def top_level_kinds(path: Path) -> list[bytes]:
    data = path.read_bytes()
    kinds, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
        kinds.append(kind)
        pos += size
    return kinds


def with_co64(src: Path, dst: Path) -> Path:
    """*src* (moov after mdat, so growing moov moves no media) with every
    ``stco`` rewritten as ``co64``: same chunk offsets, 8 bytes each."""
    data = src.read_bytes()
    out, pos = bytearray(), 0
    while pos < len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        box = data[pos : pos + size]
        out += _rewrite(box) if kind == b"moov" else box
        pos += size
    assert top_level_kinds(src).index(b"moov") > top_level_kinds(src).index(b"mdat"), "moov must follow mdat"
    dst.write_bytes(bytes(out))
    return dst


def _rewrite(box: bytes) -> bytes:
    kind = box[4:8]
    if kind == b"stco":
        count = struct.unpack_from(">I", box, 12)[0]
        offsets = struct.unpack_from(f">{count}I", box, 16)
        body = box[8:12] + struct.pack(">I", count) + struct.pack(f">{count}Q", *offsets)
        return struct.pack(">I4s", 8 + len(body), b"co64") + body
    if kind not in _PATH_TO_STBL:
        return box
    children, pos = b"", 8
    while pos + 8 <= len(box):
        size = struct.unpack_from(">I", box, pos)[0]
        children += _rewrite(box[pos : pos + size])
        pos += size
    return struct.pack(">I4s", 8 + len(children), kind) + children
