"""Trust: which certificates a verifier accepts, and under which name.

A :class:`TrustStore` is an immutable list of named :class:`TrustSource`\\ s.
c2pa-rs decides whether a signer chains to an anchor; the store names the
source that vouched, for people to read.

Kinds of source (the C2PA spec keeps them apart):

- ``anchors``: root (or intermediate) CAs of claim signers;
- ``allowed``: pinned end-entity certificates, as PEM or as SHA-256 hashes;
- ``tsa``: roots of time-stamping authorities (they vouch for signing
  times, never for signers);
- ``ekus``: extra extended key usage OIDs accepted on signer certificates
  (the interim list's ``store.cfg``);
- ``cawg``: root (or intermediate) CAs of CAWG identity credentials (the
  certificates that sign ``cawg.identity`` assertions): they vouch for the
  identity a clip names, never for its C2PA signer.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

import provenance._pickle  # noqa: F401 - registers the certificate reducer, so what holds certificates pickles
from provenance.errors import UsageError
from provenance.trust.lote import looks_like_json, lote_certificates


class SourceKind(str, enum.Enum):
    """What the certificates of a :class:`TrustSource` are trusted for."""

    ANCHORS = "anchors"  # root (or intermediate) CAs
    ALLOWED = "allowed"  # pinned end-entity certificates
    TSA = "tsa"  # time-stamping roots
    EKUS = "ekus"  # extra EKU OIDs accepted on signer certificates
    CAWG = "cawg"  # CAs of CAWG identity credentials (cawg.identity assertions)


SIGNER_KINDS = frozenset({SourceKind.ANCHORS, SourceKind.ALLOWED})

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def fingerprint(cert: x509.Certificate) -> str:
    """Base64 SHA-256 of the certificate's DER: how c2pa-rs and the interim
    list's ``allowed.sha256.txt`` name a pinned certificate."""
    return base64.b64encode(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()).decode()


def _hash_line(line: str) -> str | None:
    """A base64 (44 chars) or hex (64 chars) SHA-256, as base64; else None."""
    if len(line) == 64:
        try:
            return base64.b64encode(bytes.fromhex(line)).decode()
        except ValueError:
            return None
    if len(line) == 44:
        try:
            raw = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            return None
        return line if len(raw) == 32 else None
    return None


def _pem_certificates(data: bytes, origin: str) -> tuple[x509.Certificate, ...]:
    """Every PEM certificate block in *data*; any block that does not parse
    is an error (a half-valid list is never used)."""
    certs = []
    for n, match in enumerate(_PEM_BLOCK.finditer(data), start=1):
        if match.group(1) != b"CERTIFICATE":
            continue
        try:
            certs.append(x509.load_pem_x509_certificate(match.group(0)))
        except ValueError:
            raise UsageError(
                f"{origin}: PEM block {n} is not a valid certificate",
                hint="the list is damaged or not a trust list; get a correct copy",
            ) from None
    return tuple(certs)


