"""Plain-language meaning of the C2PA status codes people meet most."""

from __future__ import annotations

from provenance.verification.report import Verdict, VerificationReport

CODES: dict[str, str] = {
    "assertion.bmffHash.mismatch": "the video/audio bytes changed after signing",
    "assertion.dataHash.mismatch": "the file's bytes changed after signing",
    "assertion.boxesHash.mismatch": "the file's boxes changed after signing",
    "assertion.hashedURI.mismatch": "the manifest itself was altered after signing",
    "assertion.hashedURI.missing": "a signed part of the manifest is missing",
    "claimSignature.mismatch": "the claim signature does not match: forged or corrupted",
    "claimSignature.missing": "the manifest has no signature",
    "signingCredential.untrusted": "no trusted authority vouches for the signer's certificate",
    "signingCredential.trusted": "the signer's certificate chains to a trusted authority",
    "signingCredential.expired": "the signer's certificate had expired when it signed (no trusted time-stamp)",
    "signingCredential.revoked": "the signer's certificate was revoked",
    "signingCredential.invalid": "the signer's certificate is not valid for signing C2PA claims",
    "timeStamp.validated": "the time-stamp matches the signature",
    "timeStamp.trusted": "a trusted time-stamp authority vouches for the signing time",
    "timeStamp.outsideValidity": "the time-stamp authority's certificate was not valid at the stamped time",
    "timeStamp.malformed": "the time-stamp cannot be parsed; the signer's own clock is used",
    "timeStamp.untrusted": "the time-stamp authority is not trusted; the signer's own clock is used",
    "timeStamp.mismatch": "the time-stamp does not match the signature",
    "ingredient.manifest.mismatch": "an ingredient's manifest was altered",
    "ingredient.manifest.missing": "an ingredient's manifest is missing",
    "manifest.missing": "no manifest found",
    "assertion.action.malformed": "the actions assertion is malformed",
}

HEADLINES: dict[Verdict, str] = {
    Verdict.VERIFIED: "intact, validly signed, and the signer is vouched for",
    Verdict.UNTRUSTED: "intact and validly signed, but no trusted authority vouches for the signer",
    Verdict.TAMPERED: "the content or its manifest changed after signing",
    Verdict.INVALID: "the credentials are not valid",
    Verdict.NO_CREDENTIALS: "no content credentials: nothing says who made this clip",
    Verdict.ERROR: "the file could not be checked",
    Verdict.WRONG_SIGNER: "intact and validly signed by a vouched-for signer, but not the one you expected",
    Verdict.RECOVERED: "no valid credentials in this file, but its content matches a clip a vouched-for signer "
    "signed: matched by content, not by bytes",
}


#: A wrong_signer verdict whose only unmet expectation is the time-stamp:
#: the signer is who was expected, so "wrong signer" would mislead.
UNSTAMPED = "intact and validly signed by a vouched-for signer, but without the trusted time-stamp you required"


def only_time_stamp_missing(report: VerificationReport) -> bool:
    """True when *report* is wrong_signer only because a trusted time-stamp was required."""
    return report.verdict is Verdict.WRONG_SIGNER and report.policy_unmet == ("timestamp",)


def headline(report: VerificationReport) -> str:
    """The verdict in a few plain words, for *report*'s case."""
    return UNSTAMPED if only_time_stamp_missing(report) else HEADLINES[report.verdict]


def explain(code: str, fallback: str = "") -> str:
    return CODES.get(code, fallback)
