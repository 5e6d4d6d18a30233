"""The bridge to c2pa-python: the only module that imports ``c2pa``.

It always passes an explicit ``Context`` (settings and trust per call),
turns c2pa's JSON into plain data for :mod:`provenance.verify`, and turns
``C2paError`` into provenance's own errors.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import c2pa

from provenance.credentials.cose import SignatureHeaders, signature_headers
from provenance.errors import CredentialError, ProvenanceError, InputError, MalformedMediaError, UnsupportedFormatError
from provenance.identity.signer import Signer
from provenance.trust.store import TrustStore

C2PA_VERSION = c2pa.sdk_version()

# c2pa-python logs signer-callback failures itself; provenance reports them
# as one-line errors instead, so its logger must not print to stderr.
logging.getLogger("c2pa").addHandler(logging.NullHandler())
logging.getLogger("c2pa").propagate = False

_ALGS = {alg.name: alg for alg in c2pa.C2paSigningAlg}

# Settings every call shares. verify_after_sign re-reads the whole output in
# c2pa-rs; provenance verifies the signed output itself when asked, so the
# second full pass is off.
_BASE_SETTINGS: dict[str, Any] = {
    "verify": {"verify_after_sign": False},
}


@dataclass(frozen=True)
class ManifestStoreData:
    """What c2pa-rs reports about a file's manifest store, as plain data."""

    store: Mapping[str, Any]  # Reader.json()
    cert_info: Mapping[str, Mapping[str, Any]]  # manifest label -> crJSON certificateInfo
    signatures: Mapping[str, SignatureHeaders]  # manifest label -> x5chain, time-stamp
    validation_state: str
    embedded: bool
    thumbnails: Mapping[str, bytes]  # manifest label -> claim thumbnail bytes


