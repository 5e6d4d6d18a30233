"""Fragmented MP4 (DASH/CMAF) structure, read from box headers only.

An init segment is an MP4 whose ``moov`` holds an ``mvex`` box (movie
extends: the samples come in fragments); each media segment holds
``moof`` boxes whose ``mfhd`` carries a sequence number, 1, 2, 3… in
presentation order, which tells which segments are missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_MAX_BOXES = 10_000  # a segment has a handful; bounds the walk over junk


def _boxes(fh: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload_start, box_end)`` of the boxes in [start, end)."""
    pos = start
    for _ in range(_MAX_BOXES):
        if pos + 8 > end:
            return
        fh.seek(pos)
        head = fh.read(16)
        if len(head) < 8:
            return
        size = int.from_bytes(head[:4], "big")
        header = 8
        if size == 1 and len(head) == 16:
            size = int.from_bytes(head[8:16], "big")
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield head[4:8], pos + header, pos + size
        pos += size


def is_init_segment(path: Path) -> bool:
    """Whether *path* is the init segment of a fragmented MP4."""
    try:
        with open(path, "rb") as fh:
            end = os.fstat(fh.fileno()).st_size
            for kind, start, stop in _boxes(fh, 0, end):
                if kind == b"moov":
                    return any(k == b"mvex" for k, _, _ in _boxes(fh, start, stop))
    except OSError:
        return False
    return False


def sequence_number(path: Path) -> int | None:
    """The ``mfhd`` sequence number of the first movie fragment in the
    media segment *path*; ``None`` when it has none (not a segment)."""
    try:
        with open(path, "rb") as fh:
            end = os.fstat(fh.fileno()).st_size
            for kind, start, stop in _boxes(fh, 0, end):
                if kind != b"moof":
                    continue
                for child, cstart, cstop in _boxes(fh, start, stop):
                    if child == b"mfhd" and cstop - cstart >= 8:
                        fh.seek(cstart + 4)  # version and flags
                        return int.from_bytes(fh.read(4), "big")
                return None
    except OSError:
        return None
    return None
