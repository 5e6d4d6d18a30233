"""Identity policies: "is this clip really from X?".

A policy is a small object with ``check(report)``, which returns why the
report does not meet it (or ``None``), and ``verify(report)``, which raises
:class:`PolicyError` instead. Policies compose with :class:`AllOf` and
:class:`AnyOf`; both refuse an empty list, because "all of nothing" would
accept any signer.

Matching is exact: no substrings, no case folding (except for e-mail
addresses, which compare case-insensitively). A policy only speaks about identity:
whether the identity is *vouched for* is the verdict's job, so a clip
signed by an untrusted "Tom Cruise" stays ``untrusted`` even when
``ExpectSigner("Tom Cruise")`` matches its certificate.

>>> from provenance.verification.policy import AllOf, ExpectOrganization, ExpectSigner, RequireTimestamp
>>> policy = AllOf([ExpectOrganization("Example News"), ExpectSigner("jane@example.org"), RequireTimestamp()])
>>> report = verify("clip.mp4", trust=store, policy=policy)  # doctest: +SKIP
>>> report.verdict  # doctest: +SKIP
<Verdict.WRONG_SIGNER: 'wrong_signer'>
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from provenance.errors import ExitCode, ProvenanceError, UsageError
from provenance.verification.report import IdentityStatus, SignerIdentity, VerificationReport


class PolicyError(ProvenanceError):
    """The clip does not meet the caller's identity policy."""

    exit_code = ExitCode.WRONG_SIGNER


class PolicyFailure(str):
    """Why a report fails one expectation: the text, and *expectation*, the
    kind of expectation it is about (``signer``, ``organization``,
    ``issuer`` or ``timestamp``), so a front end can say "not time-stamped"
    rather than "wrong signer" when only the time-stamp is missing."""

    expectation: str

    def __new__(cls, text: str, *, expectation: str) -> PolicyFailure:
        failure = super().__new__(cls, text)
        failure.expectation = expectation
        return failure


class Policy(ABC):
    """One expectation about who signed a clip, or how."""

    #: what kind of expectation this is (see :class:`PolicyFailure`)
    expectation = "signer"

    @abstractmethod
    def check(self, report: VerificationReport) -> str | None:
        """Why *report* fails this policy, or ``None`` when it meets it."""

    @abstractmethod
    def describe(self) -> str:
        """What the policy expects, for people ("signer is 'Jane Doe'")."""

    def failures(self, report: VerificationReport) -> tuple[PolicyFailure, ...]:
        """Every reason *report* fails this policy (empty when it meets it)."""
        reason = self.check(report)
        return () if reason is None else (PolicyFailure(reason, expectation=self.expectation),)

    def matched_by(self, report: VerificationReport) -> tuple[tuple[str, str], ...]:
        """``(expectation, credential)`` for each expectation *report* meets
        through a credential: ``c2pa_signer`` or ``cawg_identity``."""
        return ()

    def verify(self, report: VerificationReport) -> None:
        """Raise :class:`PolicyError` when *report* fails this policy."""
        reason = self.check(report)
        if reason is not None:
            raise PolicyError(f"{report.file}: {reason}", hint="check who really signed it", reason="policy_failed")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"


def _who(signer: SignerIdentity | None) -> str:
    if signer is None:
        return "nobody (no signer certificate)"
    return signer.display()


# --- CAWG identities (issue 10, part 1) ---
#: The credentials an expectation can be met by (``report.policy_matched``).
C2PA_SIGNER = "c2pa_signer"  # the C2PA claim signer's certificate
CAWG_IDENTITY = "cawg_identity"  # a trusted CAWG identity assertion's credential


def trusted_identities(report: VerificationReport) -> list[SignerIdentity]:
    """The credentials of the report's trusted CAWG identity assertions:
    only a trusted identity can meet an expectation (an untrusted one says
    what anybody can write)."""
    return [i.credential for i in report.identities if i.status is IdentityStatus.TRUSTED and i.credential]


def _identity_suffix(report: VerificationReport) -> str:
    if not report.identities:
        return ""
    if trusted_identities(report):
        return ", nor does its trusted CAWG identity"
    return " (its CAWG identity is not trusted, so it cannot meet the expectation)"


def _value(text: str, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"the expected {what} is empty", hint=f"give the exact {what} to expect")
    return text


class ExpectSigner(Policy):
    """The signer certificate's common name (CN), or one of its e-mail
    addresses (SAN rfc822Name or subject emailAddress), is exactly *name*."""

    def __init__(self, name: str) -> None:
        self.name = _value(name, "signer")

    def matches(self, signer: SignerIdentity) -> bool:
        if self.name in signer.subject_values("CN") or self.name == signer.common_name:
            return True
        wanted = self.name.casefold() if "@" in self.name else None
        return wanted is not None and any(
            e.casefold() == wanted for e in signer.emails + ((signer.email,) if signer.email else ())
        )

    def check(self, report: VerificationReport) -> str | None:
        if self.matched_by(report):
            return None
        reason = f"expected signer {self.name!r}, but it was signed by {_who(report.signer)}"
        reason += _identity_suffix(report)
        names = report.signer.subject_values("CN") + list(report.signer.emails) if report.signer else []
        near = next((n for n in names if n.casefold() == self.name.casefold()), None)
        if near is not None:  # "jane doe" for "Jane Doe": say that matching is exact
            reason += f" (matching is exact: the certificate says {near!r})"
        return reason

    def matched_by(self, report: VerificationReport) -> tuple[tuple[str, str], ...]:
        if report.signer is not None and self.matches(report.signer):
            return ((self.expectation, C2PA_SIGNER),)
        if any(self.matches(c) for c in trusted_identities(report)):
            return ((self.expectation, CAWG_IDENTITY),)
        return ()

    def describe(self) -> str:
        return f"signer is {self.name!r}"