@dataclass(frozen=True)
class TrustSource:
    """A named set of certificates (or hashes, or EKU OIDs) of one kind.

    *title* is the name people read ("C2PA trust list"); *name* is the
    short identifier used on the command line.
    """

    name: str
    kind: SourceKind
    certificates: tuple[x509.Certificate, ...]
    fingerprints: tuple[str, ...] = ()  # base64 SHA-256 of pinned certificates (kind allowed)
    ekus: tuple[str, ...] = ()  # dotted OIDs (kind ekus)
    title: str | None = None

    @property
    def display_name(self) -> str:
        return self.title or self.name

    @classmethod
    def from_pem_file(cls, path: Path, *, kind: SourceKind, name: str | None = None) -> TrustSource:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise UsageError(f"{path}: trust file not found", hint="check the path") from None
        except IsADirectoryError:
            raise UsageError(f"{path}: is a directory, not a trust file", hint="give a PEM file") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read trust file ({exc.strerror})", hint="check its permissions") from None
        return cls.from_bytes(data, kind=kind, name=name or path.name, origin=str(path))

    @classmethod
    def from_pem(cls, data: bytes, *, kind: SourceKind, name: str, origin: str | None = None) -> TrustSource:
        return cls.from_bytes(data, kind=kind, name=name, origin=origin)

    @classmethod
    def from_bytes(
        cls, data: bytes, *, kind: SourceKind, name: str, origin: str | None = None, title: str | None = None
    ) -> TrustSource:
        """Parse and validate a trust list of *kind*: PEM (hashes too for
        ``allowed``), or the C2PA's JSON form (:mod:`provenance.trust.lote`).
        Raises :class:`UsageError` when it holds nothing usable or any
        certificate is damaged."""
        where = origin or name
        if kind is SourceKind.EKUS:
            return cls(name=name, kind=kind, certificates=(), ekus=_parse_ekus(data, where), title=title)
        if looks_like_json(data):  # the JSON form the C2PA also publishes its lists in
            return cls(name=name, kind=kind, certificates=lote_certificates(data, where), title=title)
        certs = _pem_certificates(data, where)
        hashes: tuple[str, ...] = ()
        if kind is SourceKind.ALLOWED:
            outside = _PEM_BLOCK.sub(b"", data).decode("utf-8", "replace")
            found = [_hash_line(line.strip()) for line in outside.splitlines()]
            hashes = tuple(h for h in found if h)
        if not certs and not hashes:
            what = "PEM certificates or SHA-256 hashes" if kind is SourceKind.ALLOWED else "PEM certificates"
            hint = "give a PEM file with at least one certificate"
            if kind is SourceKind.ANCHORS and _looks_like_ekus(data):
                hint = "this looks like an EKU list (store.cfg): use --kind ekus"
            elif kind is SourceKind.ANCHORS and any(
                _hash_line(x.strip()) for x in data.decode("utf-8", "replace").splitlines()
            ):
                hint = "this looks like a list of certificate hashes: use --kind allowed"
            raise UsageError(f"{where}: no {what} found", hint=hint)
        return cls(name=name, kind=kind, certificates=certs, fingerprints=hashes, title=title)

    def pins(self, leaf: x509.Certificate) -> bool:
        return self.kind is SourceKind.ALLOWED and (leaf in self.certificates or fingerprint(leaf) in self.fingerprints)

    def issues(self, chain: Sequence[x509.Certificate]) -> bool:
        """True when one of this source's certificates is in *chain* or issued
        one of its certificates."""
        for anchor in self.certificates:
            if anchor in chain:
                return True
            for cert in chain:
                if cert.issuer == anchor.subject and _issued_by(cert, anchor):
                    return True
        return False


def _eku_lines(data: bytes) -> list[str]:
    text = data.decode("utf-8", "replace")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith(("//", "#"))]


def _looks_like_ekus(data: bytes) -> bool:
    lines = _eku_lines(data)
    return bool(lines) and all(_OID.match(line) for line in lines)


def _parse_ekus(data: bytes, where: str) -> tuple[str, ...]:
    lines = _eku_lines(data)
    bad = [line for line in lines if not _OID.match(line)]
    if bad:
        raise UsageError(
            f"{where}: {bad[0][:40]!r} is not an OID",
            hint="an EKU list has one dotted OID per line ('//' comments allowed)",
        )
    if not lines:
        raise UsageError(f"{where}: no EKU OIDs found", hint="an EKU list has one dotted OID per line")
    return tuple(lines)


