"""Private keys on disk: created 0600, optionally encrypted, refused when
other users can read them (as ssh refuses), never printed or logged."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from provenance._files import atomic_write
from provenance.errors import IdentityError, InsecureKeyError, PassphraseError

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def private_key_pem(key: PrivateKey, *, passphrase: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted with the best available scheme when a passphrase is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def write_private_key(path: Path, key: PrivateKey, *, passphrase: bytes | None = None) -> None:
    """Write *key* to *path* atomically with mode 0600 from the first byte."""
    atomic_write(path, private_key_pem(key, passphrase=passphrase), mode=0o600)


def check_key_permissions(path: Path) -> None:
    """Refuse a key file that group or others can read or write."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise InsecureKeyError(
            f"{path}: private key is accessible by other users (mode {mode:04o})",
            hint=f"run 'chmod 600 {path}' and try again",
        )


def is_encrypted(pem: bytes) -> bool:
    return b"ENCRYPTED" in pem.split(b"\n", 1)[0]


def load_private_key(path: Path, *, passphrase: bytes | None = None) -> PrivateKey:
    """Load a PEM private key, checking permissions and the passphrase.

    >>> key = load_private_key(Path("keys/signer.key"))  # doctest: +SKIP
    """
    try:
        data = path.read_bytes()
        # A file that is no private key (a photo given by mistake) is said
        # to be that, not to have the wrong permissions; a key is checked.
        if b"PRIVATE KEY-----" not in data:
            raise IdentityError(f"{path}: not a PEM private key", hint="give a PKCS#8 or traditional PEM key")
        check_key_permissions(path)
    except FileNotFoundError:
        raise IdentityError(
            f"{path}: private key not found",
            hint="give the key file, or create a development PKI",
            reason="key_not_found",
        ) from None
    except OSError as exc:
        raise IdentityError(f"{path}: cannot read private key ({exc.strerror})", hint="check its permissions") from None
    encrypted = is_encrypted(data)
    if encrypted and not passphrase:
        raise PassphraseError(
            f"{path}: private key is encrypted and no passphrase was given",
            hint="give its passphrase",
            reason="passphrase_missing",
        )
    try:
        key = serialization.load_pem_private_key(data, password=passphrase if encrypted else None)
    except (ValueError, TypeError) as exc:
        if encrypted:
            raise PassphraseError(f"{path}: wrong passphrase for private key", hint="check the passphrase") from None
        raise IdentityError(
            f"{path}: not a PEM private key ({exc})", hint="give a PKCS#8 or traditional PEM key"
        ) from None
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise IdentityError(f"{path}: unsupported key type", hint="use an EC (P-256/384/521), RSA or Ed25519 key")
    return key
