"""Sign a clip at publication: embed a C2PA manifest bound to the signer's
certificate, written atomically to a new file."""

from __future__ import annotations

import datetime as dt
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.x509.oid import NameOID

from provenance._files import atomic_output
from provenance.credentials import bridge, cose
from provenance.credentials.timestamp import TimeStampToken, parse_token
from provenance.credentials.manifest import THUMBNAIL_ID, SourceType, definition
from provenance.errors import OutputExistsError, UsageError
from provenance.identity.certificates import attribute
from provenance.identity.profile import require_signable
from provenance.identity.signer import Signer
from provenance.media import boxes, formats, video


@dataclass(frozen=True)
class SignResult:
    """What :func:`sign` wrote."""

    input: Path
    output: Path
    manifest_id: str
    format: str
    signer: str
    parent_manifest: bool  # the input already carried credentials, kept as parent
    timestamped_at: str | None = None  # the RFC 3161 time-stamp's time, with --tsa
    timestamp_authority: str | None = None  # the TSA that stamped it

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": str(self.input),
            "output": str(self.output),
            "manifest_id": self.manifest_id,
            "format": self.format,
            "signer": self.signer,
            "parent_manifest": self.parent_manifest,
            "timestamped_at": self.timestamped_at,
            "timestamp_authority": self.timestamp_authority,
        }


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output(input: Path, output: Path, *, fmt: formats.MediaFormat, force: bool) -> None:
    """Refuse OUT == IN, an existing OUT without *force*, and an output
    extension of another container family (signing never converts)."""
    if _same_file(input, output):
        raise UsageError(f"{output}: output is the input file", hint="write to a new file; inputs are never modified")
    if output.exists() and not force:
        raise OutputExistsError(f"{output}: output file exists", hint="pass --force to replace it")
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
    published_at: dt.datetime | None = None,
    flat_hash: bool = False,
) -> SignResult:
    """Sign the clip *input* into *output* with *signer*.

    MP4/MOV/M4V media is bound by a Merkle tree of 1 MiB leaves (BMFF hash
    v3), which keeps signing and verifying within ~50 MB of memory at any
    size; *flat_hash* writes one flat hash instead, for validators that
    predate Merkle trees (it costs c2pa-rs ~550 MB of RAM to sign or verify).

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
    if signer.tsa_url is not None and urllib.parse.urlsplit(signer.tsa_url).scheme.lower() not in ("http", "https"):
        raise UsageError(f"{signer.tsa_url}: the time-stamp authority must be an http(s) URL",
                         hint="e.g. --tsa http://timestamp.example.com")
    fmt = formats.detect(src)
    boxes.check_structure(src, fmt)
    check_output(src, dst, fmt=fmt, force=force)
    require_signable(signer.chain)  # refuse what validators would reject, saying why
    has_parent = boxes.has_embedded_manifest(src, fmt)
    thumbnail = video.thumbnail_jpeg(src)
    signer_name = attribute(signer.certificate.subject, NameOID.COMMON_NAME) or "unknown"
    manifest = definition(
        title=title or src.name,
        author=author or signer_name,
        mime_type=fmt.mime_type,
        source=source,
        published_at=published_at or dt.datetime.now(dt.timezone.utc),
        with_thumbnail=thumbnail is not None,
        parent_title=src.name if has_parent else None,
    )
    resources = {THUMBNAIL_ID: thumbnail} if thumbnail else {}
    with open(src, "rb") as source_fh, atomic_output(dst) as dest_fh:
        parent = None
        parent_fh = None
        if has_parent:
            parent_fh = open(src, "rb")
            parent = ({"title": src.name, "relationship": "parentOf", "label": src.name}, fmt.mime_type, parent_fh)
        try:
            store = bridge.sign_stream(
                manifest, signer=signer, mime_type=fmt.mime_type, source=source_fh, dest=dest_fh,
                resources=resources, parent=parent, merkle=not flat_hash,
            )
        finally:
            if parent_fh is not None:
                parent_fh.close()
    labels = cose.manifest_labels(store)
    stamp = _time_stamp(store, labels[-1]) if labels and signer.tsa_url else None
    return SignResult(
        input=src, output=dst, manifest_id=labels[-1] if labels else "", format=fmt.name,
        signer=signer_name, parent_manifest=has_parent,
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