def _pem(certs: Iterable[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


@dataclass(frozen=True)
class TrustStore:
    """Immutable set of trust sources, reusable across many verifications.

    >>> store = TrustStore().with_pem_file(Path("keys/root-ca.pem"), kind=SourceKind.ANCHORS)  # doctest: +SKIP
    """

    sources: tuple[TrustSource, ...] = field(default_factory=tuple)
    # Ask each signer's OCSP responder during validation (c2pa-rs
    # verify.ocsp_fetch); otherwise the status attached at signing is used.
    ocsp_fetch: bool = False

    def with_source(self, source: TrustSource) -> TrustStore:
        return replace(self, sources=self.sources + (source,))

    def with_sources(self, sources: Iterable[TrustSource]) -> TrustStore:
        return replace(self, sources=self.sources + tuple(sources))

    def online(self) -> TrustStore:
        """This store, with revocation checked online (OCSP) when verifying."""
        return replace(self, ocsp_fetch=True)

    def with_pem_file(self, path: Path, *, kind: SourceKind, name: str | None = None) -> TrustStore:
        return self.with_source(TrustSource.from_pem_file(path, kind=kind, name=name))

    def certificates(self, kind: SourceKind) -> list[x509.Certificate]:
        return [c for s in self.sources if s.kind is kind for c in s.certificates]

    @property
    def empty(self) -> bool:
        return not any(s.kind in SIGNER_KINDS for s in self.sources)

    def c2pa_settings(self) -> dict[str, Any]:
        """The ``trust``/``verify`` part of c2pa-rs settings for this store.

        c2pa-rs 0.91 checks time-stamp authorities against the same anchor
        pool as signers (it only swaps the EKU it requires), so TSA roots go
        into ``trust_anchors`` too; the separation the spec asks for is
        enforced afterwards by :mod:`provenance.verification.verifier`, which only
        accepts a signer vouched for by an anchors/allowed source and a
        time-stamp vouched for by a tsa source.
        """
        trust: dict[str, str] = {}
        anchors = self.certificates(SourceKind.ANCHORS) + self.certificates(SourceKind.TSA)
        allowed = self.certificates(SourceKind.ALLOWED)
        hashes = [h for s in self.sources if s.kind is SourceKind.ALLOWED for h in s.fingerprints]
        ekus = [e for s in self.sources if s.kind is SourceKind.EKUS for e in s.ekus]
        if anchors:
            trust["trust_anchors"] = _pem(dict.fromkeys(anchors))
        if allowed or hashes:
            trust["allowed_list"] = _pem(allowed) + "".join(f"{h}\n" for h in hashes)
        if ekus:
            trust["trust_config"] = "".join(f"{e}\n" for e in dict.fromkeys(ekus))
        settings: dict[str, Any] = {"trust": trust, "verify": {"verify_trust": True, "ocsp_fetch": self.ocsp_fetch}}
        settings["trust"].update(self._cawg_settings())
        return settings

    # --- CAWG identity anchors (issue 10, part 1) ---
    def _cawg_settings(self) -> dict[str, Any]:
        """The CAWG identity anchors as c2pa-rs 0.91.3 takes them: one
        ``trust.anchors`` entry of ``trust_kind`` ``cawg`` per source (its
        ``cawg_trust`` block of other releases is not read by 0.91.3; see
        docs/design/c2pa-rs.md). c2pa-rs checks identities against these
        only, but also lets them vouch for claim signers; the verdict rules
        undo that (rule 11), as for TSA roots."""
        anchors = [
            {"trust_anchors": _pem(s.certificates), "trust_kind": "cawg", "trust_uri": f"provenance:{s.display_name}"}
            for s in self.sources
            if s.kind is SourceKind.CAWG and s.certificates
        ]
        return {"anchors": anchors} if anchors else {}

    def pinned_source(self, leaf: x509.Certificate) -> str | None:
        """Name of the ``allowed`` source that pins *leaf*, if any."""
        for source in self.sources:
            if source.pins(leaf):
                return f"{source.display_name} (pinned)"
        return None

    def vouching_source(
        self, chain: Sequence[x509.Certificate], *, kinds: Iterable[SourceKind] = SIGNER_KINDS
    ) -> str | None:
        """Name of the source that vouches for *chain* (leaf first): a pinned
        end-entity certificate, or an anchor that is in the chain or issued
        one of its certificates. Only sources of *kinds* count: signers are
        vouched for by anchors/allowed sources, time-stamp authorities by
        ``kinds={SourceKind.TSA}``. ``None`` when no source does."""
        if not chain:
            return None
        kinds = frozenset(kinds)
        if SourceKind.ALLOWED in kinds:
            pinned = self.pinned_source(chain[0])
            if pinned:
                return pinned
        for source in self.sources:
            if source.kind in kinds and source.kind is not SourceKind.ALLOWED and source.issues(chain):
                return source.display_name
        return None
