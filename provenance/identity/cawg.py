"""CAWG identity credentials: the X.509 key and certificate that sign a
``cawg.identity`` assertion (the ``cawg.x509.cose`` form) naming the
person or organisation behind a clip, apart from the C2PA claim signer.

c2pa-rs 0.91.3 writes the assertion itself, when the claim signer comes
from its settings (``signer.local``) and ``cawg_x509_signer`` names the
identity's PEM key and certificate; see
:func:`provenance.credentials.bridge.sign_stream`. So both keys must be
key files held in this process: a PKCS#11 token or a signer command cannot
sign either one (:func:`require_identity_signer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provenance.errors import IdentityError, UsageError
from provenance.identity.signer import KeySigner, Signer

#: What the identity assertion signs over, besides the hard binding c2pa-rs
#: always adds: the actions and the creative work (its author).
COVERED_ASSERTIONS = ("c2pa.actions.v2", "cawg.metadata")


@dataclass(frozen=True)
class CawgIdentity:
    """The credential that signs a CAWG identity assertion.

    >>> identity = CawgIdentity.from_files(key=Path("me.key"), cert=Path("me-chain.pem"))  # doctest: +SKIP
    >>> sign("clip.mp4", "out.mp4", signer=signer, identity=identity)  # doctest: +SKIP
    """

    signer: KeySigner
    covers: tuple[str, ...] = COVERED_ASSERTIONS

    @classmethod
    def from_files(cls, *, key: Path, cert: Path, passphrase: bytes | None = None) -> CawgIdentity:
        """The identity key (PEM) and its certificate chain (PEM, leaf first).
        Raises :class:`IdentityError` naming the identity credential."""
        try:
            return cls(KeySigner.from_files(key=key, chain=cert, passphrase=passphrase))
        except IdentityError as exc:  # say which credential: not the claim signer's
            raise IdentityError(
                f"CAWG identity credential: {exc.message}",
                hint="give the identity's PEM key and the certificate chain it belongs to (leaf first)",
                reason="identity_credential_unusable",
            ) from None

    @property
    def name(self) -> str:
        return self.signer.certificate.subject.rfc4514_string()


def require_identity_signer(signer: Signer) -> KeySigner:
    """*signer* when it can sign together with a CAWG identity; else a
    one-line :class:`UsageError` saying why not."""
    if isinstance(signer, KeySigner):
        return signer
    raise UsageError(
        "a CAWG identity can only be added when the C2PA signer is a key file: c2pa-rs 0.91.3 writes the "
        "identity assertion only for a signer made from its settings, which take a PEM key "
        "(not a PKCS#11 token or a signer command)",
        hint="sign with a key file, or without an identity",
        reason="identity_needs_key_file",
    )
