"""What the repository stores and answers, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SignerInfo:
    """Who signed a registered manifest, as shown to a person (display
    only: a client validates the returned manifest store itself)."""

    name: str | None = None
    organization: str | None = None
    issuer: str | None = None
    signed_at: str | None = None  # ISO 8601

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "organization": self.organization,
            "issuer": self.issuer,
            "signed_at": self.signed_at,
        }


@dataclass(frozen=True)
class Registration:
    """The outcome of registering one manifest store."""

    manifest_id: str
    created: bool  # False: it was registered already (registering is idempotent)
    fingerprinted: bool  # False: stored without a fingerprint (see ``reason``)
    hashes: int = 0  # per-second hashes
    reason: str | None = None  # why there is no fingerprint

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest_id": self.manifest_id,
            "created": self.created,
            "fingerprinted": self.fingerprinted,
            "hashes": self.hashes,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Candidate:
    """A registered clip whose content matches a query, with the matched
    time span in the registered original (seconds)."""

    manifest_id: str
    score: float  # 0..1, the fingerprint's compare() score
    start: float
    end: float
    signer: SignerInfo
    title: str | None = None

    @property
    def similarity(self) -> int:
        """The score as the Soft Binding Resolution API's 0-100 integer."""
        return max(0, min(100, round(self.score * 100)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest_id": self.manifest_id,
            "score": round(self.score, 4),
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "title": self.title,
            "signer": self.signer.to_dict(),
        }


@dataclass(frozen=True)
class StoredManifest:
    """One registered manifest store and what was recorded with it."""

    manifest_id: str
    store: bytes
    signer: SignerInfo
    title: str | None
    algorithm: str | None
    registered_at: str


@dataclass(frozen=True)
class RepositoryStats:
    location: str  # a path, or a URL without its password
    backend: str  # "sqlite" or "postgresql"
    manifests: int
    fingerprinted: int
    hashes: int  # indexed hashes (a per-second hash, and its zoom hash where there is one)
    bytes_stored: int
    algorithms: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "backend": self.backend,
            "manifests": self.manifests,
            "fingerprinted": self.fingerprinted,
            "hashes": self.hashes,
            "bytes_stored": self.bytes_stored,
            "algorithms": list(self.algorithms),
        }
