"""Sign a clip at publication: embed a C2PA manifest bound to the signer's
certificate, written atomically to a new file."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance._files import atomic_output, atomic_write, check_output_name, open_input, same_file
from provenance._sign_step import (
    check_signer,
    content_binding,
    embeddable_output,
    scratch_file,
    sign_with_parent,
    signed,
    signer_name,
)
from provenance.credentials import bridge, one_pass
from provenance.credentials.manifest import THUMBNAIL_ID, SourceType, action, definition
from provenance.credentials.sidecar import sidecar_path
from provenance.errors import OutputExistsError, UsageError
from provenance.identity.cawg import CawgIdentity, require_identity_signer
from provenance.identity.signer import Signer
from provenance.media import boxes, formats

if TYPE_CHECKING:
    from provenance.repository import Repository


@dataclass(frozen=True)
class SignResult:
    """What :func:`sign` wrote."""

    input: Path
    output: Path
    manifest_id: str
    format: str
    signer: str
    parent_manifest: bool  # the input already carried credentials, kept as parent
    mode: str = "embedded"  # "embedded", "sidecar" (output is NAME.c2pa) or "remuxed" (to MP4, then embedded)
    timestamped_at: str | None = None  # the RFC 3161 time-stamp's time, with --tsa
    timestamp_authority: str | None = None  # the TSA that stamped it
    method: str = "c2pa-rs"  # "one-pass" (provenance writes the file, see credentials.one_pass) or "c2pa-rs"
    soft_binding: bool = False  # the manifest records the content fingerprint (c2pa.soft-binding)
    registered_in: str | None = None  # the repository the manifest store was registered in
    registration_note: str | None = None  # e.g. why it carries no fingerprint
    identity: str | None = None  # the CN of the CAWG identity credential that signed a cawg.identity assertion

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": str(self.input),
            "output": str(self.output),
            "manifest_id": self.manifest_id,
            "format": self.format,
            "signer": self.signer,
            "parent_manifest": self.parent_manifest,
            "mode": self.mode,
            "timestamped_at": self.timestamped_at,
            "timestamp_authority": self.timestamp_authority,
            "method": self.method,
            "soft_binding": self.soft_binding,
            "registered_in": self.registered_in,
            "registration_note": self.registration_note,
            "identity": self.identity,
        }


def check_output(input: Path, output: Path, *, fmt: formats.MediaFormat, force: bool) -> None:
    """Refuse OUT == IN, an existing OUT without *force*, and an output
    extension of another container family (signing never converts)."""
    check_output_name(output)
    if same_file(input, output):
        raise UsageError(f"{output}: output is the input file", hint="write to a new file; inputs are never modified")
    if os.path.lexists(output) and not force:  # a dangling symlink too
        raise OutputExistsError(f"{output}: output file exists")
    if output.is_dir():
        raise UsageError(f"{output}: output is a directory", hint="give a file name")
    suffix = output.suffix.lower()
    is_avi_out = suffix == ".avi"
    if suffix and (is_avi_out != (fmt is formats.AVI)):
        raise UsageError(
            f"{output}: extension {suffix} does not match the input container {fmt.name}",
            hint=f"name the output {fmt.extensions[0]}; signing does not convert containers",
        )


def sign(
    input: Path | str,
    output: Path | str,
    *,
    signer: Signer,
    title: str | None = None,
    author: str | None = None,
    source: SourceType = SourceType.CAMERA,
    force: bool = False,
    allow_invalid_parent: bool = False,
    published_at: dt.datetime | None = None,
    flat_hash: bool = False,
    soft_binding: bool = False,
    register: Repository | None = None,
    identity: CawgIdentity | None = None,
) -> SignResult:
    """Sign the clip *input* into *output* with *signer*.

    With *identity*, the manifest also carries a CAWG identity assertion
    (``cawg.identity``, X.509 form) signed by that credential over the
    actions, the creative work and the hard binding; *signer* must then be
    a :class:`~provenance.identity.signer.KeySigner` (c2pa-rs signs it,
    see :mod:`provenance.identity.cawg`), and c2pa-rs's Builder writes the
    file (no one-pass signing).

    With *soft_binding* (implied by *register*) the manifest also records
    the clip's content fingerprint as a ``c2pa.soft-binding`` assertion
    (:mod:`provenance.media.fingerprint`), so that a copy which loses its
    credentials can be matched to it; with *register*, the signed manifest
    store and the fingerprint are then stored in that repository.

    MP4/MOV/M4V media is bound by a Merkle tree of 1 MiB leaves (BMFF hash
    v3), which keeps signing and verifying within ~50 MB of memory at any
    size; *flat_hash* writes one flat hash instead (also BMFF hash v3), for
    validators without Merkle-tree support (it costs c2pa-rs ~550 MB of RAM
    to sign or verify).

    The manifest records ``c2pa.created`` with the source type (or
    ``c2pa.opened`` of the input's own credentials, kept as the parent
    ingredient), then ``c2pa.published``, the author and a claim thumbnail.
    *input* is never modified; *output* appears complete or not at all.

    >>> from provenance import sign, KeySigner
    >>> signer = KeySigner.from_files(key=Path("keys/signer.key"), chain=Path("keys/chain.pem"))  # doctest: +SKIP
    >>> sign("clip.mp4", "clip.signed.mp4", signer=signer).manifest_id  # doctest: +SKIP
    'urn:c2pa:…'
    """
    src, dst = Path(input), Path(output)
    fmt = formats.detect(src)
    boxes.check_structure(src, fmt)
    check_output(src, dst, fmt=fmt, force=force)
    check_signer(signer)  # refuse what validators would reject, saying why
    if identity is not None:
        require_identity_signer(signer)  # before any work: c2pa-rs signs identities only with key files
    has_parent = boxes.has_embedded_manifest(src, fmt)
    if has_parent:
        _refuse_invalid_parent(src, allow=allow_invalid_parent)
    # c2pa-rs 0.91.3 writes Merkle leaves for a single-file fragmented MP4
    # that its own validator then rejects ("Incorrect number of fragments
    # hashes"); one flat hash verifies, so such files get one.
    flat_hash = flat_hash or boxes.is_fragmented(src, fmt)
    from provenance.media import video  # PyAV: only when a clip is signed

    thumbnail = video.thumbnail_jpeg(src)
    name = signer_name(signer)
    binding = content_binding(src) if soft_binding or register is not None else None
    when = published_at or dt.datetime.now(dt.UTC)
    manifest = definition(
        title=title or src.name,
        author=author or name,
        mime_type=fmt.mime_type,
        source=source,
        published_at=when,
        with_thumbnail=thumbnail is not None,
        parent_title=src.name if has_parent else None,
        extra_assertions=binding.assertions if binding else (),
    )
    resources = {THUMBNAIL_ID: thumbnail} if thumbnail else {}
    with open_input(src) as source_fh, atomic_output(dst, replace=force) as dest_fh:
        store = None
        # A flat MP4/MOV/M4V of its own (no parent to ingest, Merkle leaves)
        # is signed in one pass; anything else, or any layout that path does
        # not rewrite, by c2pa-rs's Builder.sign.
        if fmt is not formats.AVI and not has_parent and not flat_hash and identity is None:
            store = one_pass.sign_in_one_pass(
                manifest,
                signer=signer,
                mime_type=fmt.mime_type,
                source=src,
                source_fh=source_fh,
                dest=dest_fh,
                resources=resources,
            )
        method = "one-pass" if store is not None else "c2pa-rs"
        if store is None:
            store = _sign_with_c2pa(
                manifest,
                signer=signer,
                fmt=fmt,
                src=src,
                source_fh=source_fh,
                dest_fh=dest_fh,
                resources=resources,
                has_parent=has_parent,
                flat_hash=flat_hash,
                identity=identity,
            )
    done = signed(store, signer)
    if register is not None and binding is not None:
        binding.register(
            register,
            store,
            manifest_id=done.manifest_id,
            signer=signer,
            title=title or src.name,
            signed_at=done.timestamped_at or when.isoformat(),
        )
    return SignResult(
        input=src,
        output=dst,
        manifest_id=done.manifest_id,
        format=fmt.name,
        signer=name,
        parent_manifest=has_parent,
        timestamped_at=done.timestamped_at,
        timestamp_authority=done.timestamp_authority,
        method=method,
        soft_binding=bool(binding and binding.assertions),
        registered_in=register.location if register is not None else None,
        registration_note=binding.reason if binding else None,
        identity=signer_name(identity.signer) if identity is not None else None,
    )


def _refuse_invalid_parent(src: Path, *, allow: bool) -> None:
    """Refuse an input whose own credentials are tampered or invalid, as the
    edits do: re-signing it would make a green result of a broken chain.
    With *allow* the failure is recorded in the new manifest's ingredient
    (c2pa-rs validates the parent it ingests). Trust does not matter here:
    an untrusted parent is kept as it is."""
    from provenance.parent import read_parent
    from provenance.trust.store import TrustStore

    read_parent(src, trust=TrustStore()).require_valid(allow_invalid=allow)


def _sign_with_c2pa(
    manifest: dict[str, Any],
    *,
    signer: Signer,
    fmt: formats.MediaFormat,
    src: Path,
    source_fh: Any,
    dest_fh: Any,
    resources: dict[str, bytes],
    has_parent: bool,
    flat_hash: bool,
    identity: CawgIdentity | None = None,
) -> bytes:
    parent = None
    parent_fh = None
    if has_parent:
        parent_fh = open_input(src)
        parent = ({"title": src.name, "relationship": "parentOf", "label": src.name}, fmt.mime_type, parent_fh)
    try:
        return bridge.sign_stream(
            manifest,
            signer=signer,
            mime_type=fmt.mime_type,
            source=source_fh,
            dest=dest_fh,
            resources=resources,
            parent=parent,
            merkle=not flat_hash,
            identity=identity,
        )
    finally:
        if parent_fh is not None:
            parent_fh.close()


def sign_sidecar(
    input: Path | str,
    output: Path | str | None = None,
    *,
    signer: Signer,
    title: str | None = None,
    author: str | None = None,
    source: SourceType = SourceType.CAMERA,
    force: bool = False,
    allow_invalid_parent: bool = False,
    published_at: dt.datetime | None = None,
) -> SignResult:
    """Sign *input* into a sidecar manifest store, *output* (default
    ``NAME.c2pa`` next to the clip), and leave the clip itself unchanged.

    The manifest is bound to every byte of the clip by a data hash, so any
    file type works: WebM and MKV (which c2pa-rs cannot embed in) as well
    as MP4, MOV or AVI that must not be modified. Credentials the clip
    already embeds are kept as the parent ingredient.

    >>> sign_sidecar("clip.webm", signer=signer).output  # doctest: +SKIP
    PosixPath('clip.c2pa')
    """
    src = Path(input)
    fmt = formats.detect_any(src)
    dst = Path(output) if output is not None else sidecar_path(src)
    check_output_name(dst)
    if same_file(src, dst):
        raise UsageError(
            f"{dst}: the sidecar would overwrite the clip", hint="give another output name", reason="sidecar_is_clip"
        )
    if dst.is_dir():
        raise UsageError(f"{dst}: output is a directory", hint="give a file name")
    if os.path.lexists(dst) and not force:
        raise OutputExistsError(
            f"{dst}: sidecar file exists",
            hint=f"allow replacing it, or name it {src.name}.c2pa (verify looks for both names)",
            reason="sidecar_exists",
            details={"name": src.name},
        )
    check_signer(signer)
    has_parent = formats.is_embeddable(fmt) and boxes.has_embedded_manifest(src, fmt)
    if has_parent:
        _refuse_invalid_parent(src, allow=allow_invalid_parent)
    from provenance.media import video  # PyAV: only when a clip is signed

    thumbnail = video.thumbnail_jpeg(src) if fmt is not formats.OTHER else None
    name = signer_name(signer)
    manifest = definition(
        title=title or src.name,
        author=author or name,
        mime_type=fmt.mime_type,
        source=source,
        published_at=published_at or dt.datetime.now(dt.UTC),
        with_thumbnail=thumbnail is not None,
        parent_title=src.name if has_parent else None,
    )
    resources = {THUMBNAIL_ID: thumbnail} if thumbnail else {}
    with open_input(src) as source_fh, contextlib.ExitStack() as stack:
        parent = None
        if has_parent:
            parent_fh = stack.enter_context(open_input(src))
            parent = ({"title": src.name, "relationship": "parentOf", "label": src.name}, fmt.mime_type, parent_fh)
        store = bridge.sign_sidecar_store(
            manifest,
            signer=signer,
            mime_type=fmt.mime_type,
            source=source_fh,
            resources=resources,
            parent=parent,
        )
    atomic_write(dst, store, replace=force)
    done = signed(store, signer)
    return SignResult(
        input=src,
        output=dst,
        manifest_id=done.manifest_id,
        format=fmt.name,
        signer=name,
        parent_manifest=has_parent,
        mode="sidecar",
        timestamped_at=done.timestamped_at,
        timestamp_authority=done.timestamp_authority,
    )


def sign_remuxed(
    input: Path | str,
    output: Path | str,
    *,
    signer: Signer,
    title: str | None = None,
    author: str | None = None,
    source: SourceType = SourceType.CAMERA,
    force: bool = False,
    allow_invalid_parent: bool = False,
    published_at: dt.datetime | None = None,
    flat_hash: bool = False,
) -> SignResult:
    """Copy the streams of *input* (WebM, MKV…) into the container *output*
    names (MP4, MOV, M4V or AVI) without re-encoding, and embed the manifest
    there: the other route, besides a sidecar, for containers c2pa-rs cannot
    embed in. Records ``c2pa.created`` (or, when *input* already has
    credentials, ``c2pa.opened`` of it as parent), ``c2pa.repackaged`` and
    ``c2pa.published``. *flat_hash* as for :func:`sign`.

    >>> sign_remuxed("clip.webm", "clip.mp4", signer=signer)  # doctest: +SKIP
    """
    from provenance.media import transcode as media
    from provenance.media import video
    from provenance.parent import read_parent
    from provenance.trust.store import TrustStore

    src, dst = Path(input), Path(output)
    formats.detect_any(src)
    fmt = embeddable_output(src, dst, force=force)
    check_signer(signer)
    parent = read_parent(src, trust=TrustStore())
    parent.require_valid(allow_invalid=allow_invalid_parent)
    when = published_at or dt.datetime.now(dt.UTC)
    name = signer_name(signer)
    with scratch_file(dst) as scratch:
        outcome = media.remux_media(src, scratch, muxer=media.container_for(fmt.name))
        repackaged = action(
            "c2pa.repackaged",
            when=when,
            parameters={"from": parent.format.name, "to": fmt.name, "streams": ", ".join(outcome.streams)},
        )
        published = action("c2pa.published", when=when)
        if parent.signed:
            result = sign_with_parent(
                parent=parent,
                media_file=scratch,
                output=dst,
                fmt=fmt,
                signer=signer,
                trust=TrustStore(),
                actions=[repackaged, published],
                title=title or src.name,
                when=when,
                flat_hash=flat_hash,
                force=force,
            )
            return SignResult(
                input=src,
                output=dst,
                manifest_id=result.manifest_id,
                format=fmt.name,
                signer=name,
                parent_manifest=True,
                mode="remuxed",
                timestamped_at=result.timestamped_at,
                timestamp_authority=result.timestamp_authority,
            )
        thumbnail = video.thumbnail_jpeg(scratch)
        manifest = definition(
            title=title or src.name,
            author=author or name,
            mime_type=fmt.mime_type,
            source=source,
            published_at=when,
            with_thumbnail=thumbnail is not None,
            actions=[repackaged, published],
        )
        resources = {THUMBNAIL_ID: thumbnail} if thumbnail else {}
        with open_input(scratch) as source_fh, atomic_output(dst, replace=force) as dest_fh:
            store = bridge.sign_stream(
                manifest,
                signer=signer,
                mime_type=fmt.mime_type,
                source=source_fh,
                dest=dest_fh,
                resources=resources,
                merkle=not flat_hash,
            )
    done = signed(store, signer)
    return SignResult(
        input=src,
        output=dst,
        manifest_id=done.manifest_id,
        format=fmt.name,
        signer=name,
        parent_manifest=False,
        mode="remuxed",
        timestamped_at=done.timestamped_at,
        timestamp_authority=done.timestamp_authority,
    )
