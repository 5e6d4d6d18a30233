"""The signer seam: anything that can produce a COSE signature over bytes
with a certificate chain. A key file is one kind; an HSM or a KMS plugs in
as another subclass without the rest of provenance noticing."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from provenance.errors import IdentityError
from provenance.identity.algorithms import SigningAlgorithm, algorithm_for_key, sign_raw
from provenance.identity.certificates import load_pem_chain, pem
from provenance.identity.keys import PrivateKey, load_private_key


class Signer(ABC):
    """Signs claim bytes for c2pa. Subclasses hold the key wherever it lives.

    ``ocsp_response``, when set, is a DER OCSP response about the signer
    certificate that travels in the manifest (c2pa-rs's ``Signer::ocsp_val``,
    which c2pa-python's callback signer cannot give)."""

    ocsp_response: bytes | None = None

    def __init__(self, *, chain: list[x509.Certificate], alg: SigningAlgorithm, tsa_url: str | None = None) -> None:
        if not chain:
            raise IdentityError("the certificate chain is empty", hint="give the signer certificate and its issuing CA")
        self.chain = chain
        self.alg = alg
        self.tsa_url = tsa_url

    @property
    def certificate(self) -> x509.Certificate:
        """The end-entity (claim-signing) certificate."""
        return self.chain[0]

    def chain_pem(self) -> bytes:
        return pem(*self.chain)

    @abstractmethod
    def sign(self, data: bytes) -> bytes:
        """Return the raw COSE signature of *data*."""

    def close(self) -> None:  # noqa: B027 - optional: most signers hold nothing to release
        """Release what the signer holds (a token session, ...)."""

    def __enter__(self) -> Signer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class KeySigner(Signer):
    """A signer over a private key held in this process (cryptography).

    >>> signer = KeySigner.from_files(key=Path("keys/signer.key"), chain=Path("keys/chain.pem"))  # doctest: +SKIP
    """

    def __init__(
        self,
        key: PrivateKey,
        *,
        chain: list[x509.Certificate],
        alg: SigningAlgorithm | None = None,
        tsa_url: str | None = None,
    ) -> None:
        alg = alg or algorithm_for_key(key)
        super().__init__(chain=chain, alg=alg, tsa_url=tsa_url)
        if chain[0].public_key() != key.public_key():
            raise IdentityError(
                "the private key does not match the signer certificate",
                hint="give the key that belongs to the first certificate of the chain",
            )
        self._key = key

    @classmethod
    def from_files(
        cls, *, key: Path, chain: Path, passphrase: bytes | None = None, tsa_url: str | None = None
    ) -> KeySigner:
        try:
            certs = load_pem_chain(chain.read_bytes())
        except FileNotFoundError:
            raise IdentityError(
                f"{chain}: certificate chain not found",
                hint="give the certificate chain file, or create a development PKI",
                reason="chain_not_found",
            ) from None
        except ValueError:
            raise IdentityError(
                f"{chain}: not a PEM certificate chain", hint="give PEM certificates, signer first"
            ) from None
        return cls(load_private_key(key, passphrase=passphrase), chain=certs, tsa_url=tsa_url)

    def sign(self, data: bytes) -> bytes:
        return sign_raw(self._key, self.alg, data)

    def key_pem(self) -> bytes:
        """The key as unencrypted PKCS#8 PEM, in memory only: for the c2pa-rs
        signer settings, which take a PEM key (CAWG identity signing)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def __repr__(self) -> str:  # never show key material
        return f"KeySigner(alg={self.alg.value}, subject={self.certificate.subject.rfc4514_string()!r})"
