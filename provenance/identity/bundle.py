"""Identities from an external CA: a PKCS#12 file, or PEM key and chain.

:func:`read_bundle` finds the private key and the certificates in the given
files, puts the chain in order (signer first, then intermediates, the root
set apart) and checks that the key belongs to the signer certificate.
:func:`write_identity` stores them in the layout ``provenance sign`` reads
(``signer.key`` 0600, ``chain.pem``, ``signer.pem``, ``root-ca.pem``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from provenance._files import atomic_write
from provenance.errors import IdentityError, OutputExistsError, PassphraseError
from provenance.identity import certificates as certs
from provenance.identity.keys import PrivateKey, write_private_key
from provenance.identity.pki import DevPKI

MAX_BUNDLE_BYTES = 1 << 20
_KEY_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.*?-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class IdentityBundle:
    """A private key with its ordered chain."""

    key: PrivateKey
    chain: tuple[x509.Certificate, ...]  # signer first, then intermediates; no root
    root: x509.Certificate | None  # the self-signed root, when the bundle had it
    encrypted: bool  # the source key was protected by a passphrase
    unused: int  # certificates in the files that are not part of the chain

    def __repr__(self) -> str:  # never show key material
        return f"IdentityBundle(subject={self.chain[0].subject.rfc4514_string()!r}, chain={len(self.chain)})"


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise IdentityError(
                f"{path}: too large for a key or certificate file", hint="give the PKCS#12 or PEM files from your CA"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise IdentityError(f"{path}: file not found", hint="check the path") from None
    except OSError as exc:
        raise IdentityError(f"{path}: cannot read ({exc.strerror})", hint="check its permissions") from None


def _pkcs12(path: Path, data: bytes, passphrase: bytes | None) -> tuple[PrivateKey | None, list[x509.Certificate]]:
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError:
        if passphrase is None:
            raise PassphraseError(
                f"{path}: PKCS#12 file needs a passphrase, or is not PKCS#12",
                hint="give its passphrase",
                reason="bundle_passphrase_missing",
            ) from None
        raise PassphraseError(
            f"{path}: wrong passphrase, or not a PKCS#12 file", hint="check the passphrase the CA gave you"
        ) from None
    found = ([cert] if cert is not None else []) + list(extra)
    return key, found  # type: ignore[return-value]


def _pem(path: Path, data: bytes, passphrase: bytes | None) -> tuple[PrivateKey | None, list[x509.Certificate], bool]:
    found: list[x509.Certificate] = []
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            found = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise IdentityError(f"{path}: malformed PEM certificate", hint="give the PEM files from your CA") from None
    key = None
    encrypted = False
    match = _KEY_BLOCK.search(data)
    if match:
        block = match.group(0)
        encrypted = b"ENCRYPTED" in match.group(1) or b"Proc-Type: 4,ENCRYPTED" in block
        if encrypted and not passphrase:
            raise PassphraseError(
                f"{path}: private key is encrypted and no passphrase was given",
                hint="give its passphrase",
                reason="bundle_passphrase_missing",
            )
        try:
            key = serialization.load_pem_private_key(block, password=passphrase if encrypted else None)
        except (ValueError, TypeError):
            if encrypted:
                raise PassphraseError(
                    f"{path}: wrong passphrase for private key", hint="check the passphrase"
                ) from None
            raise IdentityError(
                f"{path}: malformed PEM private key", hint="give a PKCS#8 or traditional PEM key"
            ) from None
    if key is None and not found:
        raise IdentityError(
            f"{path}: neither a PKCS#12 file nor PEM keys or certificates", hint="give the files from your CA"
        )
    return key, found, encrypted  # type: ignore[return-value]


def _order(
    leaf: x509.Certificate, pool: Sequence[x509.Certificate]
) -> tuple[list[x509.Certificate], x509.Certificate | None]:
    chain = [leaf]
    root = None
    remaining = [c for c in pool if c != leaf]
    while True:
        current = chain[-1]
        parent = next((c for c in remaining if c.subject == current.issuer and c != current), None)
        if parent is None:
            return chain, root
        remaining.remove(parent)
        if parent.subject == parent.issuer:
            return chain, parent
        chain.append(parent)


def read_bundle(paths: Sequence[Path], *, passphrase: bytes | None = None) -> IdentityBundle:
    """Read a PKCS#12 file or PEM files holding one private key and its chain."""
    key: PrivateKey | None = None
    pool: list[x509.Certificate] = []
    encrypted = False
    for path in paths:
        data = _read(path)
        if b"-----BEGIN" in data:
            found_key, found, enc = _pem(path, data, passphrase)
        elif data[:1] == b"\x30":  # a DER SEQUENCE, as PKCS#12 is
            found_key, found = _pkcs12(path, data, passphrase)
            enc = passphrase is not None
        else:
            raise IdentityError(
                f"{path}: neither a PKCS#12 file nor PEM keys or certificates", hint="give the files from your CA"
            )
        if found_key is not None:
            if key is not None:
                raise IdentityError(f"{path}: a second private key", hint="import one identity at a time")
            key, encrypted = found_key, enc
        pool.extend(c for c in found if c not in pool)
    if key is None:
        raise IdentityError("no private key in the given files", hint="add the key file (or give the PKCS#12 file)")
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise IdentityError(f"{type(key).__name__} keys cannot sign C2PA claims", hint="use an EC, RSA or Ed25519 key")
    leaf = next((c for c in pool if c.public_key() == key.public_key()), None)
    if leaf is None:
        raise IdentityError(
            "no certificate in the given files belongs to the private key",
            hint="add the signer certificate that your CA issued for this key",
        )
    chain, root = _order(leaf, pool)
    used = len(chain) + (root is not None)
    return IdentityBundle(key, tuple(chain), root, encrypted, unused=len(pool) - used)


def write_identity(
    bundle: IdentityBundle, directory: Path, *, passphrase: bytes | None = None, force: bool = False
) -> DevPKI:
    """Write *bundle* in the layout ``provenance sign`` reads; the key 0600,
    encrypted when *passphrase* is given."""
    layout = DevPKI(directory)
    targets = [layout.signer_key, layout.chain, layout.signer_cert] + ([layout.root_cert] if bundle.root else [])
    present = [p for p in targets if p.exists()]
    if present and not force:
        raise OutputExistsError(f"{directory}: an identity already exists ({present[0].name})")
    directory.mkdir(parents=True, exist_ok=True)
    write_private_key(layout.signer_key, bundle.key, passphrase=passphrase)
    atomic_write(layout.chain, certs.pem(*bundle.chain))
    atomic_write(layout.signer_cert, certs.pem(bundle.chain[0]))
    if bundle.root is not None:
        atomic_write(layout.root_cert, certs.pem(bundle.root))
    return layout
