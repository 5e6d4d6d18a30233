"""Expected-signer checks for ``/v1/verify?expect_signer=...``.

The query parameters become the same identity policy objects
(:mod:`provenance.verification.policy`) that ``verify --expect-signer/--expect-org
/--expect-issuer --require-timestamp`` build on the command line, so the
service and the CLI give one clip the same verdict: a verified clip that
fails the policy is ``wrong_signer``. The ``expectation`` block of the
answer restates what was expected and whether it was met.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provenance.verification.policy import Policy, identity_policy
from provenance.verification.report import Verdict, VerificationReport

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"", "0", "false", "no", "off"})


def flag(value: str | None, *, name: str) -> bool:
    text = (value or "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{name}={value!r} is not a yes/no value; use 1 or 0")


@dataclass(frozen=True)
class SignerExpectation:
    """Who the caller expects to have signed the clip."""

    signer: str | None = None  # common name or e-mail of the signing certificate
    org: str | None = None  # its organisation (O)
    issuer: str | None = None  # the CA that issued it (CN or O)
    require_timestamp: bool = False

    @property
    def given(self) -> bool:
        return bool(self.signer or self.org or self.issuer or self.require_timestamp)

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> SignerExpectation:
        return cls(
            signer=query.get("expect_signer") or None,
            org=query.get("expect_org") or None,
            issuer=query.get("expect_issuer") or None,
            require_timestamp=flag(query.get("require_timestamp"), name="require_timestamp"),
        )

    def policy(self) -> Policy | None:
        """The identity policy to verify with (``None``: nothing expected)."""
        return identity_policy(
            signer=self.signer, org=self.org, issuer=self.issuer, require_timestamp=self.require_timestamp
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "signer": self.signer,
            "org": self.org,
            "issuer": self.issuer,
            "require_timestamp": self.require_timestamp,
        }


def check_expectation(report: VerificationReport, expected: SignerExpectation) -> dict[str, Any]:
    """``{"expected": ..., "met": bool, "problems": [...]}`` for the JSON
    answer, from a *report* already judged by ``expected.policy()``. Only a
    verified signer can meet an expectation: a name nobody vouches for
    proves nothing, so any other verdict is a problem too."""
    problems: list[str] = []
    if report.verdict not in (Verdict.VERIFIED, Verdict.WRONG_SIGNER):
        problems.append(f"the clip is {report.verdict.value}, so no signer is established")
    problems.extend(report.policy_failures)
    return {"expected": expected.to_dict(), "met": not problems, "problems": problems}
