import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.errors import IdentityError, InsecureKeyError, PassphraseError
from provenance.identity.keys import load_private_key, write_private_key
from provenance.identity.signer import KeySigner


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "k.key"
    write_private_key(path, ec.generate_private_key(ec.SECP256R1()), passphrase=b"correct horse")
    return path


def test_encrypted_key_needs_the_right_passphrase(key_file: Path) -> None:
    assert b"ENCRYPTED" in key_file.read_bytes()
    assert isinstance(load_private_key(key_file, passphrase=b"correct horse"), ec.EllipticCurvePrivateKey)
    with pytest.raises(PassphraseError, match="wrong passphrase"):
        load_private_key(key_file, passphrase=b"wrong")
    with pytest.raises(PassphraseError, match="no passphrase"):
        load_private_key(key_file)


def test_world_readable_key_is_refused_like_ssh(key_file: Path) -> None:
    os.chmod(key_file, 0o644)
    with pytest.raises(InsecureKeyError) as err:
        load_private_key(key_file, passphrase=b"correct horse")
    assert "chmod 600" in err.value.diagnostics()


def test_key_must_match_the_certificate(pki, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    write_private_key(other, ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(IdentityError, match="does not match"):
        KeySigner.from_files(key=other, chain=pki.chain)


def test_signer_repr_never_shows_key_material(signer) -> None:
    assert "PRIVATE" not in repr(signer) and "Jane Doe" in repr(signer)
