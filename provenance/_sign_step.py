"""The signing step that :mod:`provenance.signing` and :mod:`provenance.edit`
share (internal and unstable: not part of the public API).

It checks a signer and an output, gives a scratch file next to the output,
signs edited media with its source as the ``parentOf`` ingredient, and reads
the time-stamp back from the store just signed. Neither front module imports
the other; both import this one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.x509.oid import NameOID

from provenance import _files
from provenance._files import atomic_output, check_output_name, open_input, output_error, same_file
from provenance.credentials import bridge, cose
from provenance.credentials.manifest import THUMBNAIL_ID, SourceType, definition
from provenance.credentials.timestamp import TimeStampToken, parse_token
from provenance.errors import OutputError, OutputExistsError, UsageError
from provenance.identity.certificates import attribute
from provenance.identity.profile import require_signable
from provenance.identity.signer import Signer
from provenance.media import formats

if TYPE_CHECKING:
    from provenance.media.fingerprint import Fingerprint
    from provenance.parent import Parent
    from provenance.repository import Registration, Repository
    from provenance.trust.store import TrustStore

PARENT_LABEL = "parent"


@dataclass(frozen=True)
class Signed:
    """What one signing step wrote: the manifest store and what results report."""

    store: bytes
    manifest_id: str
    timestamped_at: str | None
    timestamp_authority: str | None
    soft_binding: bool = False  # the manifest records the content fingerprint
    registration_note: str | None = None  # why it has no fingerprint


def check_signer(signer: Signer) -> None:
    """Refuse, before any work, a signer whose signature validators would
    reject (the C2PA certificate profile, saying why) or whose time-stamp
    authority is not an http(s) URL."""
    if signer.tsa_url is not None and urllib.parse.urlsplit(signer.tsa_url).scheme.lower() not in ("http", "https"):
        raise UsageError(
            f"{signer.tsa_url}: the time-stamp authority must be an http(s) URL",
            hint="e.g. http://timestamp.example.com",
            reason="tsa_url_scheme",
        )
    require_signable(signer.chain)


def signer_name(signer: Signer) -> str:
    """The signer certificate's common name, as results name the signer."""
    return attribute(signer.certificate.subject, NameOID.COMMON_NAME) or "unknown"


def signed(store: bytes, signer: Signer) -> Signed:
    """The manifest id and the RFC 3161 time-stamp of the active manifest in
    the *store* just signed (no time-stamp without a TSA)."""
    labels = cose.manifest_labels(store)
    stamp = _time_stamp(store, labels[-1]) if labels and signer.tsa_url else None
    return Signed(
        store=store,
        manifest_id=labels[-1] if labels else "",
        timestamped_at=stamp.gen_time.isoformat().replace("+00:00", "Z") if stamp else None,
        timestamp_authority=stamp.authority if stamp else None,
    )


def _time_stamp(store: bytes, label: str) -> TimeStampToken | None:
    headers = cose.signature_headers(store).get(label)
    for raw in headers.timestamp_tokens if headers else ():
        token = parse_token(raw)
        if token is not None:
            return token
    return None


def embeddable_output(src: Path, dst: Path, *, force: bool) -> formats.MediaFormat:
    """The container *dst* will be, by its extension; refuses OUT == IN, an
    existing OUT (a dangling symlink too) without *force*, and containers
    that cannot embed."""
    check_output_name(dst)
    if same_file(src, dst):
        raise UsageError(f"{dst}: output is the input file", hint="write to a new file; inputs are never modified")
    if dst.is_dir():
        raise UsageError(f"{dst}: output is a directory", hint="give a file name")
    if os.path.lexists(dst) and not force:  # a dangling symlink too
        raise OutputExistsError(f"{dst}: output file exists")
    fmt = formats.for_extension(dst)
    if fmt is None or not formats.is_embeddable(fmt):
        what = (
            f"{fmt.name} cannot carry embedded credentials"
            if fmt
            else f"extension {dst.suffix or '(none)'!r} names no container provenance writes"
        )
        raise UsageError(f"{dst}: {what}", hint=f"name the output .mp4, .mov, .m4v or .avi ({formats.SUPPORTED_NAMES})")
    return fmt


@contextlib.contextmanager
def scratch_file(dst: Path) -> Iterator[Path]:
    """A temporary media file in *dst*'s folder (same file system), gone
    after, even when the process is killed (see :mod:`provenance._files`)."""
    with _files.scratch_file(dst) as path:
        try:
            yield path
        except OutputError as exc:  # raised naming the scratch file; the user knows the folder
            raise output_error(dst.parent if str(dst.parent) else Path("."), exc.errno) from None


