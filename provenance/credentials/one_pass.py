"""Sign a flat MP4/MOV/M4V in one pass over its bytes.

c2pa-rs's ``Builder.sign`` reads and writes a clip three times (copy to a
temp file with a placeholder, hash it, copy it out) in 8 KiB steps. Here
provenance writes the output itself, once:

* ``ftyp``, then a C2PA ``uuid`` box of reserved size (the placeholder c2pa-rs
  composes, padded with zeros), then every other top-level box but ``mdat``
  in order, with the ``stco``/``co64`` chunk offsets in ``moov`` moved to
  where the media goes, then one ``mdat`` with a 64-bit header, last: the
  layout c2pa-rs and c2pa-ts hash alike (see
  :mod:`provenance.media.bmff_layout`);
* each source ``mdat``'s payload is copied into it in 4 MiB
  ``pread``/``write`` steps while a second thread feeds the previous step
  to c2pa-rs's Merkle accumulator (1 MiB leaves, as in the general path),
  so hashing overlaps the I/O;
* c2pa-rs then hashes what the Merkle leaves do not cover (``moov`` and the
  small boxes) from the written file, signs, and the signed box, padded to
  the reserved size, overwrites the placeholder.

Only files :func:`provenance.media.bmff_layout.read_layout` accepts take this
path; :func:`sign_in_one_pass` returns ``None`` for the others, having written
nothing, and the caller signs with c2pa-rs as before.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, BinaryIO

from provenance.credentials import bridge
from provenance.errors import InputError
from provenance.identity.signer import Signer
from provenance.media import bmff_layout
from provenance.media.bmff_layout import BmffLayout, LayoutNotSupported
from provenance.text import MESSAGE_LIMIT, inert

log = logging.getLogger(__name__)

CHUNK_BYTES = 4 << 20
# Room for the Merkle leaves on top of the placeholder: a CBOR byte string
# per leaf (a 32-byte SHA-256 and its 2-byte head: 34 bytes measured), the
# map fields of each mdat, and the mdat exclusion. Unused room stays zeros
# inside the manifest box; a manifest that outgrows it (never seen) is
# signed again through c2pa-rs.
_BYTES_PER_LEAF = 40
_BYTES_PER_MDAT = 512
_SLACK_BYTES = 2048
# Set to "0" to always sign through c2pa-rs's Builder.sign.
ENV_SWITCH = "PROVENANCE_ONE_PASS"


def sign_in_one_pass(
    definition: Mapping[str, Any],
    *,
    signer: Signer,
    mime_type: str,
    source: Path,
    source_fh: BinaryIO,
    dest: BinaryIO,
    resources: Mapping[str, bytes] | None = None,
) -> bytes | None:
    """Sign *source* (open as *source_fh*) into the empty file *dest* in one
    pass and return the manifest store bytes; ``None`` when the file is not
    a layout this path handles (*dest* is then left empty)."""
    if os.environ.get(ENV_SWITCH, "1") == "0" or not hasattr(os, "preadv") or not bridge.embedding_available():
        return None
    try:
        layout = bmff_layout.read_layout(source)
    except LayoutNotSupported as why:
        log.debug("%s: signing through c2pa-rs: %s", inert(source), inert(why, limit=MESSAGE_LIMIT))
        return None
    try:
        return _sign(
            layout, definition, signer=signer, mime_type=mime_type, source_fh=source_fh, dest=dest, resources=resources
        )
    except LayoutNotSupported as why:  # found only once the manifest was sized: start again, nothing kept
        log.debug("%s: signing through c2pa-rs: %s", inert(source), inert(why, limit=MESSAGE_LIMIT))
        dest.seek(0)
        dest.truncate()
        return None


def _sign(
    layout: BmffLayout,
    definition: Mapping[str, Any],
    *,
    signer: Signer,
    mime_type: str,
    source_fh: BinaryIO,
    dest: BinaryIO,
    resources: Mapping[str, bytes] | None,
) -> bytes:
    with bridge.BmffEmbedding(definition, signer=signer, mime_type=mime_type, resources=resources) as embedding:
        reserve = (
            len(embedding.placeholder)
            + layout.merkle_leaves(embedding.leaf_bytes) * _BYTES_PER_LEAF
            + _BYTES_PER_MDAT
            + _SLACK_BYTES
        )
        src, dst = source_fh.fileno(), dest.fileno()
        structure = _structure(layout, src, media_at=layout.insert_at + reserve)
        dest.flush()
        _copy(layout, embedding, src, dst, bmff_layout.manifest_box(embedding.placeholder, reserve), structure)
        dest.seek(0)
        embedding.hash_structure(dest)
        composed = embedding.sign()
        _write_at(dst, bmff_layout.manifest_box(composed, reserve), layout.insert_at)
        dest.seek(0, os.SEEK_END)
        return bmff_layout.manifest_store(composed)


def _structure(layout: BmffLayout, src: int, *, media_at: int) -> list[bytes | bmff_layout.Box]:
    """What goes between the manifest box and the ``mdat``, for a manifest
    box ending at *media_at*: ``moov`` and ``meta`` patched in memory (this
    raises :class:`LayoutNotSupported` before anything is written), other
    boxes to copy as they are."""
    media_at += sum(b.size for b in layout.structure) + bmff_layout.MDAT_HEADER
    return [
        layout.relocate(_read(src, b.size, b.offset), media_at) if b.kind in (b"moov", b"meta") else b
        for b in layout.structure
    ]


def _copy(
    layout: BmffLayout,
    embedding: bridge.BmffEmbedding,
    src: int,
    dst: int,
    placeholder: bytes,
    structure: list[bytes | bmff_layout.Box],
) -> None:
    buffers = [bytearray(CHUNK_BYTES), bytearray(CHUNK_BYTES)]
    ftyp = layout.boxes[0]
    _write(dst, _read(src, ftyp.size, ftyp.offset))
    _write(dst, placeholder)
    for part in structure:
        if isinstance(part, bytes):
            _write(dst, part)
        else:
            _copy_span(buffers[0], src, dst, part.offset, part.size)
    _write(dst, layout.mdat_header())
    # One worker: it hashes one buffer while this thread fills the other.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="provenance-hash") as pool:
        _copy_media(embedding, pool, buffers, src, dst, layout.media)


def _copy_media(
    embedding: bridge.BmffEmbedding,
    pool: concurrent.futures.ThreadPoolExecutor,
    buffers: list[bytearray],
    src: int,
    dst: int,
    media: tuple[bmff_layout.Box, ...],
) -> None:
    """Copy the payloads of *media* one after the other, and hash them as
    the payload of the one 64-bit ``mdat`` (Merkle tree 0)."""
    which = 0
    pending: Future[None] | None = None
    try:
        for box in media:
            pos, left = box.payload_start, box.payload_size
            while left:
                buf = buffers[which]
                got = _read_into(src, buf, min(left, CHUNK_BYTES), pos)
                _write(dst, memoryview(buf)[:got])
                if pending is not None:
                    pending.result()  # the other buffer is free again
                pending = pool.submit(embedding.hash_media, 0, buf, got, large=True)
                pos, left, which = pos + got, left - got, which ^ 1
    finally:
        if pending is not None:
            pending.result()


def _copy_span(buf: bytearray, src: int, dst: int, offset: int, size: int) -> None:
    while size:
        got = _read_into(src, buf, min(size, len(buf)), offset)
        _write(dst, memoryview(buf)[:got])
        offset, size = offset + got, size - got


def _read(fd: int, size: int, offset: int) -> bytes:
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise _changed()
    return data


def _read_into(fd: int, buf: bytearray, size: int, offset: int) -> int:
    got = os.preadv(fd, [memoryview(buf)[:size]], offset)
    if got <= 0:
        raise _changed()
    return got


def _write(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        done = os.pwrite(fd, view, offset)
        view, offset = view[done:], offset + done


def _changed() -> InputError:
    return InputError(
        "the input file ended early while it was signed (it changed on disk?)",
        hint="sign a file that is not being written to",
    )
