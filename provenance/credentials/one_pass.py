"""Sign a flat MP4/MOV/M4V in one pass over its bytes.

c2pa-rs's ``Builder.sign`` reads and writes a clip three times (copy to a
temp file with a placeholder, hash it, copy it out) in 8 KiB steps. Here
provenance writes the output itself, once:

* ``ftyp``, then a C2PA ``uuid`` box of reserved size (the placeholder c2pa-rs
  composes, padded with zeros), then every other top-level box in order, with
  the ``stco``/``co64`` chunk offsets in ``moov`` moved by the reserved size;
* each ``mdat`` is copied in 4 MiB ``pread``/``write`` steps while a second
  thread feeds the previous step to c2pa-rs's Merkle accumulator (1 MiB
  leaves, as in the general path), so hashing overlaps the I/O;
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
            + len(layout.media) * _BYTES_PER_MDAT
            + _SLACK_BYTES
        )
        if not layout.fits(reserve):
            raise LayoutNotSupported("a 32-bit chunk offset (stco) would pass 4 GiB")
        src, dst = source_fh.fileno(), dest.fileno()
        dest.flush()
        _copy(layout, embedding, src, dst, placeholder=bmff_layout.manifest_box(embedding.placeholder, reserve))
        dest.seek(0)
        embedding.hash_structure(dest)
        composed = embedding.sign()
        _write_at(dst, bmff_layout.manifest_box(composed, reserve), layout.insert_at)
        dest.seek(0, os.SEEK_END)
        return bmff_layout.manifest_store(composed)


def _copy(layout: BmffLayout, embedding: bridge.BmffEmbedding, src: int, dst: int, *, placeholder: bytes) -> None:
    ftyp, *rest = layout.boxes
    _write(dst, _read(src, ftyp.size, ftyp.offset))
    _write(dst, placeholder)
    buffers = [bytearray(CHUNK_BYTES), bytearray(CHUNK_BYTES)]
    media_index = 0
    # One worker: it hashes one buffer while this thread fills the other.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="provenance-hash") as pool:
        for box in rest:
            if box.kind == b"mdat":
                _write(dst, _read(src, box.header, box.offset))
                _copy_media(embedding, pool, buffers, src, dst, box, media_index)
                media_index += 1
            elif box.kind == b"moov":
                _write(dst, bmff_layout.shift_chunk_offsets(_read(src, box.size, box.offset), len(placeholder)))
            else:
                _copy_span(buffers[0], src, dst, box.offset, box.size)


def _copy_media(
    embedding: bridge.BmffEmbedding,
    pool: concurrent.futures.ThreadPoolExecutor,
    buffers: list[bytearray],
    src: int,
    dst: int,
    box: bmff_layout.Box,
    index: int,
) -> None:
    pos, left, which = box.offset + box.header, box.size - box.header, 0
    pending: Future[None] | None = None
    try:
        while left:
            buf = buffers[which]
            got = _read_into(src, buf, min(left, CHUNK_BYTES), pos)
            _write(dst, memoryview(buf)[:got])
            if pending is not None:
                pending.result()  # the other buffer is free again
            pending = pool.submit(embedding.hash_media, index, buf, got, large=box.header == 16)
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
