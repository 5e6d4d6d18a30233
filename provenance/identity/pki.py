"""The development PKI that ``provenance keys init`` writes: a root CA, an
issuing CA and a creator claim-signing certificate, as files in one folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from provenance._files import atomic_write
from provenance.errors import OutputExistsError
from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm, generate_key
from provenance.identity.ca import OrganisationCA
from provenance.identity.keys import write_private_key

DEFAULT_KEYS_DIR = Path("keys")


def default_keys_dir() -> Path:
    """``$PROVENANCE_KEYS_DIR`` or ``./keys``."""
    return Path(os.environ.get("PROVENANCE_KEYS_DIR", DEFAULT_KEYS_DIR))


@dataclass(frozen=True)
class DevPKI(OrganisationCA):
    """File layout of a development PKI folder: an organisation CA's files
    (so a dev PKI can issue too) plus one creator's key and chain."""

    @property
    def signer_cert(self) -> Path:
        return self.directory / "signer.pem"

    @property
    def signer_key(self) -> Path:
        return self.directory / "signer.key"

    @property
    def chain(self) -> Path:
        """Leaf then issuing CA: what goes into the COSE x5chain (no root)."""
        return self.directory / "chain.pem"

    def files(self) -> tuple[Path, ...]:
        return super().files() + (self.signer_cert, self.signer_key, self.chain)

    def exists(self) -> bool:
        return self.chain.exists() and self.signer_key.exists()


def init_dev_pki(
    directory: Path,
    *,
    subject: certs.Subject,
    alg: SigningAlgorithm = SigningAlgorithm.ES256,
    passphrase: bytes | None = None,
    force: bool = False,
) -> DevPKI:
    """Create root CA, issuing CA and a creator certificate in *directory*.

    Private keys are written 0600 (encrypted when *passphrase* is given);
    an existing PKI is kept unless *force*.

    >>> pki = init_dev_pki(Path("keys"), subject=certs.Subject("Jane Doe", "Example News", "US"))  # doctest: +SKIP
    """
    pki = DevPKI(directory)
    present = [p for p in pki.files() if p.exists()]
    if present and not force:
        raise OutputExistsError(f"{directory}: a PKI already exists ({present[0].name})")
    directory.mkdir(parents=True, exist_ok=True)
    root_subject = certs.Subject(f"{subject.organization} Dev Root CA", subject.organization, subject.country)
    issuing_subject = certs.Subject(f"{subject.organization} Dev Issuing CA", subject.organization, subject.country)
    root_key = generate_key(SigningAlgorithm.ES384)
    root = certs.root_ca(root_subject, root_key)
    issuing_key = generate_key(SigningAlgorithm.ES384)
    issuing = certs.issuing_ca(issuing_subject, issuing_key.public_key(), root, root_key)
    leaf_key = generate_key(alg)
    leaf = certs.claim_signing_leaf(subject, leaf_key.public_key(), issuing, issuing_key)

    write_private_key(pki.root_key, root_key, passphrase=passphrase)
    write_private_key(pki.issuing_key, issuing_key, passphrase=passphrase)
    write_private_key(pki.signer_key, leaf_key, passphrase=passphrase)
    atomic_write(pki.root_cert, certs.pem(root))
    atomic_write(pki.issuing_cert, certs.pem(issuing))
    atomic_write(pki.signer_cert, certs.pem(leaf))
    atomic_write(pki.chain, certs.pem(leaf, issuing))
    return pki
