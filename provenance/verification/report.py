"""Verification results: frozen dataclasses with a stable JSON form.

The dict produced by :meth:`VerificationReport.to_dict` is the documented
contract of ``provenance verify --json`` (see docs/reference/json.md and docs/schema/verify.schema.json).
Fields are only ever added, never renamed or removed, within a schema
version.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from provenance.credentials.model import Action, Status, StatusKind, Thumbnail, VerifiedIdentity
from provenance.errors import ExitCode

__all__ = [
    "SCHEMA",
    "Action",
    "IdentityReport",
    "IdentityStatus",
    "Ingredient",
    "Recovery",
    "RecoveryCandidate",
    "SignerIdentity",
    "Status",
    "StatusKind",
    "Thumbnail",
    "TimeSource",
    "TimeStampInfo",
    "VerificationReport",
    "Verdict",
    "VerifiedIdentity",
]

SCHEMA = "provenance.verify/1"


class Verdict(str, enum.Enum):
    """The outcome of verifying a clip; ``severity`` orders them, worst highest."""

    VERIFIED = "verified"
    UNTRUSTED = "untrusted"
    TAMPERED = "tampered"
    INVALID = "invalid"
    NO_CREDENTIALS = "no_credentials"
    ERROR = "error"
    WRONG_SIGNER = "wrong_signer"  # verified, but not what the caller's policy expects
    # no valid credentials in the file, but its content matches a signed,
    # trusted original in a repository: matched by content, not by bytes
    RECOVERED = "recovered"

    @property
    def exit_code(self) -> ExitCode:
        from provenance.verification.rules import EXIT_CODES

        return EXIT_CODES[self]

    @property
    def severity(self) -> int:
        """Higher is worse; used to pick the worst verdict of a batch."""
        from provenance.verification.rules import SEVERITY

        return SEVERITY[self]


@dataclass(frozen=True)
class SignerIdentity:
    """Who signed a manifest, read from the claim-signing certificate."""

    common_name: str | None
    organization: str | None
    issuer: str | None
    trusted_by: str | None = None
    email: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    # every subject / issuer attribute, in certificate order: (("C", "US"), ("CN", "Jane Doe"), …)
    subject_attributes: tuple[tuple[str, str], ...] = ()
    issuer_attributes: tuple[tuple[str, str], ...] = ()
    emails: tuple[str, ...] = ()  # every e-mail SAN (and subject emailAddress)

    def subject_values(self, key: str) -> list[str]:
        """Values of subject attribute *key* ("CN", "O", "OU", …)."""
        return [v for k, v in self.subject_attributes if k == key]

    def issuer_values(self, key: str) -> list[str]:
        return [v for k, v in self.issuer_attributes if k == key]

    def display(self) -> str:
        name = self.common_name or "unknown signer"
        return f"{name} ({self.organization})" if self.organization and self.organization != name else name

    def to_dict(self) -> dict[str, Any]:
        return {
            "common_name": self.common_name,
            "organization": self.organization,
            "issuer": self.issuer,
            "trusted_by": self.trusted_by,
            "email": self.email,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "subject": _attribute_dict(self.subject_attributes),
            "issuer_name": _attribute_dict(self.issuer_attributes),
            "emails": list(self.emails),
        }


def _attribute_dict(pairs: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


class TimeSource(str, enum.Enum):
    """Where ``signed_at`` comes from."""

    TRUSTED_TIMESTAMP = "trusted_timestamp"  # an RFC 3161 time-stamp from a trusted TSA
    UNTRUSTED_TIMESTAMP = "untrusted_timestamp"  # a time-stamp from a TSA no tsa source vouches for
    SIGNER_CLOCK = "signer_clock"  # only the signer's own clock (the c2pa.published time)


@dataclass(frozen=True)
class TimeStampInfo:
    """The RFC 3161 time-stamp on a claim signature."""

    time: str
    authority: str  # the TSA, e.g. "DigiCert Timestamp 2023"
    trusted: bool
    trusted_by: str | None = None  # the tsa trust source that vouched for the TSA

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "authority": self.authority, "trusted": self.trusted, "trusted_by": self.trusted_by}


@dataclass(frozen=True)
class Ingredient:
    """A node of the provenance chain: an ingredient and, when it carried
    credentials, its own manifest's verdict and ingredients."""

    title: str | None
    relationship: str | None
    verdict: Verdict
    signer: SignerIdentity | None = None
    manifest_id: str | None = None
    signed_at: str | None = None
    actions: tuple[Action, ...] = ()
    digital_source_type: str | None = None
    status: tuple[Status, ...] = ()
    ingredients: tuple[Ingredient, ...] = ()
    warnings: tuple[Status, ...] = ()  # failures that did not decide the verdict (see rules.warnings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "relationship": self.relationship,
            "verdict": self.verdict.value,
            "signer": self.signer.to_dict() if self.signer else None,
            "manifest_id": self.manifest_id,
            "signed_at": self.signed_at,
            "actions": [a.to_dict() for a in self.actions],
            "digital_source_type": self.digital_source_type,
            "status": [s.to_dict() for s in self.status],
            "ingredients": [i.to_dict() for i in self.ingredients],
            "warnings": [s.to_dict() for s in self.warnings],
        }


