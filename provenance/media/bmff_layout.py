"""The layout work of one-pass BMFF signing (MP4, MOV, M4V), read and
rewritten without decoding media (no PyAV, no c2pa).

One-pass signing writes a clip in the layout every known validator hashes
the same way: ``ftyp``, the manifest box, the other boxes (``moov``
among them), then one ``mdat`` with a 64-bit header, last in the file. The
BMFF hash's Merkle leaves cover an ``mdat`` past its 16-byte exclusion
(c2pa-rs) or past its header (c2pa-ts, which also reads its last leaf to a
full leaf size); with a 16-byte header at the end of the file the two are
the same bytes. Every ``mdat``'s payload is copied into that one, in order,
so the media moves; the only absolute file offsets a plain (non-fragmented)
movie holds are the chunk offset tables (``stco``, ``co64``) under
``moov``, and :func:`read_layout` accepts a file only when that is all
there is to patch, and says why not otherwise, so the caller can take the
general path instead.
"""

from __future__ import annotations

import bisect
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from provenance.media.bmff import Box as Box  # the record one_pass copies by
from provenance.media.bmff import BoxReader, MalformedBoxError
from provenance.media.boxes import C2PA_UUID

# A moov box is patched in memory; bigger ones (hours of many-track media)
# take the general path rather than the memory.
MAX_MOOV_BYTES = 64 << 20
_COPY_BYTES = 4 << 20

# Boxes whose payload is more boxes, on the way from moov down to stbl.
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}
# Boxes that hold absolute file offsets this module does not rewrite, or mark
# a fragmented movie (whose fragments reference offsets of their own).
_REFUSED_INSIDE = {
    b"iloc": "an item location table (iloc)",
    b"saio": "sample auxiliary offsets (saio)",
    b"mvex": "movie fragments (mvex)",
}
_REFUSED_TOP = {
    b"moof": "movie fragments (moof)",
    b"sidx": "a segment index (sidx)",
    b"mfra": "a fragment random-access index (mfra)",
    b"ssix": "a sub-segment index (ssix)",
}


class LayoutNotSupported(Exception):
    """The file is valid, but not a layout one-pass signing rewrites; the
    message says why. Callers take the general signing path."""


# The header one-pass signing gives the mdat: size 1, then a 64-bit largesize.
MDAT_HEADER = 16


