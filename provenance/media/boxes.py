"""Top-level container structure (ISO BMFF boxes, RIFF chunks), read
without decoding media: where the C2PA store and the media data sit."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from provenance._files import atomic_output, open_input
from provenance.errors import MalformedMediaError, UsageError
from provenance.media.bmff import BoxLimitError, BoxOverrunError, BoxReader, MalformedBoxError, type_name
from provenance.media.formats import AVI, MediaFormat, detect

C2PA_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")


def top_level(path: Path, fmt: MediaFormat, *, lenient: bool = False) -> Iterator[tuple[bytes, int, int, bytes]]:
    """Yield ``(type, offset, size, tag)`` for each top-level box (BMFF) or
    chunk (RIFF) of *path*. *tag* is a uuid box's extended type (else
    empty), or the first 16 bytes of a chunk's payload (a LIST's type).

    BMFF boxes follow :mod:`provenance.media.bmff`'s policy: a broken box
    raises :class:`~provenance.media.bmff.MalformedBoxError`, or, when
    *lenient*, ends the walk."""
    with open_input(path) as fh:
        if fmt is AVI:
            yield from _riff_chunks(fh)
            return
        for box in BoxReader.of_file(fh, lenient=lenient).boxes():
            yield box.kind, box.offset, box.size, box.usertype or b""


def _riff_chunks(fh: BinaryIO) -> Iterator[tuple[bytes, int, int, bytes]]:
    size = os.fstat(fh.fileno()).st_size
    pos = 12
    while pos + 8 <= size:
        fh.seek(pos)
        head = fh.read(24)
        length = int.from_bytes(head[4:8], "little")
        yield head[:4], pos, 8 + length + (length & 1), head[8:24]
        pos += 8 + length + (length & 1)


def check_structure(path: Path, fmt: MediaFormat) -> None:
    """Raise :class:`MalformedMediaError` when the top-level structure runs
    past the end of the file (a truncated download) or has no media.

    Other broken boxes end the check quietly: bytes appended after the
    boxes of a signed file are c2pa-rs's to judge (the file is tampered,
    not unreadable)."""
    size = path.stat().st_size
    kinds = []
    try:
        for kind, offset, length, _ in top_level(path, fmt):
            kinds.append(kind)
            if offset + length > size:  # RIFF chunks: the BMFF reader raises instead
                raise MalformedMediaError(
                    f"{path}: truncated: the {type_name(kind)} chunk at offset {offset} "
                    f"needs {length} bytes but the file ends at {size}",
                    hint=_TRUNCATED,
                )
    except BoxOverrunError as exc:
        raise BoxOverrunError(
            f"{path}: truncated: {exc.message}", offset=exc.offset, kind=exc.kind, hint=_TRUNCATED
        ) from None
    except BoxLimitError as exc:
        raise BoxLimitError(
            f"{path}: {exc.message}",
            offset=exc.offset,
            kind=exc.kind,
            hint="the file is damaged or crafted; use an intact copy",
        ) from None
    except MalformedBoxError:
        pass
    if fmt is AVI:
        return
    if b"moov" not in kinds and b"moof" not in kinds:
        raise MalformedMediaError(
            f"{path}: no 'moov' box: this is not a playable {fmt.name} file", hint="use a complete, finalised recording"
        )


_TRUNCATED = "the download or copy is incomplete; use a complete file"


def _is_manifest(kind: bytes, payload: bytes, fmt: MediaFormat) -> bool:
    return kind == b"C2PA" if fmt is AVI else (kind == b"uuid" and payload == C2PA_UUID)


def has_embedded_manifest(path: Path, fmt: MediaFormat) -> bool:
    """Whether *path* carries an embedded C2PA manifest store."""
    try:
        return any(_is_manifest(k, p, fmt) for k, _, _, p in top_level(path, fmt, lenient=True))
    except OSError:
        return False


def is_fragmented(path: Path, fmt: MediaFormat) -> bool:
    """Whether *path* is a fragmented MP4 (top-level ``moof`` boxes)."""
    return fmt is not AVI and any(kind == b"moof" for kind, _, _, _ in top_level(path, fmt, lenient=True))


def media_data_offset(path: Path) -> int:
    """Offset of the first byte of media payload (inside ``mdat`` or ``movi``)."""
    fmt = detect(path)
    if fmt is AVI:
        for kind, offset, _, tag in top_level(path, fmt):
            if kind == b"LIST" and tag[:4] == b"movi":
                return offset + 12
    else:
        with open(path, "rb") as fh:
            for box in BoxReader.of_file(fh).boxes():
                if box.kind == b"mdat":
                    return box.payload_start
    raise UsageError(f"{path}: no media data found", hint="give a complete video file")


def flip_media_byte(path: Path, *, at: int = 64) -> int:
    """Invert one byte of media payload in place, *at* bytes into ``mdat``
    (or ``movi``): the smallest possible tampering, for demos and tests.
    Returns the file offset changed."""
    offset = media_data_offset(path) + at
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))
    return offset


def strip_credentials(src: Path, dst: Path) -> bool:
    """Copy *src* to *dst* with its embedded C2PA store blanked out (the box
    becomes ``free``, the chunk ``JUNK``), so offsets and playback stay
    intact. Returns whether there was a store to strip."""
    fmt = detect(src)
    # (where the type is, the new type, where the zeros start, where they end)
    spans: list[tuple[int, bytes, int, int]] = []
    if fmt is AVI:
        spans = [(o, b"JUNK", o + 8, o + s) for k, o, s, p in top_level(src, fmt) if _is_manifest(k, p, fmt)]
    else:
        with open(src, "rb") as fh:
            for box in BoxReader.of_file(fh).boxes():
                if box.usertype == C2PA_UUID:  # its size field (and a largesize) stays
                    spans.append((box.offset + 4, b"free", box.offset + box.header - 16, box.end))
    with open(src, "rb") as inp, atomic_output(dst) as out:
        shutil.copyfileobj(inp, out, 1 << 20)
        end_of_file = out.tell()
        for at, kind, start, end in spans:
            out.seek(at)
            out.write(kind)
            out.seek(start)
            for pos in range(start, min(end, end_of_file), 1 << 20):  # never past the end: a chunk may overrun
                out.write(bytes(min(1 << 20, end - pos, end_of_file - pos)))
        out.seek(0, os.SEEK_END)
    return bool(spans)
