"""Trust sources of each kind parse strictly, reach c2pa-rs settings, and
only the right kind vouches (signers: anchors/allowed; TSAs: tsa)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from provenance.errors import UsageError
from provenance.identity.certificates import pem
from provenance.trust.store import SourceKind, TrustSource, TrustStore, fingerprint


def test_anchors_and_tsa_lists_from_the_official_files(trust_lists: Path) -> None:
    lists = trust_lists
    anchors = TrustSource.from_bytes((lists / "C2PA-TRUST-LIST.pem").read_bytes(), kind=SourceKind.ANCHORS, name="c2pa")
    tsa = TrustSource.from_bytes((lists / "C2PA-TSA-TRUST-LIST.pem").read_bytes(), kind=SourceKind.TSA, name="tsa")
    assert len(anchors.certificates) == 30 and len(tsa.certificates) == 22


def test_interim_store_cfg_is_an_eku_list(trust_lists: Path) -> None:
    lists = trust_lists
    ekus = TrustSource.from_bytes((lists / "interim-store.cfg").read_bytes(), kind=SourceKind.EKUS, name="interim-ekus")
    assert "1.3.6.1.4.1.62558.2.1" in ekus.ekus and "1.3.6.1.5.5.7.3.36" in ekus.ekus
    settings = TrustStore((ekus,)).c2pa_settings()["trust"]
    assert "1.3.6.1.4.1.311.76.59.1.9" in settings["trust_config"]
    with pytest.raises(UsageError) as info:
        TrustSource.from_bytes((lists / "interim-store.cfg").read_bytes(), kind=SourceKind.ANCHORS, name="x")
    assert "--kind ekus" in info.value.diagnostics()
    with pytest.raises(UsageError, match="not an OID"):
        TrustSource.from_bytes(b"1.2.3\nnot-an-oid\n", kind=SourceKind.EKUS, name="x")


def test_allowed_list_as_hashes_pins_like_pem(pki) -> None:
    leaf = pki.signer_cert.read_bytes()
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(leaf)
    b64 = fingerprint(cert)
    hexa = hashlib.sha256(base64.b64decode(b64)).hexdigest()  # a hash of something else: ignored as a pin of ours
    as_hashes = TrustSource.from_bytes(
        f"# pinned\n{b64}\n{hexa}\n".encode(), kind=SourceKind.ALLOWED, name="pins", title="interim list"
    )
    assert as_hashes.certificates == () and b64 in as_hashes.fingerprints
    store = TrustStore((as_hashes,))
    assert store.vouching_source([cert]) == "interim list (pinned)"
    assert b64 in store.c2pa_settings()["trust"]["allowed_list"]
    hex_of_cert = base64.b64decode(b64).hex()
    by_hex = TrustSource.from_bytes(hex_of_cert.encode(), kind=SourceKind.ALLOWED, name="hex")
    assert TrustStore((by_hex,)).vouching_source([cert]) == "hex (pinned)"


def test_a_damaged_pem_block_rejects_the_whole_list(pki) -> None:
    good = pki.root_cert.read_bytes()
    damaged = good + b"-----BEGIN CERTIFICATE-----\nMIIBroken==\n-----END CERTIFICATE-----\n"
    with pytest.raises(UsageError, match="PEM block 2 is not a valid certificate"):
        TrustSource.from_bytes(damaged, kind=SourceKind.ANCHORS, name="x")
    with pytest.raises(UsageError, match="no PEM certificates"):
        TrustSource.from_bytes(b"<html>not a list</html>", kind=SourceKind.ANCHORS, name="x")


def test_tsa_roots_never_vouch_for_signers(pki, tsa_identity) -> None:
    from cryptography import x509

    chain = x509.load_pem_x509_certificates(pki.chain.read_bytes())
    root = pki.root_cert.read_bytes()
    as_tsa = TrustStore((TrustSource.from_bytes(root, kind=SourceKind.TSA, name="tsa roots"),))
    assert as_tsa.vouching_source(chain) is None
    assert as_tsa.vouching_source(chain, kinds={SourceKind.TSA}) == "tsa roots"
    # both kinds go to c2pa-rs as anchors (it has one pool); provenance keeps them apart
    assert "BEGIN CERTIFICATE" in as_tsa.c2pa_settings()["trust"]["trust_anchors"]
    assert as_tsa.empty  # no signer trust at all
    tsa_source = TrustSource.from_bytes(
        pem(tsa_identity.root), kind=SourceKind.TSA, name="tsa", title="C2PA TSA trust list"
    )
    assert (
        TrustStore((tsa_source,)).vouching_source([tsa_identity.cert], kinds={SourceKind.TSA}) == "C2PA TSA trust list"
    )
