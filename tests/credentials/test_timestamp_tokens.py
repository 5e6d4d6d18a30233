"""Time-stamp tokens from a clip are hostile input: a damaged TSA
certificate inside one must not make verify() raise (found by the fuzz
harness: one changed byte in the certificate's version gave exit 70)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from asn1crypto import tsp
from cryptography.hazmat.primitives import serialization

from provenance import Verdict, sign, verify
from provenance.credentials.timestamp import parse_token
from provenance.identity.pki import DevPKI
from provenance.identity.signer import KeySigner
from provenance.trust.store import SourceKind, TrustStore
from tests.support.tsa import TimeStampAuthority, TSAIdentity, TSAServer


def _damaged(cert_der: bytes) -> bytes:
    """*cert_der* with its version INTEGER changed from 2 (v3) to 3."""
    version = bytes.fromhex("a003020102")
    assert cert_der.count(version) == 1
    return cert_der.replace(version, bytes.fromhex("a003020103"))


def _response(identity: TSAIdentity) -> bytes:
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\x01" * 32},
            "nonce": 7,
            "cert_req": True,
        }
    )
    return TimeStampAuthority(identity).respond(request.dump())


def test_a_token_with_a_damaged_certificate_parses_without_it(tsa_identity: TSAIdentity) -> None:
    response = _response(tsa_identity)
    intact = parse_token(response)
    assert intact is not None and len(intact.chain) == 1
    assert intact.authority == "Test Time Authority TSA"
    cert_der = tsa_identity.cert.public_bytes(serialization.Encoding.DER)
    damaged = parse_token(response.replace(cert_der, _damaged(cert_der)))
    assert damaged is not None
    assert damaged.chain == ()  # left out, so nothing can vouch for it
    assert damaged.gen_time == intact.gen_time
    assert "Test Time Authority TSA" in damaged.authority  # the TSTInfo's own tsa name


def test_verify_reports_a_clip_whose_tsa_certificate_is_damaged(
    make_clip: Callable[..., Path], pki: DevPKI, trust: TrustStore, tsa: TSAServer, tmp_path: Path
) -> None:
    signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url)
    signed = sign(make_clip("mp4"), tmp_path / "stamped.mp4", signer=signer).output
    tsa_root = tmp_path / "tsa-root.pem"
    tsa_root.write_bytes(tsa.identity.root_pem)
    store = trust.with_pem_file(tsa_root, kind=SourceKind.TSA, name="test tsa")
    assert verify(signed, trust=store).timestamped
    cert_der = tsa.identity.cert.public_bytes(serialization.Encoding.DER)
    data = signed.read_bytes()
    assert data.count(cert_der) == 1
    signed.write_bytes(data.replace(cert_der, _damaged(cert_der)))
    report = verify(signed, trust=store)  # raised x509.InvalidVersion before
    assert report.verdict is not Verdict.ERROR
    assert not report.timestamped
    assert report.timestamp is None or not report.timestamp.trusted
