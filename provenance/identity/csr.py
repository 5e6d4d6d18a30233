"""Certificate signing requests: a creator makes a key pair and a CSR; the
private key never leaves the creator's machine, only the CSR travels to the
organisation CA, which checks it before issuing (:func:`read_request`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from provenance._files import atomic_write
from provenance.errors import IdentityError, OutputExistsError, UsageError
from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm, generate_key
from provenance.identity.keys import write_private_key

MAX_CSR_BYTES = 64 * 1024
_CURVES = {"secp256r1", "secp384r1", "secp521r1"}


@dataclass(frozen=True)
class CertificateRequest:
    """A checked CSR: its self-signature verifies and its subject and key
    fit a C2PA claim-signing certificate."""

    csr: x509.CertificateSigningRequest
    subject: certs.Subject

    @property
    def public_key(self) -> object:
        return self.csr.public_key()


@dataclass(frozen=True)
class RequestFiles:
    """What :func:`create_request` wrote."""

    key: Path
    csr: Path
    subject: certs.Subject
    alg: SigningAlgorithm


def check_country(country: str) -> str:
    if len(country) != 2 or not country.isalpha():
        raise UsageError(f"country {country!r} is not a two-letter code", hint="use an ISO 3166 code such as US or GB")
    return country.upper()


def create_request(
    key_path: Path,
    csr_path: Path,
    *,
    subject: certs.Subject,
    alg: SigningAlgorithm = SigningAlgorithm.ES256,
    passphrase: bytes | None = None,
    force: bool = False,
) -> RequestFiles:
    """Generate a key pair, write the private key (0600, encrypted when
    *passphrase* is given) and a PEM CSR for *subject*.

    >>> create_request(Path("keys/signer.key"), Path("keys/signer.csr"),
    ...                subject=certs.Subject("Jane Doe", "Example News", "US"))  # doctest: +SKIP
    """
    for path in (key_path, csr_path):
        if path.exists() and not force:
            raise OutputExistsError(
                f"{path}: file exists", hint="allow replacing it, or choose another folder", reason="request_exists"
            )
    if not subject.common_name or not subject.organization:
        raise UsageError(
            "a request needs a name (CN) and an organisation (O)", hint="give both", reason="request_needs_subject"
        )
    key = generate_key(alg)
    csr = certs.signing_request(subject, key)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    csr_path.parent.mkdir(parents=True, exist_ok=True)
    write_private_key(key_path, key, passphrase=passphrase)
    atomic_write(csr_path, csr.public_bytes(serialization.Encoding.PEM))
    return RequestFiles(key_path, csr_path, subject, alg)


def _load(path: Path) -> x509.CertificateSigningRequest:
    try:
        size = path.stat().st_size
        if size > MAX_CSR_BYTES:
            raise IdentityError(
                f"{path}: {size} bytes is too large for a CSR", hint="give a PEM or DER certificate request"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise IdentityError(f"{path}: request not found", hint="check the path of the .csr file") from None
    except OSError as exc:
        raise IdentityError(f"{path}: cannot read request ({exc.strerror})", hint="check its permissions") from None
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_csr(data)
        return x509.load_der_x509_csr(data)
    except ValueError:
        raise IdentityError(
            f"{path}: not a certificate signing request",
            hint="give a PEM certificate signing request",
            reason="not_a_request",
        ) from None


def read_request(path: Path) -> CertificateRequest:
    """Load and check a CSR: its self-signature, its subject (C, O, CN), its
    key (EC P-256/384/521, RSA >= 2048, Ed25519) and its SANs (e-mail only)."""
    csr = _load(path)
    try:
        signature_ok = csr.is_signature_valid
    except Exception:  # noqa: BLE001 - malformed or unsupported signatures land here
        signature_ok = False
    if not signature_ok:
        raise IdentityError(
            f"{path}: the request's self-signature does not verify",
            hint="the CSR was altered or made with another key; ask the creator for a new one",
        )
    try:
        key = csr.public_key()
    except (ValueError, TypeError) as exc:
        raise IdentityError(f"{path}: unsupported public key ({exc})", hint="use an EC, RSA or Ed25519 key") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise IdentityError(
            f"{path}: RSA key of {key.key_size} bits is too small", hint="the creator needs a key of at least 2048 bits"
        )
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in _CURVES:
        raise IdentityError(
            f"{path}: EC curve {key.curve.name} is not allowed by C2PA", hint="use P-256, P-384 or P-521"
        )
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)):
        raise IdentityError(
            f"{path}: {type(key).__name__} keys cannot sign C2PA claims", hint="use an EC, RSA or Ed25519 key"
        )
    email = None
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    except ValueError as exc:
        raise IdentityError(f"{path}: malformed extensions ({exc})", hint="ask the creator for a new request") from None
    if san is not None:
        others = [n for n in san if not isinstance(n, x509.RFC822Name)]
        if others:
            raise IdentityError(
                f"{path}: the request asks for a {type(others[0]).__name__}; only an e-mail address can be certified",
                hint="request an e-mail address only",
                reason="request_not_email",
            )
        emails = san.get_values_for_type(x509.RFC822Name)
        if len(emails) > 1:
            raise IdentityError(
                f"{path}: the request has {len(emails)} e-mail addresses", hint="a creator certificate carries one"
            )
        email = emails[0] if emails else None
    subject = certs.Subject.from_name(csr.subject, email=email)
    missing = [
        n for n, v in (("CN", subject.common_name), ("O", subject.organization), ("C", subject.country)) if not v
    ]
    if missing:
        raise IdentityError(
            f"{path}: the request's subject lacks {', '.join(missing)}",
            hint="C2PA certificates name the country (C), organisation (O) and creator (CN)",
        )
    if len(subject.country) != 2 or not subject.country.isalpha():
        raise IdentityError(
            f"{path}: country {subject.country!r} is not a two-letter code",
            hint="ask for a request with an ISO 3166 code",
        )
    return CertificateRequest(csr, subject)
