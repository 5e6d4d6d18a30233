"""Signer factories: what batch worker processes get instead of a signer.
They pickle, carry secrets by name where they can, and open real signers."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from provenance.errors import UsageError
from provenance.identity import certificates as certs
from provenance.identity.factories import (
    CommandSignerFactory,
    KeyFileSignerFactory,
    Pkcs11SignerFactory,
    SecretSource,
)
from provenance.identity.keys import write_private_key
from provenance.identity.pki import DevPKI
from provenance.identity.signer import KeySigner


def test_key_file_factory_pickles_and_opens_the_signer(pki: DevPKI) -> None:
    factory = pickle.loads(pickle.dumps(KeyFileSignerFactory(key=pki.signer_key, chain=pki.chain, tsa_url="http://t")))
    with factory() as signer:
        assert isinstance(signer, KeySigner) and signer.tsa_url == "http://t"
        assert signer.certificate == certs.read_chain(pki.chain)[0]


def test_a_passphrase_travels_as_the_variable_name(
    pki: DevPKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(pki.signer_key.read_bytes(), password=None)
    encrypted = tmp_path / "signer.key"
    write_private_key(encrypted, key, passphrase=b"correct horse")  # type: ignore[arg-type]
    factory = KeyFileSignerFactory(key=encrypted, chain=pki.chain, passphrase=SecretSource(env="KEY_PASS"))
    wire = pickle.dumps(factory)
    assert b"correct horse" not in wire and b"KEY_PASS" in wire
    monkeypatch.setenv("KEY_PASS", "correct horse")
    with pickle.loads(wire)() as signer:
        assert signer.certificate == certs.read_chain(pki.chain)[0]
    monkeypatch.delenv("KEY_PASS")
    with pytest.raises(UsageError, match="KEY_PASS is not set"):
        factory()


def test_a_typed_secret_is_never_shown() -> None:
    typed = SecretSource(value="1234")
    assert "1234" not in repr(typed) and typed.read() == "1234"
    with pytest.raises(ValueError):
        SecretSource()
    with pytest.raises(ValueError):
        SecretSource(env="X", value="y")


def test_token_and_command_factories_pickle_without_secrets(pki: DevPKI) -> None:
    chain = tuple(certs.read_chain(pki.chain))
    token = Pkcs11SignerFactory("pkcs11:token=t;object=k?pin-value=9876", chain=chain, pin=SecretSource(env="PIN"))
    assert "9876" not in repr(token)
    assert pickle.loads(pickle.dumps(token)) == token
    command = CommandSignerFactory("kms-sign --key alias/x", chain=chain, timeout=5)
    assert pickle.loads(pickle.dumps(command)) == command
