"""X.509 certificates following the C2PA certificate profiles
(``shared/spec/cert-profiles``): root CA, claim-signing issuing CA and
claim-signing leaf."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID, ObjectIdentifier

import provenance._pickle  # noqa: F401 - registers the certificate reducer, so what holds certificates pickles
from provenance.errors import IdentityError
from provenance.identity.keys import PrivateKey

C2PA_CLAIM_SIGNING = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
C2PA_CERTIFICATE_POLICY = ObjectIdentifier("1.3.6.1.4.1.62558.1.1")
EMAIL_PROTECTION = ExtendedKeyUsageOID.EMAIL_PROTECTION
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

LEAF_MAX_DAYS = 366
ISSUING_CA_MAX_DAYS = 1827
ROOT_DAYS = 20 * 365


@dataclass(frozen=True)
class Subject:
    """Subject attributes the C2PA profiles require (C, O, CN), plus an
    optional e-mail address carried as a SAN."""

    common_name: str
    organization: str
    country: str
    email: str | None = None

    @classmethod
    def from_name(cls, name: x509.Name, *, email: str | None = None) -> Subject:
        """The C/O/CN of *name* (empty strings where absent)."""
        return cls(
            attribute(name, NameOID.COMMON_NAME) or "",
            attribute(name, NameOID.ORGANIZATION_NAME) or "",
            attribute(name, NameOID.COUNTRY_NAME) or "",
            email=email,
        )

    def name(self) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, self.country),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization),
                x509.NameAttribute(NameOID.COMMON_NAME, self.common_name),
            ]
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _signing_hash(issuer_key: PrivateKey) -> hashes.HashAlgorithm | None:
    if isinstance(issuer_key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(issuer_key, rsa.RSAPrivateKey):
        return hashes.SHA256()
    return {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[issuer_key.curve.key_size]


def _base(
    subject: x509.Name,
    public_key: object,
    issuer: x509.Name,
    issuer_key: PrivateKey,
    *,
    not_before: dt.datetime,
    days: float,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,  # type: ignore[arg-type]
        )
    )


_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
_LEAF_KEY_USAGE = x509.KeyUsage(
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
_CLAIM_EKU = x509.ExtendedKeyUsage([C2PA_CLAIM_SIGNING, EMAIL_PROTECTION])
_POLICIES = x509.CertificatePolicies([x509.PolicyInformation(C2PA_CERTIFICATE_POLICY, None)])


def root_ca(
    subject: Subject, key: PrivateKey, *, days: float = ROOT_DAYS, not_before: dt.datetime | None = None
) -> x509.Certificate:
    """A self-signed root CA (pathLen 2 at most, keyCertSign+cRLSign, no AIA)."""
    nb = not_before or _now()
    return (
        _base(subject.name(), key.public_key(), subject.name(), key, not_before=nb, days=days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .sign(key, _signing_hash(key))  # type: ignore[arg-type]
    )


def issuing_ca(
    subject: Subject,
    public_key: object,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    *,
    days: float = ISSUING_CA_MAX_DAYS,
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    """A claim-signing issuing CA (pathLen 0, the claim-signing EKU, C2PA policy)."""
    nb = not_before or _now()
    return (
        _base(subject.name(), public_key, issuer.subject, issuer_key, not_before=nb, days=days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .add_extension(_CLAIM_EKU, critical=False)
        .add_extension(_POLICIES, critical=False)
        .sign(issuer_key, _signing_hash(issuer_key))  # type: ignore[arg-type]
    )


def claim_signing_leaf(
    subject: Subject,
    public_key: object,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    *,
    days: float = 365,
    not_before: dt.datetime | None = None,
    ocsp_url: str | None = None,
) -> x509.Certificate:
    """A claim-signing end-entity certificate (the C2PA leaf profile); with
    *ocsp_url*, its AIA extension names that OCSP responder."""
    nb = not_before or _now()
    builder = (
        _base(subject.name(), public_key, issuer.subject, issuer_key, not_before=nb, days=days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_LEAF_KEY_USAGE, critical=True)
        .add_extension(_CLAIM_EKU, critical=False)
        .add_extension(_POLICIES, critical=False)
    )
    if subject.email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(subject.email)]), critical=False)
    if ocsp_url:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, _signing_hash(issuer_key))  # type: ignore[arg-type]


def signing_request(subject: Subject, key: PrivateKey) -> x509.CertificateSigningRequest:
    """A CSR for *subject*, self-signed with *key* (the e-mail goes in a SAN)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject.name())
    if subject.email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(subject.email)]), critical=False)
    return builder.sign(key, _signing_hash(key))  # type: ignore[arg-type]


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def load_pem_chain(data: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(data)


MAX_CHAIN_BYTES = 1 << 20


def read_chain(path: Path) -> list[x509.Certificate]:
    """Certificates from a PEM file (signer first) or a single DER
    certificate, with one-line errors."""
    try:
        if path.stat().st_size > MAX_CHAIN_BYTES:
            raise IdentityError(
                f"{path}: too large for a certificate chain", hint="give PEM certificates, signer first"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise IdentityError(f"{path}: certificate file not found", hint="check the path") from None
    except OSError as exc:
        raise IdentityError(
            f"{path}: cannot read certificates ({exc.strerror})", hint="check its permissions"
        ) from None
    try:
        if b"-----BEGIN" in data:
            return load_pem_chain(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise IdentityError(
            f"{path}: not a PEM or DER certificate", hint="give PEM certificates, signer first"
        ) from None


def attribute(name: x509.Name, oid: ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None
