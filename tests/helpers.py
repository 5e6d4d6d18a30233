"""Small helpers shared by the pipelines tests (not fixtures)."""

from __future__ import annotations

import shutil
from pathlib import Path

from provenance.media import boxes


def tampered_copy(signed: Path, dest: Path) -> Path:
    """A copy of *signed* with one byte of its media data flipped."""
    shutil.copyfile(signed, dest)
    offset = boxes.media_data_offset(dest) + 64
    with open(dest, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))
    return dest