# --- CAWG identity assertions (issue 10, part 1) -----------------------------


class IdentityStatus(str, enum.Enum):
    """The status of a CAWG identity assertion, apart from the C2PA verdict."""

    TRUSTED = "trusted"  # valid, and its credential is vouched for by a cawg trust source
    UNTRUSTED = "untrusted"  # valid, but nobody this verifier trusts for identities vouches for it
    BROKEN = "broken"  # its signature, its credential or what it covers does not check out


@dataclass(frozen=True)
class IdentityReport:
    """A CAWG identity assertion (``cawg.identity``) of the active manifest:
    who it names, with which credential, and whether that is trusted. It
    never changes the C2PA verdict."""

    label: str
    status: IdentityStatus
    sig_type: str | None  # cawg.x509.cose, cawg.identity_claims_aggregation, …
    name: str | None  # who it names: the credential's CN (X.509), or the first verified identity's name
    credential: SignerIdentity | None = None  # the X.509 credential that signed it
    issuer: str | None = None  # the credential issuer (identity-claims-aggregation form: a DID)
    verified_identities: tuple[VerifiedIdentity, ...] = ()
    covers: tuple[str, ...] = ()  # labels of the assertions it signs over
    roles: tuple[str, ...] = ()
    explanation: str = ""  # why this status, in a sentence
    problems: tuple[Status, ...] = ()  # the failure codes behind untrusted or broken

    @property
    def trusted_by(self) -> str | None:
        return self.credential.trusted_by if self.credential else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "status": self.status.value,
            "sig_type": self.sig_type,
            "name": self.name,
            "credential": self.credential.to_dict() if self.credential else None,
            "issuer": self.issuer,
            "verified_identities": [v.to_dict() for v in self.verified_identities],
            "covers": list(self.covers),
            "roles": list(self.roles),
            "explanation": self.explanation,
            "problems": [s.to_dict() for s in self.problems],
        }


@dataclass(frozen=True)
class RecoveryCandidate:
    """A signed original whose content the file matches, as the repository
    answered, with the verdict its manifest store gets on its own."""

    manifest_id: str
    score: float  # 0..1: how well the content matches
    start: float  # the span of the original (seconds) this file covers
    end: float
    verdict: Verdict  # of the original's manifest store, judged without the original's bytes
    accepted: bool  # shown as the recovered original (valid, trusted, meets the policy, content confirmed)
    signer: SignerIdentity | None = None
    signed_at: str | None = None
    title: str | None = None
    chain_summary: str | None = None
    why_not: str | None = None  # when not accepted: why
    # what confirmed the content: "signed soft binding" (the original's own
    # c2pa.soft-binding assertion) or "repository fingerprint" (a local
    # repository's, for an original that signed none)
    content_basis: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest_id": self.manifest_id,
            "score": round(self.score, 4),
            "matched_span": {"start": round(self.start, 3), "end": round(self.end, 3)},
            "verdict": self.verdict.value,
            "accepted": self.accepted,
            "signer": self.signer.to_dict() if self.signer else None,
            "signed_at": self.signed_at,
            "title": self.title,
            "chain_summary": self.chain_summary,
            "why_not": self.why_not,
            "content_basis": self.content_basis,
        }


