"""Lint a claim-signing certificate chain against the C2PA profiles.

:func:`check_chain` returns a :class:`ProfileReport` of :class:`Finding`\\ s,
one per broken rule. Each finding says whether validators *reject* a
signature made with the chain (``Severity.REJECTED``) or whether it only
breaks the C2PA certificate profile and today's validators still accept it
(``Severity.PROFILE``). The split was measured against c2pa-rs 0.91.3 by
signing real clips with certificates that break one rule each (see
``docs/creators.md``, "Check a certificate"). :func:`require_signable` raises when a chain has
a finding validators reject; ``provenance sign`` calls it first.

>>> report = check_chain(load_pem_chain(Path("keys/chain.pem").read_bytes()))  # doctest: +SKIP
>>> [f.code for f in report.findings]  # doctest: +SKIP
[]
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID, ObjectIdentifier, SignatureAlgorithmOID

from provenance.errors import IdentityError
from provenance.identity.certificates import (
    C2PA_CERTIFICATE_POLICY,
    C2PA_CLAIM_SIGNING,
    DOCUMENT_SIGNING,
    EMAIL_PROTECTION,
    LEAF_MAX_DAYS,
)

LEAF = "C2PA claim-signing leaf profile"
ISSUER = "C2PA claim-signing issuing CA profile"
SPEC = "C2PA 2.2 §14.5"

_CURVES = {"secp256r1", "secp384r1", "secp521r1"}
_SIGNATURE_ALGORITHMS = {
    SignatureAlgorithmOID.RSA_WITH_SHA256,
    SignatureAlgorithmOID.RSA_WITH_SHA384,
    SignatureAlgorithmOID.RSA_WITH_SHA512,
    SignatureAlgorithmOID.ECDSA_WITH_SHA256,
    SignatureAlgorithmOID.ECDSA_WITH_SHA384,
    SignatureAlgorithmOID.ECDSA_WITH_SHA512,
    SignatureAlgorithmOID.RSASSA_PSS,
    SignatureAlgorithmOID.ED25519,
}
# EKUs that c2pa-rs 0.91.3 accepts on a claim signer when it validates
# (measured: claimSigning or documentSigning alone give
# signingCredential.invalid "certificate missing required EKU").
_VALIDATOR_EKUS = {
    EMAIL_PROTECTION,
    ExtendedKeyUsageOID.TIME_STAMPING,
    ExtendedKeyUsageOID.OCSP_SIGNING,
    ObjectIdentifier("1.3.6.1.4.1.311.76.59.1.9"),
}
_TSA_OCSP = {ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.OCSP_SIGNING}
# Extensions c2pa-rs understands; any other one marked critical is refused.
_HANDLED = {
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.POLICY_MAPPINGS,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.NAME_CONSTRAINTS,
    ExtensionOID.POLICY_CONSTRAINTS,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.CRL_DISTRIBUTION_POINTS,
    ExtensionOID.INHIBIT_ANY_POLICY,
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
}


class Severity(str, enum.Enum):
    REJECTED = "rejected"  # validators refuse a signature made with this chain
    PROFILE = "profile"  # breaks the C2PA profile; today's validators accept it


@dataclass(frozen=True)
class Finding:
    """One broken rule in one certificate of the chain."""

    code: str  # stable identifier, e.g. "eku-any"
    severity: Severity
    position: int  # 0 = the signer (leaf), 1 = its issuer, ...
    subject: str  # RFC 4514 subject of the certificate concerned
    message: str  # what is wrong with this certificate
    rule: str  # the rule it breaks

    @property
    def rejected(self) -> bool:
        return self.severity is Severity.REJECTED

    @property
    def role(self) -> str:
        return "signer" if self.position == 0 else f"chain[{self.position}]"

    def line(self) -> str:
        """The finding as one line for a human."""
        verdict = "validators reject it" if self.rejected else "profile only; validators accept it today"
        return f"{self.role} ({self.subject}): {self.message} [{self.rule}] — {verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "position": self.position,
            "subject": self.subject,
            "message": self.message,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class ProfileReport:
    """All findings for one chain (leaf first), checked at time *checked_at*."""

    subject: str
    chain_length: int
    checked_at: dt.datetime
    findings: tuple[Finding, ...]

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def rejected(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.rejected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "chain_length": self.chain_length,
            "checked_at": self.checked_at.isoformat(),
            "clean": self.clean,
            "signable": not self.rejected,
            "findings": [f.to_dict() for f in self.findings],
        }


class ProfileError(IdentityError):
    """A signer certificate chain that validators would reject."""

    def __init__(self, report: ProfileReport) -> None:
        first = report.rejected[0]
        more = len(report.rejected) - 1
        extra = f" (and {more} more finding{'s' * (more > 1)})" if more else ""
        super().__init__(
            f"certificate refused: {first.role} ({first.subject}): {first.message} [{first.rule}]{extra}",
            hint="validators reject it; check the chain against the profile and get a certificate "
            "that follows the C2PA claim-signing profile",
            reason="chain_rejected",
        )
        self.report = report


def _ext(cert: x509.Certificate, cls: type[x509.ExtensionType]) -> x509.Extension[Any] | None:
    try:
        return cert.extensions.get_extension_for_class(cls)
    except x509.ExtensionNotFound:
        return None


def _validity(cert: x509.Certificate) -> tuple[dt.datetime, dt.datetime]:
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def _is_ca(cert: x509.Certificate) -> bool:
    bc = _ext(cert, x509.BasicConstraints)
    return bool(bc and bc.value.ca)


def _signed_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Whether *parent*'s key made *child*'s signature (names aside)."""
    try:
        key = parent.public_key()
        params: Any = child.signature_algorithm_parameters
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, params, child.signature_hash_algorithm)  # type: ignore[arg-type]
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, params)
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


