"""Top-level container structure (ISO BMFF boxes, RIFF chunks), read
without decoding media: where the C2PA store and the media data sit."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from provenance._files import atomic_output, open_input
from provenance.errors import MalformedMediaError, UsageError
from provenance.media.formats import AVI, MediaFormat, detect

C2PA_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")


def top_level(path: Path, fmt: MediaFormat) -> Iterator[tuple[bytes, int, int, bytes]]:
    """Yield ``(type, offset, size, first_bytes_of_payload)`` for each
    top-level box (BMFF) or chunk (RIFF) of *path*."""
    with open_input(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if fmt is AVI:
            pos = 12
            while pos + 8 <= size:
                fh.seek(pos)
                head = fh.read(24)
                length = int.from_bytes(head[4:8], "little")
                yield head[:4], pos, 8 + length + (length & 1), head[8:24]
                pos += 8 + length + (length & 1)
            return
        pos = 0
        while pos + 8 <= size:
            fh.seek(pos)
            head = fh.read(32)
            length = int.from_bytes(head[:4], "big")
            header = 8
            if length == 1:
                length = int.from_bytes(head[8:16], "big")
                header = 16
            elif length == 0:
                length = size - pos
            if length < header:
                return
            yield head[4:8], pos, length, head[header : header + 16]
            pos += length


def check_structure(path: Path, fmt: MediaFormat) -> None:
    """Raise :class:`MalformedMediaError` when the top-level structure runs
    past the end of the file (a truncated download) or has no media."""
    size = path.stat().st_size
    kinds = []
    end = 0
    for kind, offset, length, _ in top_level(path, fmt):
        kinds.append(kind)
        end = offset + length
        if end > size:
            name = kind.decode("latin-1")
            raise MalformedMediaError(
                f"{path}: truncated: the '{name}' {'chunk' if fmt is AVI else 'box'} at offset {offset} "
                f"needs {length} bytes but the file ends at {size}",
                hint="the download or copy is incomplete; use a complete file",
            )
    if fmt is AVI:
        return
    if b"moov" not in kinds and b"moof" not in kinds:
        raise MalformedMediaError(f"{path}: no 'moov' box: this is not a playable {fmt.name} file",
                                  hint="use a complete, finalised recording")


def _is_manifest(kind: bytes, payload: bytes, fmt: MediaFormat) -> bool:
    return kind == b"C2PA" if fmt is AVI else (kind == b"uuid" and payload == C2PA_UUID)


def has_embedded_manifest(path: Path, fmt: MediaFormat) -> bool:
    """Whether *path* carries an embedded C2PA manifest store."""
    try:
        return any(_is_manifest(k, p, fmt) for k, _, _, p in top_level(path, fmt))
    except OSError:
        return False


def is_fragmented(path: Path, fmt: MediaFormat) -> bool:
    """Whether *path* is a fragmented MP4 (top-level ``moof`` boxes)."""
    return fmt is not AVI and any(kind == b"moof" for kind, _, _, _ in top_level(path, fmt))


def media_data_offset(path: Path) -> int:
    """Offset of the first byte of media payload (inside ``mdat`` or ``movi``)."""
    fmt = detect(path)
    for kind, offset, size, payload in top_level(path, fmt):
        if fmt is AVI and kind == b"LIST" and payload[:4] == b"movi":
            return offset + 12
        if kind == b"mdat":
            return offset + 8
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
    spans = [(o, s) for k, o, s, p in top_level(src, fmt) if _is_manifest(k, p, fmt)]
    with open(src, "rb") as inp, atomic_output(dst) as out:
        shutil.copyfileobj(inp, out, 1 << 20)
        for offset, size in spans:
            if fmt is AVI:
                out.seek(offset)
                out.write(b"JUNK")
                out.seek(offset + 8)
                out.write(b"\0" * (size - 8))
            else:
                out.seek(offset + 4)
                out.write(b"free" + b"\0" * (size - 8))
        out.seek(0, os.SEEK_END)
    return bool(spans)
