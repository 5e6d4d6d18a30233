"""Trust: which certificates a verifier accepts, and under which name.

A :class:`TrustStore` is an immutable list of named :class:`TrustSource`\\ s.
c2pa-rs decides whether a signer chains to an anchor; the store names the
source that vouched, for people to read.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from provenance.errors import UsageError


class SourceKind(str, enum.Enum):
    """What the certificates of a :class:`TrustSource` are trusted for."""

    ANCHORS = "anchors"  # root (or intermediate) CAs
    ALLOWED = "allowed"  # pinned end-entity certificates
    TSA = "tsa"  # time-stamping roots


@dataclass(frozen=True)
class TrustSource:
    """A named set of certificates of one kind."""

    name: str
    kind: SourceKind
    certificates: tuple[x509.Certificate, ...]

    @classmethod
    def from_pem_file(cls, path: Path, *, kind: SourceKind, name: str | None = None) -> TrustSource:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise UsageError(f"{path}: trust file not found", hint="check the path") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read trust file ({exc.strerror})", hint="check its permissions") from None
        return cls.from_pem(data, kind=kind, name=name or path.name, origin=str(path))

    @classmethod
    def from_pem(cls, data: bytes, *, kind: SourceKind, name: str, origin: str | None = None) -> TrustSource:
        try:
            certs = tuple(x509.load_pem_x509_certificates(data))
        except ValueError:
            certs = ()
        if not certs:
            raise UsageError(f"{origin or name}: no PEM certificates found", hint="give a PEM file with at least one certificate")
        return cls(name=name, kind=kind, certificates=certs)


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

    def with_source(self, source: TrustSource) -> TrustStore:
        return TrustStore(self.sources + (source,))

    def with_pem_file(self, path: Path, *, kind: SourceKind, name: str | None = None) -> TrustStore:
        return self.with_source(TrustSource.from_pem_file(path, kind=kind, name=name))

    def certificates(self, kind: SourceKind) -> list[x509.Certificate]:
        return [c for s in self.sources if s.kind is kind for c in s.certificates]

    @property
    def empty(self) -> bool:
        return not any(s.kind in (SourceKind.ANCHORS, SourceKind.ALLOWED) for s in self.sources)

    def c2pa_settings(self) -> dict[str, Any]:
        """The ``trust``/``verify`` part of c2pa-rs settings for this store."""
        trust: dict[str, str] = {}
        anchors = self.certificates(SourceKind.ANCHORS)
        allowed = self.certificates(SourceKind.ALLOWED)
        if anchors:
            trust["trust_anchors"] = _pem(anchors)
        if allowed:
            trust["allowed_list"] = _pem(allowed)
        return {"trust": trust, "verify": {"verify_trust": True}}

    def vouching_source(self, chain: Sequence[x509.Certificate]) -> str | None:
        """Name of the source that vouches for *chain* (leaf first): a pinned
        end-entity certificate, or an anchor that is in the chain or issued
        its top certificate. ``None`` when no source does."""
        if not chain:
            return None
        leaf = chain[0]
        for source in self.sources:
            if source.kind is SourceKind.ALLOWED and leaf in source.certificates:
                return f"{source.name} (pinned)"
        for source in self.sources:
            if source.kind is not SourceKind.ANCHORS:
                continue
            for anchor in source.certificates:
                if anchor in chain:
                    return source.name
                for cert in chain:
                    if cert.issuer == anchor.subject and _issued_by(cert, anchor):
                        return source.name
        return None