class _ChunkedReads(io.RawIOBase):
    """Serve c2pa-rs's reads in bounded chunks.

    c2pa-rs asks its stream for up to 256 MiB at a time; a short read keeps
    the native buffer it touches, and so peak memory, small. Rust's readers
    loop on short reads, so the hash is unchanged.
    """

    def __init__(self, raw: BinaryIO, *, chunk: int = 4 << 20) -> None:
        self._raw = raw
        self._chunk = chunk

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return self._raw.writable()

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._chunk]
        return self._raw.readinto(view)  # type: ignore[attr-defined,no-any-return]

    def write(self, data: Any) -> int:
        return self._raw.write(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def flush(self) -> None:
        self._raw.flush()


def _context(extra: Mapping[str, Any] | None = None) -> c2pa.Context:
    settings = json.loads(json.dumps(_BASE_SETTINGS))
    for key, value in (extra or {}).items():
        settings.setdefault(key, {}).update(value)
    return c2pa.Context.from_dict(settings)


def translate(exc: c2pa.C2paError, *, path: Path | None = None) -> Exception:
    """Map a ``C2paError`` to a provenance error with a one-line message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = f"{path}: " if path else ""
    detail = text.split(": ", 1)[1] if ": " in text else text
    if isinstance(exc, c2pa.C2paError.NotSupported):
        return UnsupportedFormatError(f"{where}format not supported by c2pa ({detail})", hint="use MP4, MOV, M4V or AVI")
    if isinstance(exc, c2pa.C2paError.Io):
        return MalformedMediaError(f"{where}the file ends early or cannot be read ({detail})", hint="the file is truncated; use a complete copy")
    if "could not be parsed" in text or "Box" in text or "BMFF" in text or "RIFF" in text:
        return MalformedMediaError(f"{where}the container is malformed ({detail})", hint="the file is damaged or not a real video; use an intact copy")
    if isinstance(exc, (c2pa.C2paError.Signature,)):
        return CredentialError(f"{where}signing failed ({detail})", hint="check the key, the certificate chain and the algorithm")
    return CredentialError(f"{where}C2PA error ({detail})", hint="the manifest could not be processed")


def read_store(
    path: Path,
    *,
    mime_type: str,
    trust: TrustStore,
    manifest_data: bytes | None = None,
) -> ManifestStoreData | None:
    """Read and validate the manifest store of *path* (or *manifest_data*, a
    sidecar store). ``None`` when there is none."""
    try:
        with open(path, "rb") as raw:
            ctx = _context(trust.c2pa_settings())
            reader = c2pa.Reader(mime_type, _ChunkedReads(raw), manifest_data, context=ctx)
            with reader:
                store = json.loads(reader.json())
                cr = json.loads(reader.crjson())
                state = reader.get_validation_state() or ""
                embedded = reader.is_embedded()
                active = store.get("active_manifest")
                sigs: dict[str, SignatureHeaders] = {}
                if active:
                    buf = io.BytesIO()
                    reader.resource_to_stream(active, buf)
                    sigs = signature_headers(buf.getvalue())
                thumbs = _thumbnails(reader, store)
    except c2pa.C2paError.ManifestNotFound:
        return None
    except c2pa.C2paError as exc:
        raise translate(exc, path=path) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})", hint="check the path and permissions") from None
    cert_info = {
        m.get("label", ""): (m.get("signature") or {}).get("certificateInfo") or {}
        for m in cr.get("manifests", [])
    }
    return ManifestStoreData(store, cert_info, sigs, state, embedded, thumbs)


def _thumbnails(reader: c2pa.Reader, store: Mapping[str, Any]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for label, manifest in store.get("manifests", {}).items():
        ident = (manifest.get("thumbnail") or {}).get("identifier")
        if not ident:
            continue
        buf = io.BytesIO()
        try:
            reader.resource_to_stream(ident, buf)
        except c2pa.C2paError:
            continue
        out[label] = buf.getvalue()
    return out


def sign_stream(
    definition: Mapping[str, Any],
    *,
    signer: Signer,
    mime_type: str,
    source: BinaryIO,
    dest: BinaryIO,
    resources: Mapping[str, bytes] | None = None,
    parent: tuple[Mapping[str, Any], str, BinaryIO] | None = None,
) -> bytes:
    """Sign *source* into *dest* with *definition*; return the manifest store
    bytes. *parent* is ``(ingredient_json, mime_type, stream)``."""
    callback_errors: list[BaseException] = []

    def callback(data: bytes) -> bytes:
        # c2pa-python swallows callback exceptions (and logs them); keep the
        # real cause so the user sees why signing failed.
        try:
            return signer.sign(data)
        except BaseException as exc:
            callback_errors.append(exc)
            raise

    try:
        c2pa_signer = c2pa.Signer.from_callback(
            callback, _ALGS[signer.alg.name], signer.chain_pem().decode(), signer.tsa_url
        )
        with c2pa_signer, c2pa.Builder(dict(definition), context=_context()) as builder:
            for uri, data in (resources or {}).items():
                builder.add_resource(uri, io.BytesIO(data))
            if parent is not None:
                ingredient, parent_mime, parent_stream = parent
                builder.add_ingredient(dict(ingredient), parent_mime, _ChunkedReads(parent_stream))
            return builder.sign(c2pa_signer, mime_type, _ChunkedReads(source), dest)
    except c2pa.C2paError as exc:
        if callback_errors:
            cause = callback_errors[0]
            if isinstance(cause, ProvenanceError):
                raise cause from None
            raise CredentialError(
                f"the signer failed ({type(cause).__name__}: {cause})", hint="check the key, token or signing service"
            ) from None
        if signer.tsa_url and _is_time_stamp_failure(exc):
            raise CredentialError(
                f"time-stamping failed: the authority at {signer.tsa_url} gave no valid time-stamp ({_detail(exc)})",
                hint="check the --tsa URL and that the authority is reachable, or sign without --tsa",
            ) from None
        raise translate(exc) from None


def _detail(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(": ", 1)[1] if ": " in text else text


def _is_time_stamp_failure(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("http resolver", "time stamp", "timestamp", "time-stamp", "nonce"))