@dataclass(frozen=True)
class BmffLayout:
    """The top-level boxes of a flat movie, in file order."""

    file_size: int
    boxes: tuple[Box, ...]
    largest_stco_offset: int | None  # the largest 32-bit chunk offset; None without stco

    @property
    def insert_at(self) -> int:
        """Where the manifest box goes: right after ``ftyp``."""
        return self.boxes[0].end

    @property
    def media(self) -> tuple[Box, ...]:
        """The ``mdat`` boxes, in file order: their payloads, in this order,
        become the payload of the one ``mdat`` written."""
        return tuple(b for b in self.boxes if b.kind == b"mdat")

    @property
    def structure(self) -> tuple[Box, ...]:
        """The boxes written between the manifest box and the ``mdat``:
        all but ``ftyp`` and the ``mdat`` boxes, in file order."""
        return tuple(b for b in self.boxes[1:] if b.kind != b"mdat")

    @property
    def media_size(self) -> int:
        return sum(b.payload_size for b in self.media)

    def mdat_header(self) -> bytes:
        """The 64-bit header of the one ``mdat`` written."""
        return struct.pack(">I4sQ", 1, b"mdat", MDAT_HEADER + self.media_size)

    def merkle_leaves(self, leaf_bytes: int) -> int:
        """How many Merkle leaves of *leaf_bytes* cover the media: the one
        ``mdat`` is hashed from its 16th byte on, its whole payload."""
        return -(-self.media_size // leaf_bytes)

    def relocate(self, box: bytes, media_at: int) -> bytes:
        """*box* (a whole top-level ``moov`` or ``meta`` box of this file)
        with every chunk offset moved to where its media goes when the
        ``mdat`` payload starts at *media_at*. Raises
        :class:`LayoutNotSupported` for an offset outside every ``mdat``
        payload, or a 32-bit ``stco`` offset that would pass 4 GiB (the
        general path handles such files; rewriting ``stco`` as ``co64``
        would grow ``moov`` and move the media again)."""
        starts = [b.payload_start for b in self.media]
        # where each source payload starts inside the written one
        placed: list[int] = []
        at = media_at
        for b in self.media:
            placed.append(at)
            at += b.payload_size
        buf = bytearray(box)
        for table in _check_tree(buf):
            fmt = f">{table.count}{'Q' if table.wide else 'I'}"
            offsets = struct.unpack_from(fmt, buf, table.entries)
            if len(starts) == 1 and offsets and starts[0] <= min(offsets) and max(offsets) < self.media[0].end:
                moved = [o + placed[0] - starts[0] for o in offsets]  # the usual one mdat: one shift
            else:
                moved = [self._moved(o, starts, placed) for o in offsets]
            if not table.wide and moved and max(moved) >= 1 << 32:
                raise LayoutNotSupported("a 32-bit chunk offset (stco) would pass 4 GiB")
            struct.pack_into(fmt, buf, table.entries, *moved)
        return bytes(buf)

    def _moved(self, offset: int, starts: list[int], placed: list[int]) -> int:
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0 or offset >= self.media[i].end:
            raise LayoutNotSupported(f"a chunk offset ({offset}) outside the media")
        return placed[i] + offset - starts[i]


def read_layout(path: Path) -> BmffLayout:
    """The layout of the MP4/MOV/M4V *path*, or :class:`LayoutNotSupported`
    when it is not a flat movie whose only offsets are ``stco``/``co64``."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        boxes = _top_level(BoxReader.of_file(fh))
        moov = [b for b in boxes if b.kind == b"moov"]
        if len(moov) != 1:
            raise LayoutNotSupported(f"{len(moov)} moov boxes")
        largest: int | None = None
        for box in boxes:
            if box.kind not in (b"moov", b"meta"):
                continue
            if box.size > MAX_MOOV_BYTES:
                raise LayoutNotSupported(f"a {box.name} box of {box.size} bytes")
            buf = os.pread(fh.fileno(), box.size, box.offset)
            if len(buf) != box.size:
                raise LayoutNotSupported("the file changed while it was read")
            for table in _check_tree(buf):
                if not table.wide and table.count:
                    largest = max(largest or 0, *struct.unpack_from(f">{table.count}I", buf, table.entries))
    if not boxes or boxes[0].kind != b"ftyp":
        raise LayoutNotSupported("the file does not start with an ftyp box")
    for box in boxes:
        if box.kind in _REFUSED_TOP:
            raise LayoutNotSupported(f"the file holds {_REFUSED_TOP[box.kind]}")
    if not any(b.kind == b"mdat" and b.payload_size for b in boxes):
        raise LayoutNotSupported("no media (no mdat box with a payload)")
    return BmffLayout(size, tuple(boxes), largest)


def _top_level(reader: BoxReader) -> list[Box]:
    boxes: list[Box] = []
    try:
        for box in reader.boxes():
            if box.to_end:  # the copy would have to rewrite its size
                raise LayoutNotSupported(f"a {box.name} box that runs to the end of the file")
            if box.usertype == C2PA_UUID:
                raise LayoutNotSupported("the file already carries a C2PA manifest")
            boxes.append(box)
    except MalformedBoxError as exc:  # c2pa-rs's path reports it
        raise LayoutNotSupported(exc.message) from None
    if boxes and boxes[-1].end != reader.size:  # a closing 32-bit zero the copy would drop
        raise LayoutNotSupported(f"{reader.size - boxes[-1].end} stray bytes at the end")
    return boxes


@dataclass(frozen=True)
class _OffsetTable:
    entries: int  # where the first entry is, in the box's bytes
    count: int
    wide: bool  # co64 (8-byte entries) rather than stco


def _check_tree(buf: bytes | bytearray) -> list[_OffsetTable]:
    """The chunk offset tables in *buf*, one whole top-level ``moov`` (or
    ``meta``) box; refuse boxes holding offsets this module cannot rewrite."""
    reader = BoxReader.of_buffer(buf)
    try:
        top = next(reader.boxes(), None)
    except MalformedBoxError as exc:
        raise LayoutNotSupported(exc.message) from None
    if top is None or top.size != len(buf):
        raise LayoutNotSupported("not one whole box")
    try:
        return _tables(reader, buf, top)
    except MalformedBoxError as exc:  # offsets in the message count from the box's start
        raise LayoutNotSupported(f"inside {top.name}: {exc.message}") from None


def _tables(reader: BoxReader, buf: bytes | bytearray, parent: Box) -> list[_OffsetTable]:
    tables: list[_OffsetTable] = []
    # meta is a full box: version and flags come before its children
    for box in reader.children(parent, skip=4 if parent.kind == b"meta" else 0):
        if box.kind in _REFUSED_INSIDE:
            raise LayoutNotSupported(f"moov holds {_REFUSED_INSIDE[box.kind]}")
        if box.kind in _CONTAINERS or box.kind == b"meta":
            tables += _tables(reader, buf, box)
        elif box.kind in (b"stco", b"co64") and parent.kind == b"stbl":
            wide = box.kind == b"co64"
            if box.payload_size < 8:
                raise LayoutNotSupported(f"a truncated {box.name} box")
            count = struct.unpack_from(">I", buf, box.payload_start + 4)[0]
            if box.payload_start + 8 + count * (8 if wide else 4) > box.end:
                raise LayoutNotSupported(f"a {box.name} box shorter than its entry count")
            tables.append(_OffsetTable(box.payload_start + 8, count, wide))
    return tables


def _composed(composed: bytes, *, start: int = 0) -> Box:
    """The first box of *composed* from *start*; ValueError when there is
    none (c2pa-rs composed something else: a bug, not bad input)."""
    try:
        box = next(BoxReader.of_buffer(composed).boxes(start), None)
    except MalformedBoxError as exc:
        raise ValueError(f"not a composed C2PA uuid box: {exc.message}") from None
    if box is None:
        raise ValueError("not a composed C2PA uuid box: no box")
    return box


def manifest_box(composed: bytes, size: int) -> bytes:
    """The C2PA ``uuid`` box *composed* (as c2pa-rs makes it) grown to
    exactly *size* bytes with zeros after its JUMBF, which readers ignore
    (c2pa-rs pads its own placeholders the same way)."""
    box = _composed(composed)
    if box.usertype != C2PA_UUID or box.size != len(composed) or box.header != 24:
        raise ValueError("not a composed C2PA uuid box")
    if len(composed) > size:
        raise LayoutNotSupported(f"the manifest ({len(composed)} bytes) outgrew its reserved {size} bytes")
    return struct.pack(">I", size) + composed[4:] + bytes(size - len(composed))


def manifest_store(composed: bytes) -> bytes:
    """The JUMBF manifest store inside the C2PA ``uuid`` box *composed*:
    after the UUID come version and flags, the purpose (a C string) and an
    8-byte offset, then the store, a box whose own size ends it."""
    purpose_end = composed.index(b"\x00", 28)
    store = _composed(composed, start=purpose_end + 1 + 8)
    return composed[store.offset : store.end]


def write_interop_copy(layout: BmffLayout, source: BinaryIO, dest: BinaryIO) -> None:
    """Copy the file *source* (read as *layout*) into the empty *dest* in
    the layout one-pass signing writes, without a manifest: ``ftyp``, the
    other boxes with chunk offsets relocated, one 64-bit ``mdat`` last.
    For media that c2pa-rs then signs itself (edits with a parent), so
    that its Merkle leaves are the bytes c2pa-ts hashes too."""
    src = source.fileno()
    media_at = layout.insert_at + sum(b.size for b in layout.structure) + MDAT_HEADER

    def copy(offset: int, size: int) -> None:
        while size:
            chunk = os.pread(src, min(size, _COPY_BYTES), offset)
            if not chunk:
                raise LayoutNotSupported("the file changed while it was read")
            dest.write(chunk)
            offset, size = offset + len(chunk), size - len(chunk)

    parts = [
        layout.relocate(os.pread(src, b.size, b.offset), media_at) if b.kind in (b"moov", b"meta") else b
        for b in layout.structure
    ]
    copy(layout.boxes[0].offset, layout.boxes[0].size)
    for part in parts:
        if isinstance(part, bytes):
            dest.write(part)
        else:
            copy(part.offset, part.size)
    dest.write(layout.mdat_header())
    for box in layout.media:
        copy(box.payload_start, box.payload_size)
    dest.flush()
