"""Certificate signing requests for a key inside a PKCS#11 token.

cryptography can only sign a CSR with a key it holds, so the request is
encoded here (PKCS#10, a few DER structures) and its signature comes from
the token. cryptography then parses the result and checks the signature,
so a wrong encoding cannot go unnoticed.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from provenance.errors import IdentityError
from provenance.identity.algorithms import algorithm_for_public_key
from provenance.identity.certificates import Subject
from provenance.identity.pkcs11 import TokenKey

_EXTENSION_REQUEST = "1.2.840.113549.1.9.14"
_SUBJECT_ALT_NAME = "2.5.29.17"
_ECDSA = {256: "1.2.840.10045.4.3.2", 384: "1.2.840.10045.4.3.3", 521: "1.2.840.10045.4.3.4"}
_SHA256_WITH_RSA = "1.2.840.113549.1.1.11"


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _base128(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    return _tlv(0x06, bytes([40 * arcs[0] + arcs[1]]) + b"".join(_base128(a) for a in arcs[2:]))


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def token_signing_request(subject: Subject, key: TokenKey) -> x509.CertificateSigningRequest:
    """A PKCS#10 request for *subject* and the token key's public key,
    signed inside the token (ECDSA with SHA-2, or RSA PKCS#1 v1.5 SHA-256)."""
    public_key = key.public_key()
    algorithm_for_public_key(public_key)  # refuses curves C2PA does not allow
    attributes = b""
    if subject.email:
        san = x509.SubjectAlternativeName([x509.RFC822Name(subject.email)]).public_bytes()
        extensions = _seq(_seq(_oid(_SUBJECT_ALT_NAME), _tlv(0x04, san)))
        attributes = _seq(_oid(_EXTENSION_REQUEST), _tlv(0x31, extensions))
    info = _seq(
        _tlv(0x02, b"\x00"),
        subject.name().public_bytes(),
        public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        _tlv(0xA0, attributes),
    )
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        alg = algorithm_for_public_key(public_key)
        raw = key.sign(info, alg)
        size = len(raw) // 2
        signature = encode_dss_signature(int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))
        algorithm = _seq(_oid(_ECDSA[public_key.curve.key_size]))
    else:
        signature = key.sign_pkcs1v15_sha256(info)
        algorithm = _seq(_oid(_SHA256_WITH_RSA), b"\x05\x00")
    der = _seq(info, algorithm, _tlv(0x03, b"\x00" + signature))
    try:
        csr = x509.load_der_x509_csr(der)
        valid = csr.is_signature_valid
    except ValueError:
        valid = False
    if not valid:
        raise IdentityError(
            f"the token's signature on the request does not verify ({key.uri.describe()})",
            hint="the token key and its public key object do not match",
        )
    return csr
