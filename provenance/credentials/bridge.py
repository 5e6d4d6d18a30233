"""The bridge to c2pa-python: the only module that imports ``c2pa``.

It always passes an explicit ``Context`` (settings and trust per call),
hands c2pa's JSON to :mod:`provenance.credentials.model`, and turns
``C2paError`` into provenance's own errors.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import c2pa

from provenance._files import open_input
from provenance.credentials.cose import IdentitySignature, SignatureHeaders, identity_signatures, signature_headers
from provenance.credentials.model import ManifestStore, active_label, claim_thumbnail_ids, parse_store
from provenance.errors import (
    CredentialError,
    IdentityError,
    InputError,
    MalformedMediaError,
    ProvenanceError,
    UnsupportedFormatError,
)
from provenance.identity.cawg import CawgIdentity, require_identity_signer
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
    # The standard assertions provenance makes (c2pa-rs writes the ingredient
    # and the thumbnails for it) are created, not gathered, assertions, as the
    # conformance program expects of a generator.
    "builder": {
        "created_assertion_labels": [
            "c2pa.actions.v2",
            "c2pa.ingredient",
            "c2pa.thumbnail.claim",
            "c2pa.thumbnail.ingredient",
        ],
    },
}
_MERKLE_SETTINGS: dict[str, Any] = {
    "core": {"merkle_tree_chunk_size_in_kb": MERKLE_LEAF_KB, "merkle_tree_max_proofs": 0},
}


def _settings(*parts: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    settings: dict[str, dict[str, Any]] = {}
    for part in parts:
        for key, value in part.items():
            settings.setdefault(key, {}).update(value)
    return settings


def _context(*parts: Mapping[str, Any]) -> c2pa.Context:
    return c2pa.Context.from_dict(_settings(*parts))


def translate(exc: c2pa.C2paError, *, path: Path | None = None) -> Exception:
    """Map a ``C2paError`` to a provenance error with a one-line message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = f"{path}: " if path else ""
    detail = text.split(": ", 1)[1] if ": " in text else text
    if isinstance(exc, c2pa.C2paError.NotSupported):
        return UnsupportedFormatError(
            f"{where}format not supported by c2pa ({detail})", hint="use MP4, MOV, M4V or AVI"
        )
    if isinstance(exc, c2pa.C2paError.Io):
        return MalformedMediaError(
            f"{where}the file ends early or cannot be read ({detail})",
            hint="the file is truncated; use a complete copy",
        )
    if "could not be parsed" in text or "Box" in text or "BMFF" in text or "RIFF" in text:
        return MalformedMediaError(
            f"{where}the container is malformed ({detail})",
            hint="the file is damaged or not a real video; use an intact copy",
        )
    if isinstance(exc, (c2pa.C2paError.Signature,)):
        return CredentialError(
            f"{where}signing failed ({detail})", hint="check the key, the certificate chain and the algorithm"
        )
    return CredentialError(f"{where}C2PA error ({detail})", hint="the manifest could not be processed")


def read_store(
    path: Path,
    *,
    mime_type: str,
    trust: TrustStore,
    manifest_data: bytes | None = None,
) -> ManifestStore | None:
    """Read and validate the manifest store of *path* (or *manifest_data*, a
    sidecar store). ``None`` when there is none."""
    with _reading(path):
        try:
            with open_input(path) as raw:
                ctx = _context(trust.c2pa_settings())
                with c2pa.Reader(mime_type, raw, manifest_data, context=ctx) as reader:
                    return _store_data(reader)
        except c2pa.C2paError.ManifestNotFound:
            return None


