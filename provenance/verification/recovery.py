"""Recover a clip's provenance by its content (``verify --lookup``).

A platform that re-encodes a signed clip strips its credentials with its
bytes. When a file has no credentials, or tampered ones, the lookup computes
its content fingerprint (:mod:`provenance.media.fingerprint`), asks a
repository which signed originals it matches (a local repository,
:mod:`provenance.repository`, or a C2PA Soft Binding Resolution API at a
URL), and judges each answer itself; the repository is never believed:

1. the original's manifest store is validated on its own
   (:func:`provenance.credentials.bridge.read_detached_store`) and judged by
   :func:`provenance.verification.rules.judge_detached`: signature, trust,
   hashed URIs; only the hard binding is left out (its bytes are not here);
2. the content match is confirmed against the soft binding the original's
   signer signed (``c2pa.soft-binding``, :mod:`provenance.media.soft_binding`);
   only a local repository without one may vouch with its own fingerprint;
3. the caller's identity policy applies to the original's signer.

The file's verdict becomes ``recovered`` when the best candidate passes all
three (:func:`provenance.verification.rules.recovered`); every candidate is
listed in ``report.recovery`` either way.

>>> report = verify("reupload.mp4", trust=store, lookup=LocalSource.open(None))  # doctest: +SKIP
>>> report.verdict, report.recovery.accepted.signer.common_name  # doctest: +SKIP
(<Verdict.RECOVERED: 'recovered'>, 'Jane Doe')
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.errors import InputError, ProvenanceError, RepositoryError
from provenance.verification import rules
from provenance.verification.report import Recovery, RecoveryCandidate, Verdict, VerificationReport

if TYPE_CHECKING:
    from provenance.media.fingerprint import Fingerprint
    from provenance.repository import Repository
    from provenance.trust.store import TrustStore
    from provenance.verification.policy import Policy

MAX_CANDIDATES = 5  # judged, best first
MAX_STORE_BYTES = 32 << 20  # a manifest store from a resolution service
TIMEOUT = 30.0  # seconds, for each request to a resolution service


@dataclass(frozen=True)
class Found:
    """A repository's answer: a manifest and how (it says) the content matches."""

    manifest_id: str
    score: float
    start: float
    end: float


class MatchSource(ABC):
    """Where a lookup asks: a repository of signed originals."""

    #: a path or URL, without a password: what the report names
    location: str
    #: whether its own fingerprint match counts as evidence of the content
    #: (a local repository the operator keeps) when the original signed no
    #: soft binding; a remote service's never does
    vouches_for_content: bool = False

    @abstractmethod
    def lookup(self, query: Fingerprint) -> list[Found]:
        """The originals *query* matches, best first."""

    @abstractmethod
    def store(self, manifest_id: str) -> bytes | None:
        """The manifest store registered under *manifest_id*."""

    def close(self) -> None:  # noqa: B027 - a remote service holds nothing open
        """Release what the source holds (a database connection)."""


class LocalSource(MatchSource):
    """A repository opened in this process (SQLite file or PostgreSQL URL)."""

    vouches_for_content = True

    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self.location = repository.location

    @classmethod
    def open(cls, url_or_path: str | None) -> LocalSource:
        from provenance.repository import open_repository

        return cls(open_repository(url_or_path))

    def lookup(self, query: Fingerprint) -> list[Found]:
        return [Found(c.manifest_id, c.score, c.start, c.end) for c in self.repository.lookup(query)]

    def store(self, manifest_id: str) -> bytes | None:
        stored = self.repository.manifest(manifest_id)
        return stored.store if stored is not None else None

    def close(self) -> None:
        self.repository.close()


