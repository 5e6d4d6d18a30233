"""XMP hints left in a file (no PyAV, no c2pa)."""

from __future__ import annotations

import re
from pathlib import Path

_WINDOW = 4 << 20
_PROVENANCE = re.compile(rb'dcterms:provenance(?:="|>)([^"<]{1,512})')


def stripped_manifest_reference(path: Path) -> str | None:
    """The manifest an XMP ``dcterms:provenance`` points to, looked for in
    the first and last 4 MiB (where muxers put metadata). A file with such a
    reference and no manifest had its credentials stripped."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_WINDOW)
            fh.seek(0, 2)
            size = fh.tell()
            tail = b""
            if size > _WINDOW:
                fh.seek(max(_WINDOW, size - _WINDOW))
                tail = fh.read(_WINDOW)
    except OSError:
        return None
    for chunk in (head, tail):
        match = _PROVENANCE.search(chunk)
        if match:
            return match.group(1).decode("utf-8", "replace")
    return None
