"""Where a signing command (``sign``, ``transcode``, ``trim``, ``remux``)
gets its key: a key file (``--key``, or the keys folder), a PKCS#11 token
(``--pkcs11 URI``) or an external signing command (``--signer-command``,
for a cloud KMS); and the time-stamp authority (``--tsa``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from provenance.cli.common import keys_dir_option, load_signer, passphrase_option
from provenance.errors import UsageError
from provenance.identity.algorithms import SigningAlgorithm
from provenance.identity.certificates import read_chain
from provenance.identity.external import DEFAULT_TIMEOUT, ExternalSigner
from provenance.identity.signer import Signer

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = [
    click.option("--key", type=click.Path(path_type=Path, dir_okay=False), help="Private key (PEM) of the signer."),
    click.option("--cert", type=click.Path(path_type=Path, dir_okay=False),
                 help="Certificate chain (PEM): signer first, then intermediates, no root."),
    keys_dir_option,
    passphrase_option,
    click.option("--pkcs11", "pkcs11_uri", metavar="URI",
                 help="Sign with a key in a PKCS#11 token (RFC 7512 URI, e.g. "
                 "'pkcs11:token=newsroom;object=jane?module-path=/usr/lib/softhsm/libsofthsm2.so'); needs --cert."),
    click.option("--pkcs11-module", metavar="PATH",
                 help="PKCS#11 library when the URI has no module-path [default: $PROVENANCE_PKCS11_MODULE]."),
    click.option("--pin-env", metavar="VAR",
                 help="Read the token PIN from environment variable VAR (else the URI's pin-value/pin-source, "
                 "else a prompt on a terminal)."),
    click.option("--signer-command", metavar="CMD",
                 help="Sign by running CMD (e.g. a cloud KMS client): bytes to sign on stdin, raw signature on "
                 "stdout, algorithm in $PROVENANCE_SIGN_ALG; needs --cert."),
    click.option("--signer-timeout", type=click.FloatRange(min=0.1), default=DEFAULT_TIMEOUT, show_default=True,
                 help="Seconds to wait for --signer-command."),
    click.option("--alg", "alg", type=click.Choice([a.value for a in SigningAlgorithm]), default=None,
                 help="Signature algorithm for --pkcs11 / --signer-command [default: from the certificate's key; "
                 "RSA keys sign with ps256]."),
    click.option("--tsa", "tsa_url", metavar="URL", envvar="PROVENANCE_TSA_URL",
                 help="RFC 3161 time-stamp authority to time-stamp the signature [env: PROVENANCE_TSA_URL]."),
]
# The keyword arguments the options above give the command, all taken by open_signer.
SIGNER_PARAMS = ("key", "cert", "keys_dir", "passphrase_env", "pkcs11_uri", "pkcs11_module", "pin_env",
                 "signer_command", "signer_timeout", "alg", "tsa_url")


def signer_options(f: F) -> F:
    """The options that choose the signing identity, shared by every command
    that signs: ``--key``/``--cert`` or the keys folder, ``--pkcs11``,
    ``--signer-command``, and ``--tsa``."""
    for option in reversed(_OPTIONS):
        f = option(f)
    return f


def signer_from_options(kw: dict[str, Any]) -> Signer:
    """Open the signer that :func:`signer_options` describe, taking its
    options out of the command's keyword arguments *kw* (``keys_dir`` is
    left in: the trust of an edit uses it too)."""
    options = {name: kw.pop(name) for name in SIGNER_PARAMS if name != "keys_dir"}
    return open_signer(keys_dir=kw.get("keys_dir"), **options)


def open_signer(
    *,
    key: Path | None,
    cert: Path | None,
    keys_dir: Path | None,
    passphrase_env: str | None,
    pkcs11_uri: str | None = None,
    pkcs11_module: str | None = None,
    pin_env: str | None = None,
    signer_command: str | None = None,
    signer_timeout: float = DEFAULT_TIMEOUT,
    alg: str | None = None,
    tsa_url: str | None = None,
) -> Signer:
    """The signer the options ask for; close it after use."""
    chosen = [name for name, value in (("--key", key), ("--pkcs11", pkcs11_uri), ("--signer-command", signer_command)) if value]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} exclude each other", hint="choose one place for the private key")
    if not (pkcs11_uri or signer_command):
        if alg or pin_env or pkcs11_module:
            used = "--alg" if alg else ("--pin-env" if pin_env else "--pkcs11-module")
            raise UsageError(f"{used} applies to --pkcs11 or --signer-command", hint="drop it, or add --pkcs11 URI")
        return load_signer(key=key, cert=cert, keys_dir=keys_dir, passphrase_env=passphrase_env, tsa_url=tsa_url)
    if cert is None:
        raise UsageError(f"{chosen[0]} needs --cert", hint="give the PEM chain of the key: signer certificate first, then intermediates")
    chain = read_chain(cert)
    algorithm = SigningAlgorithm(alg) if alg else None
    if signer_command:
        return ExternalSigner(signer_command, chain=chain, alg=algorithm, timeout=signer_timeout, tsa_url=tsa_url)
    from provenance.identity.pkcs11 import Pkcs11Signer, Pkcs11Uri

    uri = Pkcs11Uri.parse(pkcs11_uri or "")
    pin = token_pin(uri, pin_env)
    return Pkcs11Signer.open(uri, chain=chain, module=pkcs11_module, pin=pin, alg=algorithm, tsa_url=tsa_url)


def token_pin(uri: Any, pin_env: str | None) -> str | None:
    """The token PIN: from $VAR, else the URI's own, else a prompt on a terminal."""
    if pin_env:
        value = os.environ.get(pin_env)
        if value is None:
            raise UsageError(f"environment variable {pin_env} is not set", hint=f"export {pin_env}=... or drop --pin-env")
        return value
    if uri.pin_value is None and uri.pin_source is None and sys.stdin.isatty():
        return str(click.prompt(f"PIN for token {uri.token or uri.describe()}", hide_input=True))
    return None