class ResolutionClient(MatchSource):
    """A C2PA Soft Binding Resolution API (``provenance serve --repo``, or
    another implementation that knows provenance's fingerprint algorithm)."""

    def __init__(self, url: str) -> None:
        self.base = url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base)
        self.location = urllib.parse.urlunsplit(parts._replace(netloc=parts.hostname or ""))  # no credentials

    def _get(self, path: str, *, data: bytes | None = None, max_bytes: int = 1 << 20) -> bytes:
        from provenance.trust.download import download

        return download(
            self.base + path,
            data=data,
            content_type="application/json" if data else None,
            timeout=TIMEOUT,
            max_bytes=max_bytes,
            error=RepositoryError,
        )

    def lookup(self, query: Fingerprint) -> list[Found]:
        body = json.dumps({"alg": query.algorithm, "value": base64.b64encode(query.to_bytes()).decode()})
        raw = self._get(f"/matches/byBinding?maxResults={MAX_CANDIDATES}", data=body.encode())
        try:
            matches = json.loads(raw)["matches"]
            return [
                Found(
                    str(m["manifestId"]),
                    float(m.get("score", 0.0)),
                    float((m.get("matchedSpan") or {}).get("start", 0.0)),
                    float((m.get("matchedSpan") or {}).get("end", 0.0)),
                )
                for m in matches
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise RepositoryError(
                f"{self.location}: not a soft binding resolution answer ({type(exc).__name__})",
                hint="check the URL: it must be a Soft Binding Resolution API",
            ) from None

    def store(self, manifest_id: str) -> bytes | None:
        return self._get("/manifests/" + urllib.parse.quote(manifest_id, safe=""), max_bytes=MAX_STORE_BYTES)


def open_source(where: str | None) -> MatchSource:
    """An http(s) URL is a resolution service; anything else (or ``None``,
    the default repository) a local repository."""
    if where is not None and urllib.parse.urlsplit(where).scheme.lower() in ("http", "https"):
        return ResolutionClient(where)
    return LocalSource.open(where)


def recover(
    path: Path, report: VerificationReport, *, source: MatchSource, trust: TrustStore, policy: Policy | None = None
) -> VerificationReport:
    """*report* with what *source* knows of *path*'s content: verdict
    ``recovered`` when a signed original passes every check, and the
    candidates in ``report.recovery`` either way. A file whose own verdict
    is not ``no_credentials`` or ``tampered`` is returned as it is."""
    if report.verdict not in rules.RECOVERABLE:
        return report
    from provenance.media import fingerprint

    try:
        # one decode: the dense query, and the per-second frames whose ISCC
        # codes confirm a candidate against its signed soft binding
        sampled = fingerprint.compute_query(path, threads=fingerprint.waiting_threads())
    except InputError as exc:  # too short or uniform to fingerprint, or not decodable video
        note = f"the repository was not asked: {exc.message.removeprefix(f'{path}: ')}"
        return replace(report, recovery=Recovery(source.location, report.verdict, note=note))
    found = source.lookup(sampled.fingerprint)[:MAX_CANDIDATES]
    if not found:
        recovery = Recovery(
            source.location, report.verdict, note="the repository knows no signed clip with this content"
        )
        return replace(report, recovery=recovery, notes=(*report.notes, f"{source.location} was asked: no match"))
    codes = sampled.image_codes()
    candidates = tuple(_judge(path, f, source=source, trust=trust, policy=policy, codes=codes) for f in found)
    candidates = tuple(sorted(candidates, key=lambda c: (not c.accepted, -c.score)))
    recovery = Recovery(source.location, report.verdict, candidates)
    best = recovery.accepted
    if best is None:
        return replace(report, recovery=recovery, notes=(*report.notes, _none_accepted(candidates)))
    return replace(
        report,
        verdict=Verdict.RECOVERED,
        recovery=recovery,
        notes=(*report.notes, _recovered_note(best, report.verdict)),
    )


def _judge(
    path: Path,
    found: Found,
    *,
    source: MatchSource,
    trust: TrustStore,
    policy: Policy | None,
    codes: list[tuple[float, bytes]],
) -> RecoveryCandidate:
    from provenance.credentials import bridge
    from provenance.media import soft_binding
    from provenance.verification.verifier import detached_report

    def rejected(why: str, verdict: Verdict = Verdict.INVALID) -> RecoveryCandidate:
        return RecoveryCandidate(found.manifest_id, found.score, found.start, found.end, verdict, False, why_not=why)

    try:
        data = source.store(found.manifest_id)
        if not data:
            return rejected("the repository has no manifest store for it")
        model = bridge.read_detached_store(data, trust=trust, origin=f"{source.location}: {found.manifest_id}")
    except RepositoryError:
        raise
    except ProvenanceError as exc:
        return rejected(exc.message)
    if model.active is None or model.active.label != found.manifest_id:
        return rejected("the repository answered with another manifest than the one it matched")
    original = detached_report(Path(model.active.title or found.manifest_id), model, trust)
    if policy is not None:
        original = rules.apply_policy(original, policy)
    soft = model.active.assertion("c2pa.soft-binding")
    signed = soft_binding.signed_codes(soft.data if soft else None)
    if signed:
        content_ok = soft_binding.confirm(codes, signed).confirmed
        basis = "signed soft binding" if content_ok else None
    else:  # no signed soft binding: only the operator's own repository may vouch
        content_ok = source.vouches_for_content and found.score > 0
        basis = "repository fingerprint" if content_ok else None
    verdict = original.verdict if original.verdict is not Verdict.WRONG_SIGNER else Verdict.VERIFIED
    why = rules.recovered(verdict, content_confirmed=content_ok, policy_failures=original.policy_failures)
    return RecoveryCandidate(
        manifest_id=found.manifest_id,
        score=found.score,
        start=found.start,
        end=found.end,
        verdict=verdict,
        accepted=why is None,
        signer=original.signer,
        signed_at=original.signed_at,
        title=original.title,
        chain_summary=original.chain_summary,
        why_not=why,
        content_basis=basis,
    )


def _recovered_note(best: RecoveryCandidate, own: Verdict) -> str:
    state = "no credentials in this file" if own is Verdict.NO_CREDENTIALS else "this file's credentials are tampered"
    who = best.signer.display() if best.signer else "an unknown signer"
    vouched = f", {best.signer.trusted_by}" if best.signer and best.signer.trusted_by else ""
    when = f" on {best.signed_at[:10]}" if best.signed_at else ""
    return (
        f"{state}; its content matches a clip signed by {who} (trusted{vouched}){when}, "
        f"seconds {best.start:.0f}-{best.end:.0f} of it (match {best.score:.0%}); the match is by content, "
        "not by bytes: this copy may be re-encoded or cut"
    )


def _none_accepted(candidates: tuple[RecoveryCandidate, ...]) -> str:
    first = candidates[0]
    return (
        f"the repository matched {len(candidates)} signed clip(s), none shown as the original: "
        f"{first.manifest_id} {first.why_not}"
    )