def sign_with_parent(
    *,
    parent: Parent,
    media_file: Path,
    output: Path,
    fmt: formats.MediaFormat,
    signer: Signer,
    trust: TrustStore,
    actions: list[dict[str, Any]],
    title: str | None = None,
    when: dt.datetime,
    flat_hash: bool = False,
    force: bool = True,
    register: Repository | None = None,
) -> Signed:
    """Sign *media_file* (the edited media) into *output*: ``c2pa.opened``
    of *parent*, then *actions*, with a claim thumbnail of the result.
    MP4/MOV media is bound by 1 MiB Merkle leaves unless *flat_hash*."""
    from provenance.media import video  # PyAV: only when media is signed

    thumbnail = video.thumbnail_jpeg(media_file)
    binding = content_binding(media_file) if register is not None else None
    manifest = definition(
        title=title or output.name,
        author=None,
        mime_type=fmt.mime_type,
        source=SourceType.CAMERA,
        published_at=when,
        with_thumbnail=thumbnail is not None,
        parent_title=PARENT_LABEL,
        actions=actions,
        extra_assertions=binding.assertions if binding else (),
    )
    ingredient, resources = parent.ingredient(label=PARENT_LABEL)
    if thumbnail:
        resources[THUMBNAIL_ID] = thumbnail
    with contextlib.ExitStack() as stack:
        if fmt is not formats.AVI and not flat_hash:
            media_file = _interop_layout(media_file, output, stack)
        media_fh = stack.enter_context(open_input(media_file))
        parent_fh = stack.enter_context(open_input(parent.path))
        out_fh = stack.enter_context(atomic_output(output, replace=force))
        store = bridge.sign_stream(
            manifest,
            signer=signer,
            mime_type=fmt.mime_type,
            source=media_fh,
            dest=out_fh,
            resources=resources,
            parent=(ingredient, parent.format.mime_type, parent_fh),
            trust=trust,
            intent="edit",
            merkle=not flat_hash,
        )
    done = signed(store, signer)
    if register is None or binding is None:
        return done
    binding.register(
        register,
        store,
        manifest_id=done.manifest_id,
        signer=signer,
        title=title or output.name,
        signed_at=done.timestamped_at or when.isoformat(),
    )
    return replace(done, soft_binding=bool(binding.assertions), registration_note=binding.reason)


def _interop_layout(media_file: Path, output: Path, stack: contextlib.ExitStack) -> Path:
    """*media_file* copied (to a scratch file *stack* removes) with moov
    first and one 64-bit mdat last, the layout whose Merkle leaves c2pa-rs
    and c2pa-ts hash alike (see provenance.media.bmff_layout); *media_file*
    itself when its layout is not one that copy rewrites."""
    from provenance.media import bmff_layout

    try:
        layout = bmff_layout.read_layout(media_file)
        scratch = stack.enter_context(scratch_file(output))
        with open_input(media_file) as src, open(scratch, "wb") as dst:
            bmff_layout.write_interop_copy(layout, src, dst)
    except bmff_layout.LayoutNotSupported:
        return media_file
    return scratch


@dataclass(frozen=True)
class ContentBinding:
    """A clip's content fingerprint for its manifest (the ``c2pa.soft-binding``
    assertion) and its repository, or why it has none (too short, too
    uniform: the clip is then signed and registered without one)."""

    fingerprint: Fingerprint | None
    reason: str | None = None

    @property
    def assertions(self) -> tuple[dict[str, Any], ...]:
        from provenance.media.fingerprint import soft_binding_assertion

        if self.fingerprint is None:
            return ()
        return ({"label": "c2pa.soft-binding", "data": soft_binding_assertion(self.fingerprint)},)

    def register(
        self,
        repository: Repository,
        store: bytes,
        *,
        manifest_id: str,
        signer: Signer,
        title: str,
        signed_at: str | None,
    ) -> Registration:
        """Store the signed *store* and this fingerprint in *repository*."""
        from provenance.repository import SignerInfo

        subject, issuer = signer.certificate.subject, signer.certificate.issuer
        info = SignerInfo(
            name=signer_name(signer),
            organization=attribute(subject, NameOID.ORGANIZATION_NAME),
            issuer=attribute(issuer, NameOID.COMMON_NAME) or attribute(issuer, NameOID.ORGANIZATION_NAME),
            signed_at=signed_at,
        )
        return repository.register(
            store,
            manifest_id=manifest_id,
            signer=info,
            title=title,
            fingerprint=self.fingerprint,
            no_fingerprint=self.reason,
        )


def content_binding(path: Path) -> ContentBinding:
    """Fingerprint *path* for its manifest and repository (PyAV; about 1/20
    of the clip's duration)."""
    from provenance.media import fingerprint

    try:
        return ContentBinding(fingerprint.compute(path, threads=fingerprint.waiting_threads()))
    except fingerprint.FingerprintError as exc:
        return ContentBinding(None, f"not fingerprinted: {exc.message.removeprefix(f'{path}: ')}")
