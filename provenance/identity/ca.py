"""An organisation's own certificate authority: a root CA and a
claim-signing issuing CA (``shared/spec/cert-profiles``), which issues
creator certificates from their CSRs.

The folder layout is the same as the development PKI's CA half
(``root-ca.pem``/``.key``, ``issuing-ca.pem``/``.key``), so a dev PKI can
issue too. Every issued certificate is kept in ``issued/<serial>.pem``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from provenance._files import atomic_write
from provenance.errors import IdentityError, OutputExistsError, UsageError
from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm, generate_key
from provenance.identity.csr import CertificateRequest
from provenance.identity.keys import PrivateKey, load_private_key, write_private_key

DEFAULT_CA_DIR = Path("ca")
CA_ALGORITHMS = (SigningAlgorithm.ES384, SigningAlgorithm.ES512, SigningAlgorithm.PS256)


def default_ca_dir() -> Path:
    """``$PROVENANCE_CA_DIR`` or ``./ca``."""
    return Path(os.environ.get("PROVENANCE_CA_DIR", DEFAULT_CA_DIR))


@dataclass(frozen=True)
class OrganisationCA:
    """File layout of an organisation CA folder."""

    directory: Path

    @property
    def root_cert(self) -> Path:
        return self.directory / "root-ca.pem"

    @property
    def root_key(self) -> Path:
        return self.directory / "root-ca.key"

    @property
    def issuing_cert(self) -> Path:
        return self.directory / "issuing-ca.pem"

    @property
    def issuing_key(self) -> Path:
        return self.directory / "issuing-ca.key"

    @property
    def issued(self) -> Path:
        return self.directory / "issued"

    def files(self) -> tuple[Path, ...]:
        return (self.root_cert, self.root_key, self.issuing_cert, self.issuing_key)

    def exists(self) -> bool:
        return self.issuing_cert.exists() and self.issuing_key.exists()

    def issuing_certificate(self) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate(self.issuing_cert.read_bytes())
        except FileNotFoundError:
            raise UsageError(
                f"{self.directory}: no organisation CA here (issuing-ca.pem missing)",
                hint="create the organisation CA first, or give its folder",
                reason="no_ca",
            ) from None
        except ValueError:
            raise IdentityError(
                f"{self.issuing_cert}: not a PEM certificate", hint="restore the CA folder from its backup"
            ) from None


@dataclass(frozen=True)
class IssuedCertificate:
    """What :func:`issue_certificate` produced."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # leaf then issuing CA: what the signer embeds
    record: Path  # the copy kept in the CA's issued/ folder
    shortened: bool  # validity cut to end with the issuing CA's


def init_organisation_ca(
    directory: Path,
    *,
    organization: str,
    country: str,
    root_name: str | None = None,
    issuing_name: str | None = None,
    alg: SigningAlgorithm = SigningAlgorithm.ES384,
    passphrase: bytes | None = None,
    root_days: float = certs.ROOT_DAYS,
    issuing_days: float = certs.ISSUING_CA_MAX_DAYS,
    force: bool = False,
) -> OrganisationCA:
    """Create a root CA and a claim-signing issuing CA in *directory*.

    CA keys are P-384 (``es384``), P-521 (``es512``) or RSA 3072 (``ps256``)
    as the profiles require, written 0600 and encrypted when *passphrase*
    is given.

    >>> ca = init_organisation_ca(Path("ca"), organization="Example News", country="US")  # doctest: +SKIP
    """
    if alg not in CA_ALGORITHMS:
        raise UsageError(f"{alg.value} keys are not allowed for CAs", hint="use es384, es512 or ps256 (RSA 3072)")
    if issuing_days > certs.ISSUING_CA_MAX_DAYS:
        raise UsageError(
            f"an issuing CA may be valid for {certs.ISSUING_CA_MAX_DAYS} days at most",
            hint=f"ask for {certs.ISSUING_CA_MAX_DAYS} days or less",
            reason="issuing_days_too_long",
            details={"max": str(certs.ISSUING_CA_MAX_DAYS)},
        )
    ca = OrganisationCA(directory)
    present = [p for p in ca.files() if p.exists()]
    if present and not force:
        raise OutputExistsError(f"{directory}: a CA already exists ({present[0].name})")
    root_subject = certs.Subject(root_name or f"{organization} Root CA", organization, country)
    issuing_subject = certs.Subject(issuing_name or f"{organization} Claim Signing CA", organization, country)
    directory.mkdir(parents=True, exist_ok=True)
    root_key = generate_key(alg)
    root = certs.root_ca(root_subject, root_key, days=root_days)
    issuing_key = generate_key(alg)
    issuing = certs.issuing_ca(
        issuing_subject, issuing_key.public_key(), root, root_key, days=min(issuing_days, root_days)
    )
    write_private_key(ca.root_key, root_key, passphrase=passphrase)
    write_private_key(ca.issuing_key, issuing_key, passphrase=passphrase)
    atomic_write(ca.root_cert, certs.pem(root))
    atomic_write(ca.issuing_cert, certs.pem(issuing))
    return ca


def issue_certificate(
    ca: OrganisationCA,
    request: CertificateRequest,
    *,
    passphrase: bytes | None = None,
    days: float = 365,
    allow_other_org: bool = False,
    now: dt.datetime | None = None,
) -> IssuedCertificate:
    """Issue a claim-signing certificate (the C2PA leaf profile) for a
    checked CSR; its AIA names the CA's OCSP responder when one is set up. The subject's organisation must be the CA's unless
    *allow_other_org*: verifiers match on O, so a typo would make a creator
    fail ``--expect-org``."""
    if not 0 < days <= certs.LEAF_MAX_DAYS:
        raise UsageError(
            f"--days {days:g}: a claim-signing certificate is valid for 1 to {certs.LEAF_MAX_DAYS} days",
            hint=f"ask for {certs.LEAF_MAX_DAYS} days or less",
            reason="leaf_days_out_of_range",
            details={"max": str(certs.LEAF_MAX_DAYS)},
        )
    issuing = ca.issuing_certificate()
    key: PrivateKey = load_private_key(ca.issuing_key, passphrase=passphrase)
    if key.public_key() != issuing.public_key():
        raise IdentityError(
            f"{ca.issuing_key}: key does not belong to {ca.issuing_cert.name}",
            hint="restore the CA folder from its backup",
        )
    ca_org = certs.Subject.from_name(issuing.subject).organization
    if request.subject.organization != ca_org and not allow_other_org:
        raise IdentityError(
            f"the request is for O={request.subject.organization!r} but this CA issues for O={ca_org!r}",
            hint="ask the creator for a request with the CA's organisation, or allow another organisation",
            reason="request_other_org",
        )
    start = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    ca_end = issuing.not_valid_after_utc
    if ca_end <= start:
        raise IdentityError(
            f"{ca.issuing_cert}: the issuing CA expired on {ca_end:%Y-%m-%d}", hint="create a new issuing CA"
        )
    end = min(start + dt.timedelta(days=days), ca_end)
    from provenance.identity.revocation import responder_url  # the CA's OCSP set-up, when it has one

    leaf = certs.claim_signing_leaf(
        request.subject,
        request.public_key,
        issuing,
        key,
        days=(end - start).total_seconds() / 86400,
        not_before=start,
        ocsp_url=responder_url(ca),
    )
    ca.issued.mkdir(exist_ok=True)
    record = ca.issued / f"{leaf.serial_number:040x}.pem"
    atomic_write(record, certs.pem(leaf))
    return IssuedCertificate(leaf, (leaf, issuing), record, shortened=end < start + dt.timedelta(days=days))
