"""ISO-BMFF box headers, read one way for every module that walks boxes:
MP4/MOV/M4V files, fragmented MP4 segments, and JUMBF (the C2PA manifest
store), which uses the same header.

The policy, for every walk over the boxes in a parent range [start, end):

1. A header is a 32-bit big-endian size and a 4-byte type. Size 1: a 64-bit
   largesize follows (header 16 bytes). Type ``uuid``: a 16-byte extended
   type follows, and counts as header (ISO/IEC 14496-12, 4.2).
2. Size 0: the box extends to the end of its parent. It is therefore the
   last box of the walk; the standard allows it only there, and bytes a
   writer put after it are read as its payload (as c2pa-rs and ffmpeg
   read them). :attr:`Box.to_end` says a box was sized this way.
3. Broken boxes raise :class:`MalformedBoxError` (a
   :class:`~provenance.errors.MalformedMediaError`) once every good box
   before them was yielded: a size smaller than its header (the base class),
   a box running past its parent's end (:class:`BoxOverrunError`: at the top
   of a file, a truncated file), fewer bytes left than a header needs
   (:class:`TruncatedHeaderError`).
4. One exception: four zero bytes closing a parent end the walk quietly
   (QuickTime ends ``udta`` lists with a 32-bit zero).
5. A crafted file cannot make a walk run without bound: one reader yields at
   most ``max_boxes`` boxes over all its walks and descends at most
   ``max_depth`` levels (:class:`BoxLimitError`).
6. A lenient reader (``lenient=True``, for display, where c2pa-rs is the
   judge) ends a walk quietly at the first broken box or limit instead.

Box types appear in messages as inert text (``'moov'``, or hex when they
are not printable ASCII). Files are read by offset, one header at a time.

Who reads how: :mod:`~provenance.media.boxes` walks strictly (its structure
check reports a truncated file and leaves junk after the boxes to c2pa-rs,
which calls such a signed file tampered); :mod:`~provenance.media.bmff_layout`
walks strictly and takes any error as a reason to sign through c2pa-rs;
:mod:`~provenance.media.fragments` and :mod:`provenance.credentials.cose`
walk leniently. Hand-written rather than pymp4 (construct): only headers
are read here, by offset, from files of any size.

>>> reader = BoxReader.of_buffer(bytes.fromhex("0000000c66726565") + b"junk")
>>> [(box.name, box.offset, box.size, box.payload_start) for box in reader.boxes()]
[("'free'", 0, 12, 8)]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from provenance.errors import MalformedMediaError
from provenance.text import fourcc

# A day of 2-second fragments is ~90k top-level boxes; a million take a few
# seconds to walk, so a crafted file costs seconds, never a hang.
MAX_BOXES = 1_000_000
MAX_DEPTH = 32  # real files nest ~10 deep (moov/trak/mdia/minf/stbl/stsd/...)

_SIZE_HEADER = 8
_LARGE_HEADER = 16
_USERTYPE = 16


def type_name(kind: bytes) -> str:
    """*kind* as inert text for a message, quoted: ``'moov'``, ``'\\x1b[2J'``
    (see :func:`provenance.text.fourcc`)."""
    return f"'{fourcc(kind)}'"


class MalformedBoxError(MalformedMediaError):
    """A box header breaks the box policy (this base: a size smaller than
    its header). ``offset`` is where the box starts, ``kind`` its type."""

    def __init__(self, message: str, *, offset: int, kind: bytes = b"", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.offset = offset
        self.kind = kind


class BoxOverrunError(MalformedBoxError):
    """A box runs past the end of its parent (or of the file: truncated)."""


class TruncatedHeaderError(MalformedBoxError):
    """Fewer bytes are left in the parent than a box header needs."""


class BoxLimitError(MalformedBoxError):
    """More boxes, or deeper nesting, than a reader walks."""


@dataclass(frozen=True, slots=True)
class Box:
    """One box: its 4-byte type, where it starts, its whole size, and the
    size of its header (8; 16 with a largesize; 16 more for ``uuid``)."""

    kind: bytes
    offset: int
    size: int
    header: int
    depth: int = 0  # 0 for the boxes of the range a walk started in
    usertype: bytes | None = None  # the extended type of a uuid box
    to_end: bool = False  # its size field was 0

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def payload_start(self) -> int:
        return self.offset + self.header

    @property
    def payload_size(self) -> int:
        return self.size - self.header

    @property
    def name(self) -> str:
        """The type as inert text, for messages."""
        return type_name(self.kind)


class BoxReader:
    """Walks the boxes of one file or buffer, under one budget of boxes.

    Build it with :meth:`of_file` (reads by offset, a header at a time) or
    :meth:`of_buffer`; walk a range with :meth:`boxes`, a box's payload with
    :meth:`children`.
    """

    def __init__(
        self,
        read: Callable[[int, int], bytes],
        size: int,
        *,
        where: str,
        lenient: bool = False,
        max_boxes: int | None = None,
        max_depth: int | None = None,
    ) -> None:
        self._read = read
        self.size = size
        self.where = where
        self.lenient = lenient
        self.max_boxes = MAX_BOXES if max_boxes is None else max_boxes
        self.max_depth = MAX_DEPTH if max_depth is None else max_depth
        self._walked = 0

    @classmethod
    def of_file(
        cls, fh: BinaryIO, *, lenient: bool = False, max_boxes: int | None = None, max_depth: int | None = None
    ) -> BoxReader:
        """A reader of the open binary file *fh* (its size as it is now)."""
        try:
            size = os.fstat(fh.fileno()).st_size
        except (AttributeError, OSError, ValueError):  # not a real file (BytesIO)
            size = fh.seek(0, os.SEEK_END)

        def read(offset: int, count: int) -> bytes:
            fh.seek(offset)
            return fh.read(count)

        return cls(read, size, where="the file", lenient=lenient, max_boxes=max_boxes, max_depth=max_depth)

    @classmethod
    def of_buffer(
        cls,
        buf: bytes | bytearray | memoryview,
        *,
        lenient: bool = False,
        max_boxes: int | None = None,
        max_depth: int | None = None,
    ) -> BoxReader:
        """A reader of the bytes *buf*."""
        view = memoryview(buf)

        def read(offset: int, count: int) -> bytes:
            return bytes(view[offset : offset + count])

        return cls(read, len(view), where="the data", lenient=lenient, max_boxes=max_boxes, max_depth=max_depth)

    def read(self, offset: int, count: int) -> bytes:
        """Up to *count* bytes at *offset* (fewer at the end)."""
        return self._read(offset, max(0, min(count, self.size - offset)))

    def boxes(self, start: int = 0, end: int | None = None) -> Iterator[Box]:
        """The boxes in [*start*, *end*) (*end*: the end of the file or
        buffer), in order, under the module's policy."""
        stop = self.size if end is None else end
        if not 0 <= start <= stop <= self.size:
            raise ValueError(f"the range [{start}, {stop}) is not inside {self.where} ({self.size} bytes)")
        return self._walk(start, stop, depth=0, parent=self.where)

    def children(self, box: Box, *, skip: int = 0) -> Iterator[Box]:
        """The boxes in *box*'s payload, after *skip* bytes (4 for a full
        box's version and flags, as in ISO ``meta``)."""
        if box.depth + 1 > self.max_depth:
            return self._fail(
                BoxLimitError(
                    f"boxes nested deeper than {self.max_depth} levels (the {box.name} box at offset {box.offset})",
                    offset=box.offset,
                    kind=box.kind,
                )
            )
        if box.payload_start + skip > box.end:
            return self._fail(
                TruncatedHeaderError(
                    f"the {box.name} box at offset {box.offset} is too short to hold boxes",
                    offset=box.offset,
                    kind=box.kind,
                )
            )
        return self._walk(box.payload_start + skip, box.end, depth=box.depth + 1, parent=f"its parent {box.name}")

    def _fail(self, error: MalformedBoxError) -> Iterator[Box]:
        if not self.lenient:
            raise error
        return iter(())

    def _walk(self, start: int, end: int, *, depth: int, parent: str) -> Iterator[Box]:
        try:
            yield from self._strict_walk(start, end, depth=depth, parent=parent)
        except MalformedBoxError:
            if not self.lenient:
                raise

    def _strict_walk(self, start: int, end: int, *, depth: int, parent: str) -> Iterator[Box]:
        pos = start
        while pos < end:
            left = end - pos
            head = self._read(pos, min(left, _LARGE_HEADER + _USERTYPE))
            if len(head) < _SIZE_HEADER:
                if head == b"\0\0\0\0":
                    return  # QuickTime's 32-bit zero that closes a list
                raise TruncatedHeaderError(
                    f"{left} stray bytes at offset {pos}, fewer than a box header, before {parent} ends", offset=pos
                )
            size, kind = int.from_bytes(head[:4], "big"), head[4:8]
            header = _LARGE_HEADER if size == 1 else _SIZE_HEADER
            if kind == b"uuid":
                header += _USERTYPE
            if len(head) < header:
                raise TruncatedHeaderError(
                    f"the {type_name(kind)} box at offset {pos} has a {header}-byte header, "
                    f"but {parent} ends {left} bytes after it starts",
                    offset=pos,
                    kind=kind,
                )
            if size == 1:
                size = int.from_bytes(head[8:16], "big")
            to_end = size == 0
            if to_end:
                size = left
            if size < header:
                raise MalformedBoxError(
                    f"the {type_name(kind)} box at offset {pos} declares {size} bytes, fewer than its "
                    f"{header}-byte header",
                    offset=pos,
                    kind=kind,
                )
            if size > left:
                raise BoxOverrunError(
                    f"the {type_name(kind)} box at offset {pos} needs {size} bytes, but {parent} ends at {end}",
                    offset=pos,
                    kind=kind,
                )
            if self._walked >= self.max_boxes:
                raise BoxLimitError(f"more than {self.max_boxes} boxes in {self.where}", offset=pos, kind=kind)
            self._walked += 1
            yield Box(
                kind, pos, size, header, depth, head[header - _USERTYPE : header] if kind == b"uuid" else None, to_end
            )
            pos += size
