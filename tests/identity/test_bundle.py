"""Identities from an external CA: PKCS#12 and PEM, ordered and checked."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from provenance.errors import IdentityError, PassphraseError
from provenance.identity import certificates as certs
from provenance.identity.bundle import read_bundle, write_identity
from provenance.identity.keys import load_private_key, private_key_pem
from provenance.identity.signer import KeySigner
from tests.certfactory import MiniCA


@pytest.fixture(scope="module")
def ca() -> MiniCA:
    return MiniCA.make("External CA")


def _p12(path: Path, ca: MiniCA, passphrase: bytes | None) -> tuple[object, object]:
    key, leaf = ca.leaf()
    enc = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"jane", key, leaf, [ca.root, ca.issuing], enc))
    return key, leaf


def test_pkcs12_round_trip(ca: MiniCA, tmp_path: Path) -> None:
    key, leaf = _p12(tmp_path / "jane.p12", ca, b"p12 pass")
    bundle = read_bundle([tmp_path / "jane.p12"], passphrase=b"p12 pass")
    assert bundle.chain == (leaf, ca.issuing) and bundle.root == ca.root and bundle.encrypted
    layout = write_identity(bundle, tmp_path / "keys", passphrase=b"p12 pass")
    assert stat.S_IMODE(layout.signer_key.stat().st_mode) == 0o600
    assert certs.read_chain(layout.chain) == [leaf, ca.issuing]
    assert certs.read_chain(layout.root_cert) == [ca.root]
    signer = KeySigner.from_files(key=layout.signer_key, chain=layout.chain, passphrase=b"p12 pass")
    assert signer.certificate == leaf
    assert load_private_key(layout.signer_key, passphrase=b"p12 pass").public_key() == key.public_key()


def test_pkcs12_wrong_or_missing_passphrase(ca: MiniCA, tmp_path: Path) -> None:
    _p12(tmp_path / "jane.p12", ca, b"p12 pass")
    with pytest.raises(PassphraseError, match="wrong passphrase"):
        read_bundle([tmp_path / "jane.p12"], passphrase=b"nope")
    with pytest.raises(PassphraseError, match="needs a passphrase"):
        read_bundle([tmp_path / "jane.p12"])


def test_pem_files_in_any_order_give_an_ordered_chain(ca: MiniCA, tmp_path: Path) -> None:
    key, leaf = ca.leaf()
    (tmp_path / "certs.pem").write_bytes(certs.pem(ca.root, ca.issuing, leaf))  # root first, leaf last
    (tmp_path / "key.pem").write_bytes(private_key_pem(key, passphrase=b"k"))
    bundle = read_bundle([tmp_path / "certs.pem", tmp_path / "key.pem"], passphrase=b"k")
    assert bundle.chain == (leaf, ca.issuing) and bundle.root == ca.root and bundle.unused == 0


def test_key_without_its_certificate_is_refused(ca: MiniCA, tmp_path: Path) -> None:
    key, _ = ca.leaf()
    _, other_leaf = ca.leaf()
    (tmp_path / "k.pem").write_bytes(private_key_pem(key))
    (tmp_path / "c.pem").write_bytes(certs.pem(other_leaf, ca.issuing))
    with pytest.raises(IdentityError, match="no certificate .* belongs to the private key"):
        read_bundle([tmp_path / "k.pem", tmp_path / "c.pem"])
    with pytest.raises(IdentityError, match="no private key"):
        read_bundle([tmp_path / "c.pem"])
    (tmp_path / "junk.bin").write_bytes(b"\x00" * 40)
    with pytest.raises(IdentityError, match="neither a PKCS#12 file nor PEM"):
        read_bundle([tmp_path / "junk.bin"])


def test_repr_never_shows_key_material(ca: MiniCA, tmp_path: Path) -> None:
    _p12(tmp_path / "j.p12", ca, None)
    bundle = read_bundle([tmp_path / "j.p12"])
    assert "PRIVATE" not in repr(bundle) and "Test Creator" in repr(bundle)
