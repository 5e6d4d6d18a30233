"""Expected-signer checks for ``/v1/verify?expect_signer=...``.

A small, swappable function: exact matches on the signer the report names
(as ``verify --expect-signer/--expect-org/--expect-issuer
--require-timestamp`` do on the command line). Only a verified signer can
meet an expectation; a name nobody vouches for proves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provenance.verify.report import VerificationReport, Verdict

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
    issuer: str | None = None  # the CA that issued it
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

    def to_dict(self) -> dict[str, Any]:
        return {"signer": self.signer, "org": self.org, "issuer": self.issuer,
                "require_timestamp": self.require_timestamp}


def check_expectation(report: VerificationReport, expected: SignerExpectation) -> dict[str, Any]:
    """``{"expected": ..., "met": bool, "problems": [...]}`` for the JSON answer."""
    problems: list[str] = []
    signer = report.signer
    if report.verdict is not Verdict.VERIFIED or signer is None:
        problems.append(f"the clip is {report.verdict.value}, so no signer is established")
    else:
        if expected.signer and expected.signer not in (signer.common_name, signer.email):
            problems.append(f"signed by {signer.display()}, not {expected.signer}")
        if expected.org and expected.org != signer.organization:
            problems.append(f"signer organisation is {signer.organization or 'not given'}, not {expected.org}")
        if expected.issuer and expected.issuer != signer.issuer:
            problems.append(f"certificate issued by {signer.issuer or 'an unnamed CA'}, not {expected.issuer}")
    if expected.require_timestamp and not report.timestamped:
        problems.append("the signing time is not vouched for by a trusted time-stamp")
    return {"expected": expected.to_dict(), "met": not problems, "problems": problems}
