"""Just enough JUMBF and COSE to read what c2pa-python does not expose: the
certificate chain (x5chain) and the time-stamp header of each manifest's
claim signature. Used for display and for naming which trust source
vouched; c2pa-rs remains the judge of validity."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import cbor2
from cryptography import x509

import provenance._pickle  # noqa: F401 - registers the certificate reducer, so what holds certificates pickles
from provenance.media.bmff import BoxReader

_X5CHAIN = 33


@dataclass(frozen=True)
class SignatureHeaders:
    chain: tuple[x509.Certificate, ...]
    timestamped: bool
    # raw RFC 3161 tokens from sigTst2 (a TimeStampToken) or sigTst (v1, a
    # TimeStampResp); parsed by provenance.credentials.timestamp
    timestamp_tokens: tuple[bytes, ...] = ()


def _boxes(buf: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload_start, end)`` of the boxes in buf[start:end]. JUMBF
    boxes have BMFF headers; the walk is lenient (it ends at the first
    broken box): this module reads for display, c2pa-rs judges the store."""
    for box in BoxReader.of_buffer(buf, lenient=True).boxes(start, end):
        yield box.kind, box.payload_start, box.end


def _label(buf: bytes, start: int, end: int) -> str | None:
    """Label of the ``jumd`` description box that opens a superbox."""
    for kind, s, e in _boxes(buf, start, end):
        if kind != b"jumd":
            return None
        toggles = buf[s + 16] if s + 16 < e else 0
        if not toggles & 0x02:
            return None
        raw = buf[s + 17 : e]
        return raw.split(b"\x00", 1)[0].decode("utf-8", "replace")
    return None


def _children(buf: bytes, start: int, end: int) -> Iterator[tuple[str | None, int, int]]:
    for kind, s, e in _boxes(buf, start, end):
        if kind == b"jumb":
            yield _label(buf, s, e), s, e


def signature_headers(store: bytes) -> dict[str, SignatureHeaders]:
    """Map each manifest label in a JUMBF manifest store to its signature's
    certificate chain and whether it carries an RFC 3161 time-stamp."""
    result: dict[str, SignatureHeaders] = {}
    for _, s, e in _children(store, 0, len(store)):  # the "c2pa" store superbox
        for manifest_label, ms, me in _children(store, s, e):
            if manifest_label is None:
                continue
            for label, ss, se in _children(store, ms, me):
                if label != "c2pa.signature":
                    continue
                for kind, cs, ce in _boxes(store, ss, se):
                    if kind == b"cbor":
                        headers = _parse_cose(store[cs:ce])
                        if headers is not None:
                            result[manifest_label] = headers
    return result


def _parse_cose(data: bytes) -> SignatureHeaders | None:
    try:
        obj = cbor2.loads(data)
        if isinstance(obj, cbor2.CBORTag):
            obj = obj.value
        protected = cbor2.loads(obj[0]) if obj[0] else {}
        unprotected = obj[1] or {}
    except (cbor2.CBORDecodeError, IndexError, TypeError, ValueError):
        return None
    raw = None
    for header in (protected, unprotected):
        raw = raw or header.get(_X5CHAIN) or header.get("x5chain")  # older writers used the text label
    ders = [raw] if isinstance(raw, bytes) else list(raw or [])
    chain = []
    for der in ders:
        try:
            chain.append(x509.load_der_x509_certificate(der))
        except (ValueError, TypeError, x509.InvalidVersion):  # a damaged certificate ends the chain
            break
    keys = set(protected) | set(unprotected)
    timestamped = bool(keys & {"sigTst", "sigTst2"})
    return SignatureHeaders(tuple(chain), timestamped, _tst_tokens(protected, unprotected))


def _tst_tokens(*headers: object) -> tuple[bytes, ...]:
    tokens: list[bytes] = []
    for header in headers:
        if not isinstance(header, Mapping):
            continue
        for label in ("sigTst2", "sigTst"):
            container = header.get(label)
            items = container.get("tstTokens") if isinstance(container, Mapping) else None
            for item in items if isinstance(items, (list, tuple)) else []:
                val = item.get("val") if isinstance(item, Mapping) else None
                if isinstance(val, bytes):
                    tokens.append(val)
    return tuple(tokens)


def manifest_labels(store: bytes) -> list[str]:
    """Labels of the manifests in a JUMBF store, oldest first (the last one
    is the active manifest)."""
    labels: list[str] = []
    for _, s, e in _children(store, 0, len(store)):
        labels.extend(label for label, _, _ in _children(store, s, e) if label)
    return labels


# --- CAWG identity assertions (issue 10, part 1) --------------------------------


@dataclass(frozen=True)
class IdentitySignature:
    """What the COSE_Sign1 of a ``cawg.identity`` assertion carries: the
    X.509 credential's chain (the ``cawg.x509.cose`` form) and the payload
    (the verifiable credential of the identity-claims-aggregation form)."""

    chain: tuple[x509.Certificate, ...]
    payload: bytes | None = None


def identity_signatures(store: bytes) -> dict[str, dict[str, IdentitySignature]]:
    """Manifest label -> ``cawg.identity`` assertion label -> its signature,
    read from the JUMBF manifest store (c2pa-rs's JSON names the credential
    but not its chain)."""
    result: dict[str, dict[str, IdentitySignature]] = {}
    for _, s, e in _children(store, 0, len(store)):
        for manifest_label, ms, me in _children(store, s, e):
            if manifest_label is None:
                continue
            for label, as_, ae in _children(store, ms, me):
                if label != "c2pa.assertions":
                    continue
                for assertion, bs, be in _children(store, as_, ae):
                    if assertion is None or not (
                        assertion == "cawg.identity" or assertion.startswith("cawg.identity__")
                    ):
                        continue
                    for kind, cs, ce in _boxes(store, bs, be):
                        if kind == b"cbor" and (found := _identity_signature(store[cs:ce])) is not None:
                            result.setdefault(manifest_label, {})[assertion] = found
    return result


def _identity_signature(data: bytes) -> IdentitySignature | None:
    try:
        assertion = cbor2.loads(data)
        signature = assertion.get("signature") if isinstance(assertion, Mapping) else None
        if not isinstance(signature, bytes):
            return None
        sign1 = cbor2.loads(signature)
        if isinstance(sign1, cbor2.CBORTag):
            sign1 = sign1.value
        payload = sign1[2] if isinstance(sign1[2], bytes) else None
    except (cbor2.CBORDecodeError, IndexError, TypeError, ValueError, KeyError):
        return None
    headers = _parse_cose(signature)
    return IdentitySignature(headers.chain if headers else (), payload)
