"""Signer factories: picklable descriptions of where a signing key lives,
that open the signer when called.

A loaded signer never crosses a process boundary (a private key in memory,
or a logged-in token session, must not be pickled). What a process pool
gets instead is one of these: each worker calls it once and signs every
file it is given with the signer it opened.

Secrets are described, not carried, whenever they can be: a passphrase or
PIN read from an environment variable travels as the variable's *name*,
and each worker reads it from its own environment. Only a secret typed at
a prompt (there is no other place to get it from) travels as its value,
over the pipe to the worker, and it is never shown by ``repr``.

>>> factory = KeyFileSignerFactory(key=Path("keys/signer.key"), chain=Path("keys/chain.pem"))  # doctest: +SKIP
>>> with factory() as signer:  # doctest: +SKIP
...     sign("clip.mp4", "out.mp4", signer=signer)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from cryptography import x509

from provenance.errors import UsageError
from provenance.identity.algorithms import SigningAlgorithm
from provenance.identity.external import DEFAULT_TIMEOUT, ExternalSigner
from provenance.identity.signer import KeySigner, Signer

SignerFactory: TypeAlias = Callable[[], Signer]


@dataclass(frozen=True)
class SecretSource:
    """Where a passphrase or PIN comes from: the environment variable *env*
    (read when needed, in whichever process needs it), or a *value* typed
    at a prompt."""

    env: str | None = None
    value: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.env is None) == (self.value is None):
            raise ValueError("a SecretSource is an environment variable or a value, exactly one")

    def read(self) -> str:
        if self.value is not None:
            return self.value
        assert self.env is not None
        value = os.environ.get(self.env)
        if value is None:
            raise UsageError(
                f"environment variable {self.env} is not set in this process",
                hint=f"export {self.env}=... before starting (worker processes read it too)",
            )
        return value


@dataclass(frozen=True)
class KeyFileSignerFactory:
    """Opens a :class:`KeySigner` from a PEM private key and its chain."""

    key: Path
    chain: Path
    passphrase: SecretSource | None = None
    tsa_url: str | None = None

    def __call__(self) -> Signer:
        passphrase = self.passphrase.read().encode() if self.passphrase is not None else None
        return KeySigner.from_files(key=self.key, chain=self.chain, passphrase=passphrase, tsa_url=self.tsa_url)


@dataclass(frozen=True)
class Pkcs11SignerFactory:
    """Opens a :class:`~provenance.identity.pkcs11.Pkcs11Signer`: logs in to
    the token named by *uri* (RFC 7512) with *pin* (else the URI's own
    ``pin-value``/``pin-source``). Every worker opens a session of its own."""

    uri: str
    chain: tuple[x509.Certificate, ...]
    module: str | None = None
    pin: SecretSource | None = None
    alg: SigningAlgorithm | None = None
    tsa_url: str | None = None

    def __call__(self) -> Signer:
        from provenance.identity.pkcs11 import Pkcs11Signer

        pin = self.pin.read() if self.pin is not None else None
        return Pkcs11Signer.open(
            self.uri, chain=list(self.chain), module=self.module, pin=pin, alg=self.alg, tsa_url=self.tsa_url
        )

    def __repr__(self) -> str:
        from provenance.identity.pkcs11 import Pkcs11Uri

        return f"Pkcs11SignerFactory({Pkcs11Uri.parse(self.uri).describe()!r})"  # never the URI's pin-value


@dataclass(frozen=True)
class CommandSignerFactory:
    """Opens an :class:`~provenance.identity.external.ExternalSigner` that
    runs *command* for each signature (a cloud KMS client, say)."""

    command: str
    chain: tuple[x509.Certificate, ...]
    alg: SigningAlgorithm | None = None
    timeout: float = DEFAULT_TIMEOUT
    tsa_url: str | None = None

    def __call__(self) -> Signer:
        return ExternalSigner(
            self.command, chain=list(self.chain), alg=self.alg, timeout=self.timeout, tsa_url=self.tsa_url
        )


@dataclass(frozen=True)
class StatusAttachedFactory:
    """Opens *inner*'s signer carrying *ocsp_response*, the checked OCSP
    answer about its certificate, fetched once for every worker."""

    inner: SignerFactory
    ocsp_response: bytes = field(repr=False)

    def __call__(self) -> Signer:
        signer = self.inner()
        signer.ocsp_response = self.ocsp_response
        return signer


def factory_chain(factory: SignerFactory) -> list[x509.Certificate]:
    """The certificate chain a factory's signer will use, without opening it."""
    from provenance.identity.certificates import read_chain

    chain = getattr(factory, "chain", None)
    if isinstance(chain, Path):
        return read_chain(chain)
    if isinstance(chain, tuple):
        return list(chain)
    with factory() as signer:  # another kind of factory: open it once to learn its chain
        return list(signer.chain)
