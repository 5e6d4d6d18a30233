"""Signature algorithms C2PA allows, with their key generation and the raw
signature form COSE wants (ECDSA as r||s, RSA-PSS with salt = hash length)."""

from __future__ import annotations

from enum import Enum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from provenance.errors import IdentityError
from provenance.identity.keys import PrivateKey


class SigningAlgorithm(str, Enum):
    """A C2PA signature algorithm (the COSE ``alg``)."""

    ES256 = "es256"
    ES384 = "es384"
    ES512 = "es512"
    PS256 = "ps256"
    PS384 = "ps384"
    PS512 = "ps512"
    ED25519 = "ed25519"

    @property
    def hash(self) -> hashes.HashAlgorithm:
        return {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}.get(
            self.value[-3:], hashes.SHA512()
        )


_CURVES: dict[SigningAlgorithm, ec.EllipticCurve] = {
    SigningAlgorithm.ES256: ec.SECP256R1(),
    SigningAlgorithm.ES384: ec.SECP384R1(),
    SigningAlgorithm.ES512: ec.SECP521R1(),
}
_EC_ALG_BY_CURVE = {type(c).__name__: a for a, c in _CURVES.items()}


def generate_key(alg: SigningAlgorithm) -> PrivateKey:
    if alg in _CURVES:
        return ec.generate_private_key(_CURVES[alg])
    if alg is SigningAlgorithm.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


def algorithm_for_key(key: PrivateKey) -> SigningAlgorithm:
    """The natural C2PA algorithm for *key* (RSA keys sign with PS256)."""
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
        raise IdentityError(f"RSA key of {key.key_size} bits is too small", hint="use at least 2048 bits")
    return algorithm_for_public_key(key.public_key())


def sign_raw(key: PrivateKey, alg: SigningAlgorithm, data: bytes) -> bytes:
    """Sign *data* and return the signature in COSE form."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(alg.hash)))
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    pss = padding.PSS(mgf=padding.MGF1(alg.hash), salt_length=alg.hash.digest_size)
    return key.sign(data, pss, alg.hash)


PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey


def algorithm_for_public_key(public_key: object) -> SigningAlgorithm:
    """The natural C2PA algorithm for a certificate's public key (RSA → PS256)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        alg = _EC_ALG_BY_CURVE.get(type(public_key.curve).__name__)
        if alg is None:
            raise IdentityError(
                f"EC curve {public_key.curve.name} is not allowed by C2PA", hint="use P-256, P-384 or P-521"
            )
        return alg
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return SigningAlgorithm.ED25519
    if isinstance(public_key, rsa.RSAPublicKey):
        return SigningAlgorithm.PS256
    raise IdentityError(
        f"{type(public_key).__name__} keys cannot sign C2PA claims",
        hint="use an EC (P-256/384/521), RSA or Ed25519 key",
    )


def check_algorithm(alg: SigningAlgorithm, public_key: object) -> None:
    """Refuse an algorithm that the certificate's key cannot produce."""
    natural = algorithm_for_public_key(public_key)
    rsa_ok = isinstance(public_key, rsa.RSAPublicKey) and alg.value.startswith("ps")
    if alg is not natural and not rsa_ok:
        raise IdentityError(
            f"algorithm {alg.value} does not fit the certificate's key (it signs with {natural.value})",
            hint=f"use {natural.value}, or let the key choose",
            reason="alg_mismatch",
            details={"alg": natural.value},
        )


def raw_ecdsa_signature(signature: bytes, public_key: ec.EllipticCurvePublicKey) -> bytes:
    """COSE wants ECDSA as r||s; accept that or the DER form that most KMS
    and OpenSSL return, and give r||s."""
    size = (public_key.curve.key_size + 7) // 8
    if len(signature) == 2 * size and not _looks_like_der(signature, size):
        return signature
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        return signature  # let verification say it is wrong
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _looks_like_der(signature: bytes, size: int) -> bool:
    if not signature or signature[0] != 0x30:
        return False
    try:
        decode_dss_signature(signature)
    except ValueError:
        return False
    return True


def verify_raw(public_key: object, alg: SigningAlgorithm, data: bytes, signature: bytes) -> bool:
    """Whether *signature* (COSE form) over *data* verifies with *public_key*."""
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            size = (public_key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                return False
            r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(alg.hash))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        elif isinstance(public_key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(alg.hash), salt_length=alg.hash.digest_size)
            public_key.verify(signature, data, pss, alg.hash)
        else:
            return False
    except InvalidSignature:
        return False
    return True