@dataclass(frozen=True)
class Recovery:
    """What a repository lookup found for a file without valid credentials."""

    repository: str  # where it looked (a path or URL, no password)
    file_verdict: Verdict  # the file's own verdict before the lookup (no_credentials or tampered)
    candidates: tuple[RecoveryCandidate, ...] = ()  # best first
    note: str | None = None  # why nothing was looked up or found

    @property
    def accepted(self) -> RecoveryCandidate | None:
        return next((c for c in self.candidates if c.accepted), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "file_verdict": self.file_verdict.value,
            "candidates": [c.to_dict() for c in self.candidates],
            "note": self.note,
        }


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of verifying one file.

    >>> report = verify(Path("clip.mp4"))  # doctest: +SKIP
    >>> report.verdict is Verdict.VERIFIED, report.signer.common_name  # doctest: +SKIP
    """

    file: str
    verdict: Verdict
    signer: SignerIdentity | None = None
    signed_at: str | None = None
    timestamped: bool = False
    generator: str | None = None
    title: str | None = None
    manifest_id: str | None = None
    actions: tuple[Action, ...] = ()
    digital_source_type: str | None = None
    ai_generated: bool = False
    ingredients: tuple[Ingredient, ...] = ()
    status: tuple[Status, ...] = ()
    credentials_source: str | None = None  # "embedded" or "sidecar"
    notes: tuple[str, ...] = ()
    error: str | None = None
    sidecar: str | None = None  # path of the sidecar manifest used, if any
    chain_summary: str | None = None  # one line over the whole ingredient chain
    chain_verdict: Verdict | None = None  # worst verdict among the ingredients
    time_source: TimeSource | None = None
    timestamp: TimeStampInfo | None = None
    policy_failures: tuple[str, ...] = ()  # why the caller's identity policy was not met
    # which kinds of expectation were not met: "signer", "organization", "issuer", "timestamp"
    policy_unmet: tuple[str, ...] = ()
    # failures that did not decide the verdict: untrusted time-stamps, CAWG
    # identity problems, status codes provenance does not know
    warnings: tuple[Status, ...] = ()
    error_reason: str | None = None  # for verdict error: the stable reason key (see provenance.errors)
    recovery: Recovery | None = None  # what a repository lookup (verify --lookup) found
    # CAWG identity assertions of the active manifest, each with its own status
    identities: tuple[IdentityReport, ...] = ()
    # which credential met each --expect-signer/--expect-org expectation:
    # (("signer", "c2pa_signer"), ("organization", "cawg_identity"))
    policy_matched: tuple[tuple[str, str], ...] = ()
    # the library's hint inside ``error``, so a front end can put its own in its place
    error_hint: str | None = field(default=None, repr=False, compare=False)
    # Kept out of the default JSON (it is large); see to_dict(thumbnail=True).
    thumbnail: Thumbnail | None = field(default=None, repr=False, compare=False)

    @property
    def exit_code(self) -> ExitCode:
        return self.verdict.exit_code

    @property
    def failures(self) -> tuple[Status, ...]:
        return tuple(s for s in self.status if s.kind is StatusKind.FAILURE)

    def to_dict(self, *, thumbnail: bool = False) -> dict[str, Any]:
        """The JSON contract. With *thumbnail*, a ``thumbnail`` field is added
        (``{"mime_type", "data_base64"}`` or ``null``)."""
        out = {
            "schema": SCHEMA,
            "file": self.file,
            "verdict": self.verdict.value,
            "signer": self.signer.to_dict() if self.signer else None,
            "signed_at": self.signed_at,
            "timestamped": self.timestamped,
            "generator": self.generator,
            "title": self.title,
            "manifest_id": self.manifest_id,
            "actions": [a.to_dict() for a in self.actions],
            "digital_source_type": self.digital_source_type,
            "ai_generated": self.ai_generated,
            "ingredients": [i.to_dict() for i in self.ingredients],
            "status": [s.to_dict() for s in self.status],
            "credentials_source": self.credentials_source,
            "notes": list(self.notes),
            "error": self.error,
            "sidecar": self.sidecar,
            "chain_summary": self.chain_summary,
            "chain_verdict": self.chain_verdict.value if self.chain_verdict else None,
            "time_source": self.time_source.value if self.time_source else None,
            "timestamp": self.timestamp.to_dict() if self.timestamp else None,
            "policy_failures": list(self.policy_failures),
            "policy_unmet": list(self.policy_unmet),
            "warnings": [s.to_dict() for s in self.warnings],
            "error_reason": self.error_reason,
            "recovery": self.recovery.to_dict() if self.recovery else None,
            "identities": [i.to_dict() for i in self.identities],
            "policy_matched": dict(self.policy_matched),
        }
        if thumbnail:
            out["thumbnail"] = self.thumbnail.to_dict() if self.thumbnail else None
        return out
