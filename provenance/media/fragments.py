"""Fragmented MP4 (DASH/CMAF) structure, read from box headers only.

An init segment is an MP4 whose ``moov`` holds an ``mvex`` box (movie
extends: the samples come in fragments); each media segment holds
``moof`` boxes whose ``mfhd`` carries a sequence number, 1, 2, 3… in
presentation order, which tells which segments are missing.

Both questions are answered from what can be read: the walks are lenient
(:mod:`provenance.media.bmff`), so a broken box ends them.
"""

from __future__ import annotations

from pathlib import Path

from provenance.media.bmff import BoxReader

_MAX_BOXES = 10_000  # a segment has a handful; bounds the walk over junk


def is_init_segment(path: Path) -> bool:
    """Whether *path* is the init segment of a fragmented MP4."""
    try:
        with open(path, "rb") as fh:
            reader = BoxReader.of_file(fh, lenient=True, max_boxes=_MAX_BOXES)
            for box in reader.boxes():
                if box.kind == b"moov":
                    return any(child.kind == b"mvex" for child in reader.children(box))
    except OSError:
        return False
    return False


def sequence_number(path: Path) -> int | None:
    """The ``mfhd`` sequence number of the first movie fragment in the
    media segment *path*; ``None`` when it has none (not a segment)."""
    try:
        with open(path, "rb") as fh:
            reader = BoxReader.of_file(fh, lenient=True, max_boxes=_MAX_BOXES)
            for box in reader.boxes():
                if box.kind != b"moof":
                    continue
                for child in reader.children(box):
                    if child.kind == b"mfhd" and child.payload_size >= 8:
                        # a full box: version and flags, then the number
                        return int.from_bytes(reader.read(child.payload_start + 4, 4), "big")
                return None
    except OSError:
        return None
    return None