class ExpectOrganization(Policy):
    """The signer certificate's organisation (subject O) is exactly *name*."""

    expectation = "organization"

    def __init__(self, name: str) -> None:
        self.name = _value(name, "organisation")

    def matches(self, signer: SignerIdentity) -> bool:
        return self.name in signer.subject_values("O") or self.name == signer.organization

    def matched_by(self, report: VerificationReport) -> tuple[tuple[str, str], ...]:
        if report.signer is not None and self.matches(report.signer):
            return ((self.expectation, C2PA_SIGNER),)
        if any(self.matches(c) for c in trusted_identities(report)):
            return ((self.expectation, CAWG_IDENTITY),)
        return ()

    def check(self, report: VerificationReport) -> str | None:
        if self.matched_by(report):
            return None
        signer = report.signer
        org = signer.organization if signer and signer.organization else "no organisation"
        return (
            f"expected organisation {self.name!r}, but the signer's certificate names {org!r} ({_who(signer)})"
            + _identity_suffix(report)
        )

    def describe(self) -> str:
        return f"organisation is {self.name!r}"


class ExpectIssuer(Policy):
    """The CA that issued the signer certificate has *name* as its common
    name (CN) or organisation (O), exactly."""

    expectation = "issuer"

    def __init__(self, name: str) -> None:
        self.name = _value(name, "issuer")

    def check(self, report: VerificationReport) -> str | None:
        signer = report.signer
        if signer is not None:
            values = signer.issuer_values("CN") + signer.issuer_values("O")
            if self.name in values or self.name == signer.issuer:
                return None
        issuer = signer.issuer if signer and signer.issuer else "an unknown issuer"
        return f"expected issuer {self.name!r}, but the signer's certificate was issued by {issuer!r}"

    def describe(self) -> str:
        return f"issuer is {self.name!r}"


class RequireTimestamp(Policy):
    """The signing time comes from an RFC 3161 time-stamp by a trusted TSA,
    not only from the signer's own clock."""

    expectation = "timestamp"

    def check(self, report: VerificationReport) -> str | None:
        if report.timestamped:
            return None
        if report.timestamp is not None:
            return (
                f"a trusted time-stamp is required, but the one by {report.timestamp.authority} "
                "is not vouched for by any TSA trust source"
            )
        return "a trusted time-stamp is required, but the signing time comes only from the signer's own clock"

    def describe(self) -> str:
        return "a trusted time-stamp"


class _Composite(Policy):
    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies = tuple(policies)
        if not self.policies:
            raise UsageError(
                f"{type(self).__name__} needs at least one policy",
                hint="an empty policy list would accept any signer; give the policies to check",
            )
        for policy in self.policies:
            if not isinstance(policy, Policy):
                raise UsageError(f"{policy!r} is not a policy", hint="give ExpectSigner, ExpectOrganization, … objects")


class AllOf(_Composite):
    """Every policy must hold; fails with every reason that applies."""

    def check(self, report: VerificationReport) -> str | None:
        reasons = self.failures(report)
        return "; ".join(reasons) if reasons else None

    def failures(self, report: VerificationReport) -> tuple[PolicyFailure, ...]:
        return tuple(r for p in self.policies for r in p.failures(report))

    def matched_by(self, report: VerificationReport) -> tuple[tuple[str, str], ...]:
        return tuple(m for p in self.policies for m in p.matched_by(report))

    def describe(self) -> str:
        return " and ".join(p.describe() for p in self.policies)


class AnyOf(_Composite):
    """At least one policy must hold."""

    def check(self, report: VerificationReport) -> str | None:
        reasons = []
        for policy in self.policies:
            reason = policy.check(report)
            if reason is None:
                return None
            reasons.append(reason)
        return "none of the expectations holds: " + "; ".join(reasons)

    def matched_by(self, report: VerificationReport) -> tuple[tuple[str, str], ...]:
        holding = next((p for p in self.policies if p.check(report) is None), None)
        return holding.matched_by(report) if holding is not None else ()

    def describe(self) -> str:
        return " or ".join(p.describe() for p in self.policies)


def identity_policy(
    *, signer: str | None = None, org: str | None = None, issuer: str | None = None, require_timestamp: bool = False
) -> Policy | None:
    """The policy ``verify --expect-signer/--expect-org/--expect-issuer
    --require-timestamp`` describe (all must hold), or ``None`` when nothing
    is expected. The command line and the HTTP service both build theirs
    here, so they judge a clip alike.

    >>> identity_policy(signer="Jane Doe", require_timestamp=True)
    AllOf("signer is 'Jane Doe' and a trusted time-stamp")
    """
    policies: list[Policy] = []
    if signer is not None:
        policies.append(ExpectSigner(signer))
    if org is not None:
        policies.append(ExpectOrganization(org))
    if issuer is not None:
        policies.append(ExpectIssuer(issuer))
    if require_timestamp:
        policies.append(RequireTimestamp())
    return AllOf(policies) if policies else None
