"""provenance.credentials.cose on crafted JUMBF stores: the box walk is
lenient (c2pa-rs judges the store), so what precedes a broken box is read
and nothing raises."""

from __future__ import annotations

import datetime
import struct

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provenance.credentials import cose


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def superbox(label: str, *children: bytes, large: bool = False) -> bytes:
    payload = box(b"jumd", bytes(16) + b"\x03" + label.encode() + b"\0") + b"".join(children)
    return struct.pack(">I4sQ", 1, b"jumb", 16 + len(payload)) + payload if large else box(b"jumb", payload)


@pytest.fixture(scope="module")
def der() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Crafted Signer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def signature(der: bytes) -> bytes:
    protected = cbor2.dumps({1: -7, 33: [der]})
    return superbox("c2pa.signature", box(b"cbor", cbor2.dumps(cbor2.CBORTag(18, [protected, {}, None, b"sig"]))))


def test_labels_and_signature_headers_of_a_store(der: bytes) -> None:
    store = superbox(
        "c2pa",
        superbox("urn:one", superbox("c2pa.assertions"), signature(der)),
        superbox("urn:two", signature(der), large=True),
    )
    assert cose.manifest_labels(store) == ["urn:one", "urn:two"]
    headers = cose.signature_headers(store)
    assert set(headers) == {"urn:one", "urn:two"}
    assert headers["urn:two"].chain[0].subject.rfc4514_string() == "CN=Crafted Signer"


@pytest.mark.parametrize(
    "broken",
    [
        b"\0\0\0\3junk",  # a size below its header
        struct.pack(">I4s", 9999, b"jumb"),  # a superbox running past the store
        b"abc",  # stray bytes
    ],
)
def test_the_walk_stops_at_a_broken_box(der: bytes, broken: bytes) -> None:
    inner = superbox("urn:one", signature(der)) + broken + superbox("urn:two", signature(der))
    store = superbox("c2pa", inner)
    assert cose.manifest_labels(store) == ["urn:one"]
    assert list(cose.signature_headers(store)) == ["urn:one"]


def test_a_last_manifest_of_size_0_runs_to_the_end_of_the_store(der: bytes) -> None:
    last = superbox("urn:last", signature(der))
    store = superbox("c2pa", superbox("urn:one"), struct.pack(">I", 0) + last[4:])
    assert cose.manifest_labels(store) == ["urn:one", "urn:last"]
    assert list(cose.signature_headers(store)) == ["urn:last"]


def test_junk_is_no_store() -> None:
    for junk in (b"", b"\0" * 3, b"\xff" * 64, struct.pack(">I4sQ", 1, b"jumb", 1 << 40)):
        assert cose.manifest_labels(junk) == [] and cose.signature_headers(junk) == {}