def read_crjson(
    path: Path,
    *,
    mime_type: str,
    trust: TrustStore,
    manifest_data: bytes | None = None,
) -> tuple[ManifestStore | None, dict[str, Any]]:
    """As :func:`read_store`, and the crJSON document (the C2PA conformance
    program's JSON form of the store with c2pa-rs's validation results)
    from the same Reader, so the asset is hashed once. ``(None, {})`` when
    there is no store (c2pa-rs's crJSON of an asset without credentials)."""
    with _reading(path):
        try:
            with open_input(path) as raw:
                ctx = _context(trust.c2pa_settings())
                with c2pa.Reader(mime_type, raw, manifest_data, context=ctx) as reader:
                    document = json.loads(reader.crjson())
                    if not isinstance(document, dict):
                        raise InputError(f"{path}: c2pa gave no crJSON document", hint="use an intact copy")
                    return _store_data(reader), document
        except c2pa.C2paError.ManifestNotFound:
            return None, {}


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn c2pa and OS errors while reading *path* into provenance errors."""
    try:
        yield
    except c2pa.C2paError as exc:
        error = translate(exc, path=path)
        if not isinstance(error, InputError):  # reading, so never "signing failed": the store is damaged
            detail = _detail(exc)
            error = InputError(
                f"{path}: its content credentials cannot be read ({detail}); the manifest store is damaged or not C2PA",
                hint="use an intact copy",
            )
        raise error from None
    except OSError as exc:
        where = exc.filename or path
        raise InputError(f"{where}: cannot be read ({exc.strerror})", hint="check the path and permissions") from None


def read_fragment(init: Path, segment: Path, *, trust: TrustStore) -> ManifestStore | None:
    """Read the manifest store of the fragmented-MP4 init segment *init* and
    validate it together with the media segment *segment*
    (``Reader.with_fragment``). ``None`` when *init* has no manifest."""
    with _reading(segment):
        try:
            with open_input(init) as raw, open_input(init) as raw2, open_input(segment) as frag:
                ctx = _context(trust.c2pa_settings())
                with c2pa.Reader("video/mp4", raw, context=ctx) as reader:
                    reader.with_fragment("video/mp4", raw2, frag)
                    return _store_data(reader)
        except c2pa.C2paError.ManifestNotFound:
            return None


def read_resource(path: Path, *, mime_type: str, identifier: str, manifest_data: bytes | None = None) -> bytes:
    """The bytes of one resource (a thumbnail, say) of *path*'s manifest
    store, named by its ``identifier`` in the Reader JSON."""
    with (
        _reading(path),
        open_input(path) as raw,
        c2pa.Reader(mime_type, raw, manifest_data, context=_context()) as reader,
    ):
        buf = io.BytesIO()
        reader.resource_to_stream(identifier, buf)
        return buf.getvalue()


def read_detached_store(store: bytes, *, trust: TrustStore, origin: str) -> ManifestStore:
    """Read and validate the manifest store *store* on its own (a
    repository's answer, without the asset it was signed for): every check
    c2pa-rs can make without the asset's bytes; the hard binding then
    reports a mismatch, which the verdict rules expect. *origin* names the
    store in errors."""
    try:
        with c2pa.Reader("application/c2pa", io.BytesIO(store), context=_context(trust.c2pa_settings())) as reader:
            return _store_data(reader)
    except c2pa.C2paError as exc:
        raise InputError(
            f"{origin}: not a readable C2PA manifest store ({_detail(exc)})",
            hint="the repository answered with a damaged store",
        ) from None


def raw_manifest_store(path: Path, *, manifest_data: bytes | None = None) -> tuple[bytes, str] | None:
    """The raw manifest store (JUMBF, as a ``.c2pa`` file holds it) that
    *path* embeds, or *manifest_data* (a sidecar store), with its active
    manifest label; ``None`` when *path* embeds none. c2pa's Reader reads
    the bytes on their own to confirm they are a manifest store and to name
    the active manifest (c2pa-python has no call that returns the bytes)."""
    from provenance.media import boxes, formats

    store = manifest_data
    if store is None:
        with _reading(path):
            fmt = formats.detect(path)
            for kind, offset, size, head in boxes.top_level(path, fmt):
                if kind == b"C2PA" or (kind == b"uuid" and head == boxes.C2PA_UUID):
                    with open(path, "rb") as fh:
                        fh.seek(offset)
                        store = _jumbf_in(fh.read(size), riff=kind == b"C2PA")
                    break
    if not store:
        return None
    with _reading(path):
        try:
            with c2pa.Reader("application/c2pa", io.BytesIO(store), context=_context()) as reader:
                label = active_label(json.loads(reader.json()))
        except c2pa.C2paError.ManifestNotFound:
            return None
    if not label:
        raise InputError(f"{path}: its manifest store names no active manifest", hint="use an intact copy")
    return store, str(label)


def _jumbf_in(box: bytes, *, riff: bool) -> bytes:
    """The JUMBF inside a C2PA ``uuid`` box (BMFF: after the UUID, version
    and flags, a purpose C string and an 8-byte offset) or ``C2PA`` chunk
    (RIFF: the chunk payload); the JUMBF superbox's own length ends it."""
    if riff:
        start = 8
    else:
        header = 16 if int.from_bytes(box[:4], "big") == 1 else 8
        purpose_end = box.find(b"\x00", header + 16 + 4)
        start = purpose_end + 1 + 8 if purpose_end >= 0 else len(box)
    length = int.from_bytes(box[start : start + 4], "big")
    if length < 8 or start + length > len(box) or box[start + 4 : start + 8] != b"jumb":
        return b""  # c2pa's Reader of the whole file reports what is wrong
    return box[start : start + length]


def _store_data(reader: c2pa.Reader) -> ManifestStore:
    """The model of *reader*'s manifest store: its report, the COSE headers
    of every claim signature, and the claim thumbnails."""
    report = json.loads(reader.json())
    active = active_label(report)
    sigs: dict[str, SignatureHeaders] = {}
    identities: dict[str, dict[str, IdentitySignature]] = {}
    if active:
        buf = io.BytesIO()
        reader.resource_to_stream(active, buf)
        sigs = signature_headers(buf.getvalue())
        identities = identity_signatures(buf.getvalue())
    return parse_store(
        report,
        signatures=sigs,
        thumbnails=_thumbnails(reader, report),
        validation_state=reader.get_validation_state() or "",
        embedded=reader.is_embedded(),
        identities=identities,
    )


def _thumbnails(reader: c2pa.Reader, report: Mapping[str, Any]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for label, ident in claim_thumbnail_ids(report).items():
        buf = io.BytesIO()
        try:
            reader.resource_to_stream(ident, buf)
        except c2pa.C2paError:
            continue
        out[label] = buf.getvalue()
    return out


_INTENTS = {
    "create": c2pa.C2paBuilderIntent.CREATE,
    "edit": c2pa.C2paBuilderIntent.EDIT,
    "update": c2pa.C2paBuilderIntent.UPDATE,
}


class _Callback:
    """*signer* as c2pa's signing callback. c2pa-python swallows callback
    exceptions (and logs them); this keeps the real cause, so the user sees
    why signing failed (a locked token, a failing KMS command...)."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.errors: list[BaseException] = []

    def sign(self, data: bytes) -> bytes:
        try:
            return self.signer.sign(data)
        except BaseException as exc:
            self.errors.append(exc)
            raise

    def c2pa_signer(self) -> c2pa.Signer:
        signer = self.signer
        return c2pa.Signer.from_callback(self.sign, _ALGS[signer.alg.name], signer.chain_pem().decode(), signer.tsa_url)

    def failure(self, exc: c2pa.C2paError) -> Exception:
        """The provenance error for a failed signing call."""
        if self.errors:
            cause = self.errors[0]
            if isinstance(cause, ProvenanceError):
                return cause
            return CredentialError(
                f"the signer failed ({type(cause).__name__}: {cause})", hint="check the key, token or signing service"
            )
        if _is_signature_failure(exc):
            # Checked before the time-stamp: a garbled signature is the
            # signer's fault, whatever step of c2pa-rs trips over it.
            return IdentityError(
                f"the signature the signer made does not verify ({_detail(exc)})",
                hint=f"the key must be that of the chain's first certificate, signing with {self.signer.alg.value}",
            )
        tsa_url = self.signer.tsa_url
        if tsa_url and _is_time_stamp_failure(exc):
            return CredentialError(
                f"time-stamping failed: the authority at {tsa_url} gave no valid time-stamp ({_detail(exc)})",
                hint="check the time-stamp authority's URL and that it is reachable, or sign without one",
                reason="tsa_failed",
            )
        return translate(exc)


# -- the signer's OCSP status ----------------------------------------------------
# c2pa-python's callback signer has no ocsp_val, so c2pa-rs cannot staple the
# status in the COSE header (rVals). It travels as a c2pa.certificate-status
# assertion instead, which c2pa-rs 0.91.3 reads for the claim's own signer
# when it validates (store.rs, certificate_statuses). The bytes go as a list
# of integers: the JSON definition has no byte strings, and c2pa-rs's
# ByteBuf reads a sequence of integers as bytes.
CERTIFICATE_STATUS_LABEL = "c2pa.certificate-status"


def _with_certificate_status(definition: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
    """*definition* with the signer's OCSP response as a certificate-status
    assertion, when the signer carries one."""
    out = dict(definition)
    if signer.ocsp_response:
        status = {"label": CERTIFICATE_STATUS_LABEL, "data": {"ocspVals": [list(signer.ocsp_response)]}}
        out["assertions"] = [*out.get("assertions", ()), status]
    return out


def _status_settings(signer: Signer) -> list[Mapping[str, Any]]:
    """With the signer's status attached, c2pa-rs also fetches the status of
    a parent's signer it ingests (``builder.certificate_status_fetch``; only
    when that parent carries none) and keeps it in the new manifest."""
    if not signer.ocsp_response:
        return []
    return [{"builder": {"certificate_status_fetch": "active", "certificate_status_should_override": False}}]


def _sign_settings(trust: TrustStore | None, *, merkle: bool) -> list[Mapping[str, Any]]:
    """Settings for a signing call: bounded memory, Merkle leaves for BMFF
    media when *merkle*, and *trust* for judging a parent ingredient."""
    parts: list[Mapping[str, Any]] = [_SIGN_SETTINGS]
    if merkle:
        parts.append(_MERKLE_SETTINGS)
    if trust is not None:
        parts.append(trust.c2pa_settings())
    return parts


def _prepare(
    builder: c2pa.Builder,
    *,
    resources: Mapping[str, bytes] | None,
    parent: tuple[Mapping[str, Any], str, BinaryIO] | None,
    intent: str | None,
) -> None:
    for uri, data in (resources or {}).items():
        builder.add_resource(uri, io.BytesIO(data))
    if parent is not None:
        ingredient, parent_mime, parent_stream = parent
        builder.add_ingredient(dict(ingredient), parent_mime, parent_stream)
    if intent is not None:
        builder.set_intent(_INTENTS[intent])


def sign_stream(
    definition: Mapping[str, Any],
    *,
    signer: Signer,
    mime_type: str,
    source: BinaryIO,
    dest: BinaryIO,
    resources: Mapping[str, bytes] | None = None,
    parent: tuple[Mapping[str, Any], str, BinaryIO] | None = None,
    trust: TrustStore | None = None,
    intent: str | None = None,
    merkle: bool = True,
    identity: CawgIdentity | None = None,
) -> bytes:
    """Sign *source* into *dest* with *definition*; return the manifest store
    bytes. *parent* is ``(ingredient_json, mime_type, stream)``; c2pa-rs
    validates its credentials against *trust* and records the result in the
    ingredient. *intent* is ``"create"``, ``"edit"`` or ``"update"``.
    *merkle* hashes BMFF media in 1 MiB Merkle leaves (bounded memory);
    ``False`` writes the classic flat hash older validators expect.
    *identity* adds a CAWG X.509 identity assertion signed by it (the
    signer must then be a key file: see :mod:`provenance.identity.cawg`)."""
    if identity is not None:
        return _sign_with_identity(
            definition,
            signer=signer,
            identity=identity,
            mime_type=mime_type,
            source=source,
            dest=dest,
            resources=resources,
            parent=parent,
            settings=_sign_settings(trust, merkle=merkle),
            intent=intent,
        )
    callback = _Callback(signer)
    try:
        context = _context(*_sign_settings(trust, merkle=merkle), *_status_settings(signer))
        with (
            callback.c2pa_signer() as c2pa_signer,
            c2pa.Builder(_with_certificate_status(definition, signer), context=context) as builder,
        ):
            _prepare(builder, resources=resources, parent=parent, intent=intent)
            return builder.sign(c2pa_signer, mime_type, source, dest)
    except c2pa.C2paError as exc:
        raise callback.failure(exc) from None


# --- CAWG identity signing (issue 10, part 1) ---------------------------------


def _sign_with_identity(
    definition: Mapping[str, Any],
    *,
    signer: Signer,
    identity: CawgIdentity,
    mime_type: str,
    source: BinaryIO,
    dest: BinaryIO,
    resources: Mapping[str, bytes] | None,
    parent: tuple[Mapping[str, Any], str, BinaryIO] | None,
    settings: list[Mapping[str, Any]],
    intent: str | None,
) -> bytes:
    """:func:`sign_stream` with a CAWG X.509 identity assertion. c2pa-rs
    0.91.3 adds one only for the Context's signer made from its settings
    (``Context::signer`` wraps ``signer`` in ``cawg_x509_signer``; a
    callback signer is never wrapped), so both keys go to c2pa-rs as PEM in
    the settings, in memory. c2pa-python 0.38 marks a Context as having a
    signer only when it was given a Signer object, so the Builder is told."""
    key_signer = require_identity_signer(signer)
    ident = identity.signer
    local: dict[str, Any] = {
        "alg": key_signer.alg.value,
        "sign_cert": key_signer.chain_pem().decode(),
        "private_key": key_signer.key_pem().decode(),
    }
    if key_signer.tsa_url:
        local["tsa_url"] = key_signer.tsa_url
    cawg = {
        "alg": ident.alg.value,
        "sign_cert": ident.chain_pem().decode(),
        "private_key": ident.key_pem().decode(),
        "referenced_assertions": list(identity.covers),
    }
    try:
        context = _context(*settings, {"signer": {"local": local}, "cawg_x509_signer": {"local": cawg}})
        with c2pa.Builder(dict(definition), context=context) as builder:
            _prepare(builder, resources=resources, parent=parent, intent=intent)
            builder._has_context_signer = True
            return builder.sign(mime_type, source, dest)
    except c2pa.C2paError as exc:
        tsa_url = key_signer.tsa_url
        if tsa_url and _is_time_stamp_failure(exc):
            raise CredentialError(
                f"time-stamping failed: the authority at {tsa_url} gave no valid time-stamp ({_detail(exc)})",
                hint="check the time-stamp authority's URL and that it is reachable, or sign without one",
                reason="tsa_failed",
            ) from None
        raise translate(exc) from None


# The data-hash signing calls of the C API that c2pa-python 0.38 does not
# bind (c2pa_c_ffi/src/c_api.rs). Prototypes of our own, so the library's
# own bindings are left untouched.
@functools.cache
def _data_hash_calls() -> tuple[Any, Any, Any]:
    """``(update_hash_from_stream, sign_embeddable, free)``, bound on first
    use, so a c2pa-python without them breaks sidecar signing only."""
    try:
        native = c2pa.c2pa._lib
        update = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)(
            ("c2pa_builder_update_hash_from_stream", native)
        )
        sign = ctypes.CFUNCTYPE(
            ctypes.c_int64, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))
        )(("c2pa_builder_sign_embeddable", native))
        return update, sign, native.c2pa_free
    except (AttributeError, OSError) as exc:
        raise CredentialError(
            f"this c2pa library cannot sign sidecars ({exc})",
            hint=f"install c2pa-python 0.38 (c2pa-rs {C2PA_VERSION} was found), or remux the clip to MP4",
            reason="sidecar_unsupported_c2pa",
            details={"found": C2PA_VERSION},
        ) from None


def _native_failure(fallback: str) -> c2pa.C2paError:
    message = c2pa.c2pa._read_native_error() or fallback
    try:
        c2pa.c2pa._raise_typed_c2pa_error(message)
    except c2pa.C2paError as exc:
        return exc
    return c2pa.C2paError(message)  # pragma: no cover - the call above always raises


def sign_sidecar_store(
    definition: Mapping[str, Any],
    *,
    signer: Signer,
    mime_type: str,
    source: BinaryIO,
    resources: Mapping[str, bytes] | None = None,
    parent: tuple[Mapping[str, Any], str, BinaryIO] | None = None,
    trust: TrustStore | None = None,
    intent: str | None = None,
) -> bytes:
    """Sign a sidecar manifest store for *source* and return its bytes
    (``application/c2pa``); *source* is only read.

    The hard binding is a ``c2pa.hash.data`` assertion over every byte of
    *source*, with no exclusions: the spec's binding for an external
    manifest, which works for any file type, WebM and MKV included. It is
    made with c2pa-rs's ``update_hash_from_stream`` followed by
    ``sign_embeddable`` for the ``application/c2pa`` format, called through
    c2pa-python's own loaded library because c2pa-python 0.38 does not
    bind them; the signer comes from the Builder's Context.
    """
    update_hash_from_stream, sign_embeddable, free = _data_hash_calls()
    callback = _Callback(signer)
    settings = _settings(*_sign_settings(trust, merkle=False))
    try:
        context = c2pa.Context(settings=c2pa.Settings.from_dict(settings), signer=callback.c2pa_signer())
        with context, c2pa.Builder(_with_certificate_status(definition, signer), context=context) as builder:
            _prepare(builder, resources=resources, parent=parent, intent=intent)
            with builder._exclusive_native_call(), c2pa.c2pa.Stream(source) as stream:
                if update_hash_from_stream(builder._handle, mime_type.encode(), stream._stream) != 0:
                    raise _native_failure("hashing the clip failed")
            out = ctypes.POINTER(ctypes.c_ubyte)()
            with builder._exclusive_native_call():
                size = sign_embeddable(builder._handle, b"application/c2pa", ctypes.byref(out))
                if size < 0:
                    raise _native_failure("signing the sidecar failed")
                try:
                    return ctypes.string_at(out, size)
                finally:
                    free(ctypes.cast(out, ctypes.c_void_p))
    except c2pa.C2paError as exc:
        raise callback.failure(exc) from None


# The embeddable BMFF calls of the C API (c2pa_c_ffi/src/c_api.rs) that
# c2pa-python 0.38 does not bind: the caller writes the asset itself, with a
# placeholder manifest box, feeds the media bytes to the Builder's Merkle
# accumulator as it copies them, lets c2pa-rs hash the rest, and patches the
# signed manifest in place. Prototypes of our own, as for sidecars.
@dataclass(frozen=True)
class _EmbeddingCalls:
    set_fixed_size_merkle: Any
    placeholder: Any
    hash_mdat_bytes: Any
    update_hash_from_stream: Any
    sign_embeddable: Any
    free: Any


@functools.cache
def _embedding_calls() -> _EmbeddingCalls | None:
    """The calls, bound on first use; ``None`` when this c2pa library lacks
    them (one-pass signing is then not offered)."""
    native = c2pa.c2pa._lib
    out_bytes = ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))
    try:
        return _EmbeddingCalls(
            set_fixed_size_merkle=ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)(
                ("c2pa_builder_set_fixed_size_merkle", native)
            ),
            placeholder=ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_char_p, out_bytes)(
                ("c2pa_builder_placeholder", native)
            ),
            hash_mdat_bytes=ctypes.CFUNCTYPE(
                ctypes.c_int,
                ctypes.c_void_p,
                ctypes.c_size_t,
                ctypes.c_void_p,
                ctypes.c_size_t,
                ctypes.c_bool,
            )(("c2pa_builder_hash_mdat_bytes", native)),
            update_hash_from_stream=ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)(
                ("c2pa_builder_update_hash_from_stream", native)
            ),
            sign_embeddable=ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_char_p, out_bytes)(
                ("c2pa_builder_sign_embeddable", native)
            ),
            free=native.c2pa_free,
        )
    except (AttributeError, OSError):
        return None


def embedding_available() -> bool:
    """Whether this c2pa library offers the calls :class:`BmffEmbedding` needs."""
    return _embedding_calls() is not None


def _take_bytes(call: Any, handle: Any, mime_type: str, what: str) -> bytes:
    out = ctypes.POINTER(ctypes.c_ubyte)()
    size = call(handle, mime_type.encode(), ctypes.byref(out))
    if size < 0:
        raise _native_failure(what)
    calls = _embedding_calls()
    try:
        return ctypes.string_at(out, size)
    finally:
        if calls is not None and out:
            calls.free(ctypes.cast(out, ctypes.c_void_p))


class BmffEmbedding:
    """One signing of an MP4/MOV/M4V whose bytes the caller writes itself
    (see :mod:`provenance.credentials.one_pass`), as a context manager:

    1. :attr:`placeholder` — the composed C2PA ``uuid`` box to reserve room
       for (it does not count the Merkle leaves; the caller adds room);
    2. :meth:`hash_media` — each ``mdat``'s bytes from its header on, in
       order, as they are copied (fixed leaves of *leaf_kb* KiB);
    3. :meth:`hash_structure` — c2pa-rs hashes the written file but for the
       manifest box and the media past each ``mdat``'s 16th byte;
    4. :meth:`sign` — the signed composed box (time-stamped with the
       signer's ``tsa_url``), checked as ``verify_after_sign`` does in the
       general path: the COSE signature and the store's structure.

    Same settings, definition, resources and error translation as
    :func:`sign_stream`. The Builder is reserved for the whole signing;
    :meth:`hash_media` may run on another thread as long as calls do not
    overlap.
    """

    def __init__(
        self,
        definition: Mapping[str, Any],
        *,
        signer: Signer,
        mime_type: str,
        resources: Mapping[str, bytes] | None = None,
        leaf_kb: int = MERKLE_LEAF_KB,
    ) -> None:
        self._definition = _with_certificate_status(definition, signer)
        self._mime_type = mime_type
        self._resources = resources
        self._leaf_kb = leaf_kb
        self._callback = _Callback(signer)
        self._stack = contextlib.ExitStack()
        self._handle: Any = None
        self.placeholder = b""

    @property
    def leaf_bytes(self) -> int:
        return self._leaf_kb * 1024

    def __enter__(self) -> BmffEmbedding:
        calls = _embedding_calls()
        if calls is None:  # pragma: no cover - callers check embedding_available()
            raise CredentialError("this c2pa library cannot sign in one pass", hint="install c2pa-python 0.38")
        settings = _settings(*_sign_settings(None, merkle=True))
        try:
            context = self._stack.enter_context(
                c2pa.Context(settings=c2pa.Settings.from_dict(settings), signer=self._callback.c2pa_signer())
            )
            builder = self._stack.enter_context(c2pa.Builder(dict(self._definition), context=context))
            _prepare(builder, resources=self._resources, parent=None, intent=None)
            self._stack.enter_context(builder._exclusive_native_call())
            self._handle = builder._handle
            if calls.set_fixed_size_merkle(self._handle, self._leaf_kb) != 0:
                raise _native_failure("setting the Merkle leaf size failed")
            self.placeholder = _take_bytes(calls.placeholder, self._handle, self._mime_type, "the placeholder failed")
        except c2pa.C2paError as exc:
            self._stack.close()
            raise self._callback.failure(exc) from None
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._handle = None
        self._stack.close()

    def hash_media(self, index: int, buf: bytearray, length: int, *, large: bool) -> None:
        """Feed buf[:length], the next bytes of the *index*-th ``mdat`` (its
        payload, from the first byte after the header), to the Merkle tree.
        *large* when that ``mdat`` has a 64-bit size. The GIL is released
        while c2pa-rs hashes."""
        calls = _embedding_calls()
        assert calls is not None and self._handle is not None
        data = ctypes.c_char.from_buffer(buf)
        if calls.hash_mdat_bytes(self._handle, index, ctypes.addressof(data), length, large) != 0:
            raise translate(_native_failure("hashing the media failed"))  # read on this thread: errors are per thread

    def hash_structure(self, written: BinaryIO) -> None:
        """Let c2pa-rs hash the file *written* (all of it, placeholder in
        place) but for what the Merkle leaves and the manifest box cover."""
        calls = _embedding_calls()
        assert calls is not None and self._handle is not None
        try:
            with c2pa.c2pa.Stream(written) as stream:
                if calls.update_hash_from_stream(self._handle, self._mime_type.encode(), stream._stream) != 0:
                    raise _native_failure("hashing the clip failed")
        except c2pa.C2paError as exc:
            raise translate(exc) from None

    def sign(self) -> bytes:
        """The signed, composed C2PA ``uuid`` box."""
        calls = _embedding_calls()
        assert calls is not None and self._handle is not None
        try:
            return _take_bytes(calls.sign_embeddable, self._handle, self._mime_type, "signing failed")
        except c2pa.C2paError as exc:
            raise self._callback.failure(exc) from None


def _detail(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(": ", 1)[1] if ": " in text else text


def _is_signature_failure(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(
        words in text
        for words in (
            "cose signature invalid",
            "invalid signature value",
            "signature does not match",
            "signature is invalid",
        )
    )


def _is_time_stamp_failure(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("http resolver", "time stamp", "timestamp", "time-stamp", "nonce"))
