"""The layout work of one-pass BMFF signing (MP4, MOV, M4V), read and
rewritten without decoding media (no PyAV, no c2pa).

One-pass signing copies a clip while inserting a manifest box right after
``ftyp``, so every byte after it moves by the size of that box. The only
absolute file offsets a plain (non-fragmented) movie holds are the chunk
offset tables (``stco``, ``co64``) under ``moov``; :func:`read_layout`
accepts a file only when that is all there is to patch, and says why not
otherwise, so the caller can take the general path instead.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from provenance.media.boxes import C2PA_UUID
from provenance.text import fourcc

# A moov box is patched in memory; bigger ones (hours of many-track media)
# take the general path rather than the memory.
MAX_MOOV_BYTES = 64 << 20

# Boxes whose payload is more boxes, on the way from moov down to stbl.
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}
# Boxes that hold absolute file offsets this module does not rewrite, or mark
# a fragmented movie (whose fragments reference offsets of their own).
_REFUSED_INSIDE = {b"iloc": "an item location table (iloc)", b"saio": "sample auxiliary offsets (saio)",
                   b"mvex": "movie fragments (mvex)"}
_REFUSED_TOP = {b"moof": "movie fragments (moof)", b"sidx": "a segment index (sidx)",
                b"mfra": "a fragment random-access index (mfra)", b"ssix": "a sub-segment index (ssix)"}


class LayoutNotSupported(Exception):
    """The file is valid, but not a layout one-pass signing rewrites; the
    message says why. Callers take the general signing path."""


@dataclass(frozen=True)
class Box:
    """One top-level box: its type, where it starts, its whole size and
    the size of its header (8, or 16 with a 64-bit size)."""

    kind: bytes
    offset: int
    size: int
    header: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class BmffLayout:
    """The top-level boxes of a flat movie, in file order."""

    file_size: int
    boxes: tuple[Box, ...]
    largest_stco_offset: int | None  # the largest 32-bit chunk offset; None without stco

    def fits(self, shift: int) -> bool:
        """Whether every 32-bit chunk offset still fits after moving *shift* bytes."""
        return self.largest_stco_offset is None or self.largest_stco_offset + shift < 1 << 32

    @property
    def insert_at(self) -> int:
        """Where the manifest box goes: right after ``ftyp``."""
        return self.boxes[0].end

    @property
    def media(self) -> tuple[Box, ...]:
        """The ``mdat`` boxes, in file order (their Merkle tree ids)."""
        return tuple(b for b in self.boxes if b.kind == b"mdat")

    def merkle_leaves(self, leaf_bytes: int) -> int:
        """How many Merkle leaves of *leaf_bytes* cover the media: each
        ``mdat`` is hashed from its 16th byte on."""
        return sum(-(-(b.size - 16) // leaf_bytes) for b in self.media)


def read_layout(path: Path) -> BmffLayout:
    """The layout of the MP4/MOV/M4V *path*, or :class:`LayoutNotSupported`
    when it is not a flat movie whose only offsets are ``stco``/``co64``."""
    with open(path, "rb") as fh:
        fd = fh.fileno()
        size = os.fstat(fd).st_size
        boxes = _top_level(fd, size)
        moov = [b for b in boxes if b.kind == b"moov"]
        if len(moov) != 1:
            raise LayoutNotSupported(f"{len(moov)} moov boxes")
        largest: int | None = None
        for box in boxes:
            if box.kind not in (b"moov", b"meta"):
                continue
            if box.size > MAX_MOOV_BYTES:
                raise LayoutNotSupported(f"a {box.kind.decode()} box of {box.size} bytes")
            buf = os.pread(fd, box.size, box.offset)
            if len(buf) != box.size:
                raise LayoutNotSupported("the file changed while it was read")
            if box.kind == b"meta":
                _check_tree(buf, box.header + 4, box.size)
                continue
            for table in _check_tree(buf, box.header, box.size):
                if not table.wide and table.count:
                    largest = max(largest or 0, *struct.unpack_from(f">{table.count}I", buf, table.entries))
    if not boxes or boxes[0].kind != b"ftyp":
        raise LayoutNotSupported("the file does not start with an ftyp box")
    for box in boxes:
        if box.kind in _REFUSED_TOP:
            raise LayoutNotSupported(f"the file holds {_REFUSED_TOP[box.kind]}")
        if box.kind == b"mdat" and box.size <= 16:
            raise LayoutNotSupported("an mdat box with no media past its 16th byte")
    if not any(b.kind == b"mdat" for b in boxes):
        raise LayoutNotSupported("no mdat box")
    return BmffLayout(size, tuple(boxes), largest)


def _top_level(fd: int, size: int) -> list[Box]:
    boxes: list[Box] = []
    pos = 0
    while pos < size:
        head = os.pread(fd, 32, pos)
        if len(head) < 8:
            raise LayoutNotSupported(f"{size - pos} stray bytes at the end")
        length, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if length == 1:
            if len(head) < 16:
                raise LayoutNotSupported("a truncated box header")
            length, header = struct.unpack(">Q", head[8:16])[0], 16
        elif length == 0:
            raise LayoutNotSupported(f"a '{fourcc(kind)}' box that runs to the end of the file")
        if length < header or pos + length > size:
            raise LayoutNotSupported(f"a '{fourcc(kind)}' box that does not fit the file")
        if kind == b"uuid" and head[header : header + 16] == C2PA_UUID:
            raise LayoutNotSupported("the file already carries a C2PA manifest")
        boxes.append(Box(kind, pos, length, header))
        pos += length
    return boxes


@dataclass(frozen=True)
class _OffsetTable:
    entries: int  # where the first entry is, in the moov bytes
    count: int
    wide: bool  # co64 (8-byte entries) rather than stco


def _children(buf: bytes | bytearray, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """``(type, offset, payload_start, end)`` of the boxes in buf[start:end]."""
    out = []
    pos = start
    while pos + 8 <= end:
        length, kind = struct.unpack_from(">I4s", buf, pos)
        header = 8
        if length == 1:
            if pos + 16 > end:
                raise LayoutNotSupported("a truncated box header inside moov")
            length, header = struct.unpack_from(">Q", buf, pos + 8)[0], 16
        elif length == 0:
            length = end - pos
        if length < header or pos + length > end:
            raise LayoutNotSupported(f"a '{fourcc(kind)}' box that does not fit its parent")
        out.append((kind, pos, pos + header, pos + length))
        pos += length
    return out


def _check_tree(buf: bytes | bytearray, start: int, end: int, *, inside_stbl: bool = False) -> list[_OffsetTable]:
    """Walk the boxes in buf[start:end]; return the chunk offset tables,
    refuse boxes holding offsets this module cannot rewrite."""
    tables: list[_OffsetTable] = []
    for kind, _, payload, box_end in _children(buf, start, end):
        if kind in _REFUSED_INSIDE:
            raise LayoutNotSupported(f"moov holds {_REFUSED_INSIDE[kind]}")
        if kind in _CONTAINERS:
            tables += _check_tree(buf, payload, box_end, inside_stbl=kind == b"stbl")
        elif kind == b"meta":
            tables += _check_tree(buf, payload + 4, box_end)  # a full box: version and flags first
        elif kind in (b"stco", b"co64") and inside_stbl:
            wide = kind == b"co64"
            if payload + 8 > box_end:
                raise LayoutNotSupported(f"a truncated {kind.decode()} box")
            count = struct.unpack_from(">I", buf, payload + 4)[0]
            if payload + 8 + count * (8 if wide else 4) > box_end:
                raise LayoutNotSupported(f"a {kind.decode()} box shorter than its entry count")
            tables.append(_OffsetTable(payload + 8, count, wide))
    return tables


def shift_chunk_offsets(moov: bytes, delta: int) -> bytes:
    """*moov* (a whole top-level ``moov`` box) with every ``stco``/``co64``
    chunk offset moved by *delta* bytes. Raises :class:`LayoutNotSupported`
    when a 32-bit ``stco`` offset would overflow (the file is then close to
    4 GiB; the general path handles it)."""
    length = struct.unpack_from(">I", moov)[0]
    header = 16 if length == 1 else 8
    buf = bytearray(moov)
    for table in _check_tree(buf, header, len(buf)):
        fmt = f">{table.count}{'Q' if table.wide else 'I'}"
        offsets = struct.unpack_from(fmt, buf, table.entries)
        moved = [o + delta for o in offsets]
        if not table.wide and moved and max(moved) >= 1 << 32:
            raise LayoutNotSupported("a 32-bit chunk offset (stco) would pass 4 GiB")
        struct.pack_into(fmt, buf, table.entries, *moved)
    return bytes(buf)


def manifest_box(composed: bytes, size: int) -> bytes:
    """The C2PA ``uuid`` box *composed* (as c2pa-rs makes it) grown to
    exactly *size* bytes with zeros after its JUMBF, which readers ignore
    (c2pa-rs pads its own placeholders the same way)."""
    length, kind = struct.unpack_from(">I4s", composed)
    if kind != b"uuid" or length != len(composed) or composed[8:24] != C2PA_UUID:
        raise ValueError("not a composed C2PA uuid box")
    if len(composed) > size:
        raise LayoutNotSupported(f"the manifest ({len(composed)} bytes) outgrew its reserved {size} bytes")
    return struct.pack(">I", size) + composed[4:] + bytes(size - len(composed))


def manifest_store(composed: bytes) -> bytes:
    """The JUMBF manifest store inside the C2PA ``uuid`` box *composed*:
    after the UUID come version and flags, the purpose (a C string) and an
    8-byte offset, then the store, whose own length ends it."""
    purpose_end = composed.index(b"\x00", 28)
    start = purpose_end + 1 + 8
    jumbf_length = struct.unpack_from(">I", composed, start)[0]
    return composed[start : start + jumbf_length]
