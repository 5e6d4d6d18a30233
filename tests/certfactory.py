"""Real certificates that break chosen rules of the C2PA profiles, made
with cryptography, for the profile linter and the identity tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm, generate_key
from provenance.identity.keys import PrivateKey

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
CLAIM_EKU = [certs.C2PA_CLAIM_SIGNING, certs.EMAIL_PROTECTION]
SIGNING_KU = dict(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass
class MiniCA:
    """A root and an issuing CA that follow the C2PA CA profiles."""

    root: x509.Certificate
    root_key: PrivateKey
    issuing: x509.Certificate
    issuing_key: PrivateKey

    @classmethod
    def make(cls, org: str = "Test Org") -> MiniCA:
        root_key = generate_key(SigningAlgorithm.ES384)
        root = certs.root_ca(certs.Subject(f"{org} Root", org, "US"), root_key, not_before=NOW - dt.timedelta(hours=1))
        issuing_key = generate_key(SigningAlgorithm.ES384)
        issuing = certs.issuing_ca(
            certs.Subject(f"{org} Issuing", org, "US"),
            issuing_key.public_key(),
            root,
            root_key,
            not_before=NOW - dt.timedelta(hours=1),
        )
        return cls(root, root_key, issuing, issuing_key)

    def leaf(
        self,
        key: Any = None,
        *,
        eku: list[x509.ObjectIdentifier] | None = CLAIM_EKU,
        ca: bool = False,
        basic_constraints: bool = True,
        not_before: dt.datetime | None = None,
        days: float = 365,
        ski: bool = True,
        aki: bool = True,
        key_usage: dict[str, bool] | None = SIGNING_KU,
        key_usage_critical: bool = True,
        policies: bool = True,
        critical_extra: x509.ExtensionType | None = None,
        issuer_name: x509.Name | None = None,
        signing_key: PrivateKey | None = None,
        subject: certs.Subject | None = None,
    ) -> tuple[Any, x509.Certificate]:
        """A claim-signing leaf issued by this CA; every knob breaks one rule."""
        key = key or ec.generate_private_key(ec.SECP256R1())
        start = not_before or NOW - dt.timedelta(minutes=5)
        name = (subject or certs.Subject("Test Creator", "Test Org", "US")).name()
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer_name or self.issuing.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=days))
        )
        if basic_constraints:
            builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        if key_usage is not None:
            builder = builder.add_extension(x509.KeyUsage(**key_usage), critical=key_usage_critical)
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        if ski:
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        if aki:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuing_key.public_key()), critical=False
            )  # type: ignore[arg-type]
        if policies:
            builder = builder.add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(certs.C2PA_CERTIFICATE_POLICY, None)]), critical=False
            )
        if critical_extra is not None:
            builder = builder.add_extension(critical_extra, critical=True)
        return key, builder.sign(signing_key or self.issuing_key, hashes.SHA384())  # type: ignore[arg-type]

    def issuing_variant(self, **changes: Any) -> tuple[PrivateKey, x509.Certificate]:
        """Another issuing CA under the same root, with *changes*:
        ``ca``, ``key_cert_sign``, ``days``, ``not_before``."""
        key = generate_key(SigningAlgorithm.ES384)
        start = changes.get("not_before", NOW - dt.timedelta(minutes=5))
        ca = changes.get("ca", True)
        cert_sign = changes.get("key_cert_sign", True)
        builder = (
            x509.CertificateBuilder()
            .subject_name(certs.Subject("Variant Issuing", "Test Org", "US").name())
            .issuer_name(self.root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=changes.get("days", 1000)))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    **{
                        **SIGNING_KU,
                        "digital_signature": not cert_sign,
                        "key_cert_sign": cert_sign,
                        "crl_sign": cert_sign,
                    }
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(CLAIM_EKU), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()), critical=False
            )  # type: ignore[arg-type]
        )
        return key, builder.sign(self.root_key, hashes.SHA384())  # type: ignore[arg-type]

    def leaf_under(self, issuer_key: PrivateKey, issuer: x509.Certificate) -> tuple[Any, x509.Certificate]:
        """A correct leaf issued by another (variant) issuing CA."""
        other = MiniCA(self.root, self.root_key, issuer, issuer_key)
        return other.leaf()
