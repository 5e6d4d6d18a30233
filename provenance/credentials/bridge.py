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

# Reading: c2pa-rs hashes flat-hashed assets through two live 256 MiB
# buffers (hash_utils.rs MAX_HASH_BUF, not configurable in 0.91.3), so
# verifying a flat-hashed file costs ~540 MB whatever the stream does.
#
# Signing: c2pa-rs signs in three passes (copy to a temp stream with a
# placeholder, hash it, copy it to the destination) and keeps the temp
# stream in RAM up to core.backing_store_memory_threshold_in_mb (512 by
# default); 0 sends it to an unlinked temp file. A Merkle tree over mdat in
# 1 MiB leaves (BMFF hash v3) replaces the flat hash and its 256 MiB buffers,
# so neither signing nor verifying what provenance signs needs more than
# ~50 MB. Proof boxes (merkle_tree_max_proofs) would add two more full copies
# and serve streaming clients only, so none are written. verify_after_sign
# checks the new manifest's structure; its hash re-check stays off (default).
MERKLE_LEAF_KB = 1024
_SIGN_SETTINGS: dict[str, Any] = {
    "verify": {"verify_after_sign": True},
    "core": {"backing_store_memory_threshold_in_mb": 0},
}
_MERKLE_SETTINGS: dict[str, Any] = {
    "core": {"merkle_tree_chunk_size_in_kb": MERKLE_LEAF_KB, "merkle_tree_max_proofs": 0},
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


def _context(*parts: Mapping[str, Any]) -> c2pa.Context:
    settings: dict[str, dict[str, Any]] = {}
    for part in parts:
        for key, value in part.items():
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
            reader = c2pa.Reader(mime_type, raw, manifest_data, context=ctx)
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
    merkle: bool = True,
) -> bytes:
    """Sign *source* into *dest* with *definition*; return the manifest store
    bytes. *parent* is ``(ingredient_json, mime_type, stream)``. *merkle*
    hashes BMFF media in 1 MiB Merkle leaves (bounded memory); ``False``
    writes the classic flat hash older validators expect."""
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
        with c2pa_signer, c2pa.Builder(dict(definition), context=_context(_SIGN_SETTINGS, *([_MERKLE_SETTINGS] if merkle else []))) as builder:
            for uri, data in (resources or {}).items():
                builder.add_resource(uri, io.BytesIO(data))
            if parent is not None:
                ingredient, parent_mime, parent_stream = parent
                builder.add_ingredient(dict(ingredient), parent_mime, parent_stream)
            return builder.sign(c2pa_signer, mime_type, source, dest)
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
