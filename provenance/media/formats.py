"""Container detection from the file's own bytes (no PyAV, no c2pa).

The extension is a hint people get wrong; the first bytes are not. A file is
accepted for embedding only when its bytes are a container c2pa-rs can embed
a manifest in: ISO BMFF (MP4, MOV, M4V) or RIFF AVI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from provenance._files import open_input
from provenance.errors import InputError, MalformedMediaError, UnsupportedFormatError


@dataclass(frozen=True)
class MediaFormat:
    """A container provenance can embed credentials in."""

    name: str
    mime_type: str
    extensions: tuple[str, ...]


MP4 = MediaFormat("MP4", "video/mp4", (".mp4",))
MOV = MediaFormat("MOV", "video/quicktime", (".mov", ".qt"))
M4V = MediaFormat("M4V", "video/x-m4v", (".m4v",))
AVI = MediaFormat("AVI", "video/x-msvideo", (".avi",))

SUPPORTED: tuple[MediaFormat, ...] = (MP4, MOV, M4V, AVI)
SUPPORTED_NAMES = ", ".join(f.name for f in SUPPORTED)

_BMFF_TOP_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"uuid", b"pnot"}
_BY_EXTENSION = {ext: fmt for fmt in SUPPORTED for ext in fmt.extensions}

# Magic numbers of containers people try that cannot carry an embedded manifest.
_KNOWN_OTHERS: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"OggS", "Ogg"),
    (0, b"FLV", "FLV"),
    (0, b"\x00\x00\x01\xba", "MPEG-PS"),
    (0, b"\x30\x26\xb2\x75", "ASF/WMV"),
)

_SUPPORTED_HINT = f"provenance embeds credentials in {SUPPORTED_NAMES} files"


def _unsupported(path: Path, what: str) -> UnsupportedFormatError:
    return UnsupportedFormatError(
        f"{path}: {what}",
        hint=f"{_SUPPORTED_HINT}; sign it into a sidecar manifest (clip unchanged), or remux it to MP4",
        reason="container_cannot_embed",
        details={"supported": SUPPORTED_NAMES},
    )


def detect(path: Path) -> MediaFormat:
    """Return the container of *path*, judged by its bytes.

    Raises :class:`InputError` for a missing, empty or unreadable file,
    :class:`UnsupportedFormatError` for a known but unsupported container or
    for bytes that are no video at all.

    >>> detect(Path("clip.mp4")).mime_type  # doctest: +SKIP
    'video/mp4'
    """
    try:
        with open_input(path) as fh:  # a regular file, or InputError (a FIFO would block)
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(512)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})", hint="check its permissions") from None
    if size == 0:
        raise MalformedMediaError(f"{path}: the file is empty (0 bytes)", hint="give a complete video file")
    if len(head) >= 12 and head[:4] == b"RIFF":
        if head[8:12] == b"AVI ":
            return AVI
        raise _unsupported(path, f"a RIFF {head[8:12].decode('latin-1').strip()!r} file is not a supported container")
    if len(head) >= 8 and head[4:8] in _BMFF_TOP_BOXES:
        if head[4:8] == b"ftyp" and len(head) >= 12:
            brand = head[8:12]
            if brand == b"qt  ":
                return MOV
            if brand.startswith(b"M4V"):
                return M4V
        by_ext = _BY_EXTENSION.get(path.suffix.lower())
        return by_ext if by_ext is not None and by_ext is not AVI else MP4
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        raise _unsupported(path, "an MPEG-TS file is not a supported container")
    for offset, magic, name in _KNOWN_OTHERS:
        if head[offset : offset + len(magic)] == magic:
            raise _unsupported(path, f"a {name} file is not a supported container")
    raise _unsupported(path, "not a recognised video (its first bytes match no known container)")


# Containers c2pa-rs cannot embed a manifest in, but that a sidecar manifest
# (bound by a data hash over the whole file) can describe.
WEBM = MediaFormat("WebM", "video/webm", (".webm",))
MKV = MediaFormat("MKV", "video/x-matroska", (".mkv", ".mk3d", ".mka"))
MPEG_TS = MediaFormat("MPEG-TS", "video/mp2t", (".ts", ".m2ts"))
OGG = MediaFormat("Ogg", "video/ogg", (".ogv", ".ogg"))
FLV = MediaFormat("FLV", "video/x-flv", (".flv",))
OTHER = MediaFormat("file", "application/octet-stream", ())

SIDECAR_ONLY: tuple[MediaFormat, ...] = (WEBM, MKV, MPEG_TS, OGG, FLV)


def is_embeddable(fmt: MediaFormat) -> bool:
    """Whether c2pa-rs can embed a manifest store in *fmt*."""
    return fmt in SUPPORTED


def _matroska_doctype(head: bytes) -> bytes | None:
    """The EBML DocType ("webm" or "matroska") from the header element."""
    marker = head.find(b"\x42\x82")  # DocType element ID
    if marker < 0 or marker + 3 > len(head):
        return None
    size_byte = head[marker + 2]
    if not size_byte & 0x80:  # only the one-byte size form is used in practice
        return None
    size = size_byte & 0x7F
    return head[marker + 3 : marker + 3 + size]


def detect_any(path: Path) -> MediaFormat:
    """Like :func:`detect`, but also name containers that can only carry a
    sidecar manifest (WebM, MKV, MPEG-TS, Ogg, FLV). Bytes of no known
    container give :data:`OTHER`: a data hash binds any file.

    >>> detect_any(Path("clip.webm")).mime_type  # doctest: +SKIP
    'video/webm'
    """
    try:
        return detect(path)
    except UnsupportedFormatError:
        pass
    with open_input(path) as fh:
        head = fh.read(512)
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return WEBM if _matroska_doctype(head) == b"webm" else MKV
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return MPEG_TS
    if head[:4] == b"OggS":
        return OGG
    if head[:3] == b"FLV":
        return FLV
    return OTHER


def for_extension(path: Path) -> MediaFormat | None:
    """The container a new file named *path* will be written as, judged by
    its extension; ``None`` when the extension names none provenance writes."""
    suffix = path.suffix.lower()
    for fmt in SUPPORTED + SIDECAR_ONLY:
        if suffix in fmt.extensions:
            return fmt
    return None