class _Checker:
    def __init__(self, chain: Sequence[x509.Certificate], at: dt.datetime) -> None:
        self.chain = chain
        self.at = at
        self.findings: list[Finding] = []

    def add(self, pos: int, code: str, severity: Severity, message: str, rule: str) -> None:
        subject = self.chain[pos].subject.rfc4514_string() or "(empty subject)"
        self.findings.append(Finding(code, severity, pos, subject, message, rule))

    # -- every certificate ---------------------------------------------------
    def common(self, pos: int) -> None:
        cert = self.chain[pos]
        R, P = Severity.REJECTED, Severity.PROFILE
        if cert.version is not x509.Version.v3:
            self.add(pos, "version", R, f"certificate is {cert.version.name}, not v3", f"{SPEC}: Version MUST be v3")
        before, after = _validity(cert)
        if self.at < before:
            self.add(
                pos,
                "not-yet-valid",
                R,
                f"not valid before {before:%Y-%m-%d %H:%M} UTC",
                f"{SPEC}: the certificate must be valid when the claim is signed",
            )
        if self.at > after:
            self.add(
                pos,
                "expired",
                R,
                f"expired on {after:%Y-%m-%d %H:%M} UTC",
                f"{SPEC}: the certificate must be valid when the claim is signed",
            )
        if cert.signature_algorithm_oid not in _SIGNATURE_ALGORITHMS:
            name = getattr(cert.signature_algorithm_oid, "_name", cert.signature_algorithm_oid.dotted_string)
            self.add(
                pos,
                "signature-algorithm",
                R,
                f"signed with {name}",
                f"{SPEC}: certificates are signed with RSA (SHA-2 or PSS), ECDSA (SHA-2) or Ed25519",
            )
        for ext in cert.extensions:
            if ext.critical and ext.oid not in _HANDLED:
                self.add(
                    pos,
                    "critical-extension",
                    R,
                    f"unknown critical extension {ext.oid.dotted_string}",
                    f"{SPEC}: a validator must refuse critical extensions it does not process",
                )
        attrs = {NameOID.COUNTRY_NAME: "C", NameOID.ORGANIZATION_NAME: "O", NameOID.COMMON_NAME: "CN"}
        missing = [short for oid, short in attrs.items() if not cert.subject.get_attributes_for_oid(oid)]
        if missing:
            self.add(
                pos,
                "subject-attributes",
                P,
                f"subject lacks {', '.join(missing)}",
                f"{LEAF if pos == 0 else ISSUER}: Subject requires C, O and CN",
            )
        if _ext(cert, x509.SubjectKeyIdentifier) is None:
            # c2pa-rs requires it of CA certificates only
            self.add(
                pos,
                "ski-missing",
                P if pos == 0 else R,
                "no Subject Key Identifier",
                f"{LEAF if pos == 0 else ISSUER}: Subject Key Identifier MUST be present",
            )

    # -- the signer ----------------------------------------------------------
    def leaf(self) -> None:
        cert = self.chain[0]
        R, P = Severity.REJECTED, Severity.PROFILE
        self.common(0)
        before, after = _validity(cert)
        days = (after - before).total_seconds() / 86400
        if days > LEAF_MAX_DAYS:
            self.add(
                0,
                "validity-too-long",
                P,
                f"valid for {days:.0f} days",
                f"{LEAF}: Validity Period max {LEAF_MAX_DAYS} days",
            )
        self.public_key(cert)
        bc = _ext(cert, x509.BasicConstraints)
        if bc is None:
            self.add(
                0,
                "basic-constraints-missing",
                P,
                "no Basic Constraints",
                f"{LEAF}: Basic Constraints MUST be present, critical, cA=FALSE",
            )
        else:
            if bc.value.ca:
                self.add(
                    0,
                    "ca-signer",
                    R,
                    "Basic Constraints say cA=TRUE: a CA certificate cannot sign claims",
                    f"{LEAF}: Basic Constraints cA=FALSE",
                )
            if not bc.critical:
                self.add(
                    0,
                    "basic-constraints-not-critical",
                    P,
                    "Basic Constraints not marked critical",
                    f"{LEAF}: Basic Constraints critical",
                )
        self.key_usage(cert)
        self.eku(cert)
        if _ext(cert, x509.AuthorityKeyIdentifier) is None:
            self.add(
                0, "aki-missing", R, "no Authority Key Identifier", f"{LEAF}: Authority Key Identifier MUST be present"
            )
        policies = _ext(cert, x509.CertificatePolicies)
        if policies is None or not any(p.policy_identifier == C2PA_CERTIFICATE_POLICY for p in policies.value):
            self.add(
                0,
                "policy-missing",
                P,
                "Certificate Policies lack c2pa-certificate-policy (1.3.6.1.4.1.62558.1.1)",
                f"{LEAF}: Certificate Policies MUST contain c2pa-certificate-policy",
            )

    def public_key(self, cert: x509.Certificate) -> None:
        R = Severity.REJECTED
        try:
            key = cert.public_key()
        except (ValueError, UnsupportedAlgorithm):
            self.add(0, "key-type", R, "public key type not supported", f"{LEAF}: key is RSA, ECDSA or Ed25519")
            return
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size < 2048:
                self.add(
                    0,
                    "key-too-small",
                    R,
                    f"RSA key of {key.key_size} bits",
                    f"{LEAF}: RSA Key Size 2048 bits or larger",
                )
            e = key.public_numbers().e
            if e < 3 or e % 2 == 0:
                self.add(
                    0, "rsa-exponent", R, f"RSA public exponent {e} is invalid", f"{SPEC}: RSA exponent odd and >= 3"
                )
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if key.curve.name not in _CURVES:
                self.add(
                    0, "curve-unsupported", R, f"EC curve {key.curve.name}", f"{LEAF}: ECC Curve P-256, P-384 or P-521"
                )
        elif not isinstance(key, ed25519.Ed25519PublicKey):
            self.add(
                0,
                "key-type",
                R,
                f"{type(key).__name__.removesuffix('PublicKey') or 'this'} keys cannot sign claims",
                f"{LEAF}: key is rsaEncryption, id-ecPublicKey or id-Ed25519",
            )

    def key_usage(self, cert: x509.Certificate) -> None:
        R, P = Severity.REJECTED, Severity.PROFILE
        ku = _ext(cert, x509.KeyUsage)
        if ku is None:
            self.add(
                0, "key-usage-missing", R, "no Key Usage", f"{LEAF}: Key Usage MUST be present with digitalSignature"
            )
            return
        value: x509.KeyUsage = ku.value
        if not value.digital_signature:
            signs = value.content_commitment or value.key_cert_sign
            self.add(
                0,
                "key-usage-digital-signature",
                P if signs else R,
                "Key Usage lacks digitalSignature",
                f"{LEAF}: Key Usage bits digitalSignature",
            )
        if value.key_cert_sign:
            self.add(
                0,
                "key-usage-cert-sign",
                R if value.digital_signature else P,
                "Key Usage has keyCertSign, a CA bit, on the signer",
                f"{LEAF}: Key Usage bits digitalSignature only",
            )
        if not ku.critical:
            self.add(0, "key-usage-not-critical", P, "Key Usage not marked critical", f"{LEAF}: Key Usage critical")

    def eku(self, cert: x509.Certificate) -> None:
        R, P = Severity.REJECTED, Severity.PROFILE
        ext = _ext(cert, x509.ExtendedKeyUsage)
        if ext is None:
            self.add(
                0,
                "eku-missing",
                R,
                "no Extended Key Usage",
                f"{LEAF}: Extended Key Usage MUST contain c2pa-kp-claimSigning and id-kp-emailProtection or id-kp-documentSigning",
            )
            return
        ekus = set(ext.value)
        if ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in ekus:
            self.add(
                0,
                "eku-any",
                R,
                "Extended Key Usage contains anyExtendedKeyUsage",
                f"{SPEC}: anyExtendedKeyUsage MUST NOT be present",
            )
        if C2PA_CLAIM_SIGNING not in ekus:
            self.add(
                0,
                "eku-claim-signing",
                P,
                "Extended Key Usage lacks c2pa-kp-claimSigning (1.3.6.1.4.1.62558.2.1)",
                f"{LEAF}: Extended Key Usage MUST contain c2pa-kp-claimSigning",
            )
        if not ekus & {EMAIL_PROTECTION, DOCUMENT_SIGNING}:
            self.add(
                0,
                "eku-email-protection",
                R if not ekus & _VALIDATOR_EKUS else P,
                "Extended Key Usage has neither id-kp-emailProtection nor id-kp-documentSigning",
                f"{LEAF}: Extended Key Usage MUST contain id-kp-emailProtection or id-kp-documentSigning",
            )
        elif not ekus & _VALIDATOR_EKUS:
            self.add(
                0,
                "eku-email-protection",
                R,
                "Extended Key Usage lacks id-kp-emailProtection, which c2pa-rs 0.91.3 requires of a claim signer",
                f"{LEAF}: Extended Key Usage id-kp-emailProtection (for current validators)",
            )
        tsa = ekus & _TSA_OCSP
        if tsa:
            others = ekus - tsa
            combo = len(tsa) == 2 or bool(others)
            self.add(
                0,
                "eku-tsa-ocsp",
                R if combo else P,
                "Extended Key Usage has timeStamping or OCSPSigning, purposes of a TSA or OCSP responder",
                f"{SPEC}: timeStamping and OCSPSigning are exclusive and not for claim signers",
            )

    # -- the chain links -----------------------------------------------------
    def link(self, pos: int) -> None:
        child, parent = self.chain[pos - 1], self.chain[pos]
        R, P = Severity.REJECTED, Severity.PROFILE
        self.common(pos)
        if not _signed_by(child, parent):
            self.add(
                pos - 1,
                "chain-signature",
                R,
                "signature does not verify with the next certificate's key",
                "chain order: each certificate is signed by the one after it",
            )
        if child.issuer != parent.subject:
            # c2pa-rs 0.91.3 links by signature and accepts this (measured)
            self.add(
                pos - 1,
                "chain-issuer",
                P,
                f"issuer {child.issuer.rfc4514_string()} is not the next certificate's subject",
                "RFC 5280 §6.1: issuer name = the issuer's subject (path builders that match on it fail)",
            )
        aki = _ext(child, x509.AuthorityKeyIdentifier)
        ski = _ext(parent, x509.SubjectKeyIdentifier)
        if aki is not None and ski is not None and aki.value.key_identifier not in (None, ski.value.digest):
            self.add(
                pos - 1,
                "chain-aki",
                P,
                "Authority Key Identifier does not match the issuer's Subject Key Identifier",
                "RFC 5280 §4.2.1.1: AKI keyIdentifier = issuer SKI (path builders that match on it fail)",
            )
        bc = _ext(parent, x509.BasicConstraints)
        if bc is None or not bc.value.ca:
            self.add(
                pos,
                "issuer-not-ca",
                R,
                "issues certificates but is not a CA (Basic Constraints cA=TRUE missing)",
                f"{ISSUER}: Basic Constraints cA=TRUE",
            )
        ku = _ext(parent, x509.KeyUsage)
        if ku is None or not ku.value.key_cert_sign:
            self.add(
                pos,
                "issuer-key-usage",
                R,
                "issues certificates but Key Usage lacks keyCertSign",
                f"{ISSUER}: Key Usage bits keyCertSign, cRLSign",
            )
        if _self_signed(parent):
            self.add(
                pos,
                "chain-includes-root",
                P,
                "the root CA is in the chain",
                f"{SPEC}: x5chain carries the signer and intermediates, not the root",
            )
        elif pos == 1:
            eku = _ext(parent, x509.ExtendedKeyUsage)
            if eku is None or C2PA_CLAIM_SIGNING not in set(eku.value):
                self.add(
                    pos,
                    "issuer-eku",
                    P,
                    "issuing CA's Extended Key Usage lacks c2pa-kp-claimSigning",
                    f"{ISSUER}: Extended Key Usage MUST contain c2pa-kp-claimSigning",
                )


def check_chain(chain: Sequence[x509.Certificate], *, at: dt.datetime | None = None) -> ProfileReport:
    """Lint *chain* (signer first, then intermediates) against the C2PA
    claim-signing profiles, at time *at* (default: now)."""
    if not chain:
        raise IdentityError("the certificate chain is empty", hint="give the signer certificate and its issuing CA")
    when = at or dt.datetime.now(dt.UTC)
    checker = _Checker(chain, when)
    checker.leaf()
    for pos in range(1, len(chain)):
        checker.link(pos)
    return ProfileReport(chain[0].subject.rfc4514_string(), len(chain), when, tuple(checker.findings))


def require_signable(chain: Sequence[x509.Certificate], *, at: dt.datetime | None = None) -> ProfileReport:
    """Raise :class:`ProfileError` when validators would reject a signature
    made with *chain*; return the report (profile-only findings) otherwise."""
    report = check_chain(chain, at=at)
    if report.rejected:
        raise ProfileError(report)
    return report
