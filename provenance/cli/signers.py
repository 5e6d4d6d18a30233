"""Where a signing command (``sign``, ``transcode``, ``trim``, ``remux``)
gets its key: a key file (``--key``, or the keys folder), a PKCS#11 token
(``--pkcs11 URI``) or an external signing command (``--signer-command``,
for a cloud KMS); and the time-stamp authority (``--tsa``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from provenance.cli.common import key_signer_factory, keys_dir_option, passphrase_option
from provenance.errors import UsageError
from provenance.identity.algorithms import SigningAlgorithm
from provenance.identity.certificates import read_chain
from provenance.identity.external import DEFAULT_TIMEOUT
from provenance.identity.factories import (
    CommandSignerFactory,
    Pkcs11SignerFactory,
    SecretSource,
    SignerFactory,
)
from provenance.identity.signer import Signer

F = TypeVar("F", bound=Callable[..., Any])


def _options(env: Mapping[str, str]) -> list[Callable[[F], F]]:
    """The signer options; *env* maps a parameter name to the environment
    variable that may give it (``provenance serve`` reads its identity so)."""

    def envvar(name: str, text: str) -> dict[str, Any]:
        if name not in env:
            return {"help": text}
        return {"help": f"{text} [env: {env[name]}]", "envvar": env[name]}

    return [
        click.option(
            "--key",
            type=click.Path(path_type=Path, dir_okay=False),
            **envvar("key", "Private key (PEM) of the signer."),
        ),
        click.option(
            "--cert",
            type=click.Path(path_type=Path, dir_okay=False),
            **envvar("cert", "Certificate chain (PEM): signer first, then intermediates, no root."),
        ),
        keys_dir_option,
        passphrase_option,
        click.option(
            "--pkcs11",
            "pkcs11_uri",
            metavar="URI",
            **envvar(
                "pkcs11_uri",
                "Sign with a key in a PKCS#11 token (RFC 7512 URI, e.g. "
                "'pkcs11:token=newsroom;object=jane?module-path=/usr/lib/softhsm/libsofthsm2.so'); needs --cert.",
            ),
        ),
        click.option(
            "--pkcs11-module",
            metavar="PATH",
            help="PKCS#11 library when the URI has no module-path [default: $PROVENANCE_PKCS11_MODULE].",
        ),
        click.option(
            "--pin-env",
            metavar="VAR",
            help="Read the token PIN from environment variable VAR (else the URI's pin-value/pin-source, "
            "else a prompt on a terminal).",
        ),
        click.option(
            "--signer-command",
            metavar="CMD",
            **envvar(
                "signer_command",
                "Sign by running CMD (e.g. a cloud KMS client): bytes to sign on stdin, raw "
                "signature on stdout, algorithm in $PROVENANCE_SIGN_ALG; needs --cert.",
            ),
        ),
        click.option(
            "--signer-timeout",
            type=click.FloatRange(min=0.1),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            help="Seconds to wait for --signer-command.",
        ),
        click.option(
            "--alg",
            "alg",
            type=click.Choice([a.value for a in SigningAlgorithm]),
            default=None,
            help="Signature algorithm for --pkcs11 / --signer-command [default: from the certificate's key; "
            "RSA keys sign with ps256].",
        ),
        click.option(
            "--tsa",
            "tsa_url",
            metavar="URL",
            envvar="PROVENANCE_TSA_URL",
            help="RFC 3161 time-stamp authority to time-stamp the signature [env: PROVENANCE_TSA_URL].",
        ),
        # -- the signer's OCSP status (revocation) --
        click.option(
            "--ocsp",
            "ocsp",
            is_flag=True,
            help="Fetch the signer certificate's OCSP status from the responder its AIA names and attach it "
            "to the manifest, so the proof travels with the clip; a revoked certificate is refused.",
        ),
        click.option(
            "--ocsp-response",
            "ocsp_response",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Attach this DER OCSP response about the signer (e.g. from 'keys ca ocsp-response') "
            "instead of fetching one.",
        ),
    ]


# The keyword arguments the options above give the command, all taken by open_signer.
SIGNER_PARAMS = (
    "key",
    "cert",
    "keys_dir",
    "passphrase_env",
    "pkcs11_uri",
    "pkcs11_module",
    "pin_env",
    "signer_command",
    "signer_timeout",
    "alg",
    "tsa_url",
    "ocsp",
    "ocsp_response",
)


def signer_options(f: F) -> F:
    """The options that choose the signing identity, shared by every command
    that signs: ``--key``/``--cert`` or the keys folder, ``--pkcs11``,
    ``--signer-command``, and ``--tsa``."""
    for option in reversed(_options({})):
        f = option(f)
    return f


# The signer options of a long-running command (serve, worker) and the
# environment variables each may also come from.
SERVICE_SIGNER_ENV = {
    "key": "PROVENANCE_SIGNING_KEY",
    "cert": "PROVENANCE_SIGNING_CERT",
    "pkcs11_uri": "PROVENANCE_SIGNING_PKCS11",
    "signer_command": "PROVENANCE_SIGNING_COMMAND",
}


def signer_options_from_env(env: Mapping[str, str]) -> Callable[[F], F]:
    """:func:`signer_options`, where the options named in *env* may also come
    from those environment variables (``{"key": "PROVENANCE_SIGNING_KEY"}``)."""

    def decorate(f: F) -> F:
        for option in reversed(_options(env)):
            f = option(f)
        return f

    return decorate


def signer_from_options(kw: dict[str, Any]) -> Signer:
    """Open the signer that :func:`signer_options` describe, taking its
    options out of the command's keyword arguments *kw* (``keys_dir`` is
    left in: the trust of an edit uses it too)."""
    return factory_from_options(kw)()


def factory_from_options(kw: dict[str, Any]) -> SignerFactory:
    """Like :func:`signer_from_options`, but the picklable factory that opens
    the signer (for worker processes, each of which opens its own)."""
    options = {name: kw.pop(name) for name in SIGNER_PARAMS if name != "keys_dir"}
    return signer_factory(keys_dir=kw.get("keys_dir"), **options)


def open_signer(**options: Any) -> Signer:
    """The signer the options ask for (see :func:`signer_factory`); close it
    after use (``with open_signer(...) as signer:``)."""
    return signer_factory(**options)()


def signer_factory(
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
    ocsp: bool = False,
    ocsp_response: Path | None = None,
) -> SignerFactory:
    """:func:`_signer_factory`; with *ocsp* or *ocsp_response*, its signer
    carries the checked OCSP status of its certificate (fetched once here,
    for every worker)."""
    factory = _signer_factory(
        key=key,
        cert=cert,
        keys_dir=keys_dir,
        passphrase_env=passphrase_env,
        pkcs11_uri=pkcs11_uri,
        pkcs11_module=pkcs11_module,
        pin_env=pin_env,
        signer_command=signer_command,
        signer_timeout=signer_timeout,
        alg=alg,
        tsa_url=tsa_url,
    )
    if not ocsp and ocsp_response is None:
        return factory
    if ocsp and ocsp_response is not None:
        raise UsageError("--ocsp and --ocsp-response exclude each other", hint="fetch the status, or give one")
    from provenance.identity import ocsp as revocation_status
    from provenance.identity.factories import StatusAttachedFactory, factory_chain

    response = _read_response(ocsp_response) if ocsp_response is not None else None
    status = revocation_status.usable_status(factory_chain(factory), response=response, source=str(ocsp_response or ""))
    return StatusAttachedFactory(factory, status.der)


def _read_response(path: Path) -> bytes:
    from provenance._files import open_input
    from provenance.errors import InputError
    from provenance.identity.ocsp import MAX_RESPONSE_BYTES

    with open_input(path) as fh:  # a regular file only: never blocks on a FIFO
        try:
            data = fh.read(MAX_RESPONSE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror})", hint="check the path") from None
    if len(data) > MAX_RESPONSE_BYTES:
        raise InputError(f"{path}: too large for an OCSP response", hint="give a DER OCSP response")
    return data


def _signer_factory(
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
) -> SignerFactory:
    """A picklable factory for the signer the options ask for: a key file
    (or the development PKI), a PKCS#11 token, or a signer command. The
    options are checked, the chain read and any prompt answered here, once;
    a PIN or passphrase from ``--pin-env``/``--passphrase-env`` travels as
    the variable's name, never its value."""
    chosen = [
        name
        for name, value in (("--key", key), ("--pkcs11", pkcs11_uri), ("--signer-command", signer_command))
        if value
    ]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} exclude each other", hint="choose one place for the private key")
    if not (pkcs11_uri or signer_command):
        if alg or pin_env or pkcs11_module:
            used = "--alg" if alg else ("--pin-env" if pin_env else "--pkcs11-module")
            raise UsageError(f"{used} applies to --pkcs11 or --signer-command", hint="drop it, or add --pkcs11 URI")
        return key_signer_factory(key=key, cert=cert, keys_dir=keys_dir, passphrase_env=passphrase_env, tsa_url=tsa_url)
    if cert is None:
        raise UsageError(
            f"{chosen[0]} needs --cert",
            hint="give the PEM chain of the key: signer certificate first, then intermediates",
        )
    chain = tuple(read_chain(cert))
    algorithm = SigningAlgorithm(alg) if alg else None
    if signer_command:
        return CommandSignerFactory(signer_command, chain=chain, alg=algorithm, timeout=signer_timeout, tsa_url=tsa_url)
    from provenance.identity.pkcs11 import Pkcs11Uri

    uri = Pkcs11Uri.parse(pkcs11_uri or "")
    return Pkcs11SignerFactory(
        pkcs11_uri or "",
        chain=chain,
        module=pkcs11_module,
        pin=pin_source(uri, pin_env),
        alg=algorithm,
        tsa_url=tsa_url,
    )


def token_pin(uri: Any, pin_env: str | None) -> str | None:
    """The token PIN: from $VAR, else the URI's own (``None`` here), else a
    prompt on a terminal."""
    source = pin_source(uri, pin_env)
    return source.read() if source is not None else None


def pin_source(uri: Any, pin_env: str | None) -> SecretSource | None:
    """Where the token PIN comes from: $VAR (checked now), else the URI's own
    (``None`` here), else a prompt on a terminal."""
    if pin_env:
        if os.environ.get(pin_env) is None:
            raise UsageError(
                f"environment variable {pin_env} is not set", hint=f"export {pin_env}=... or drop --pin-env"
            )
        return SecretSource(env=pin_env)
    if uri.pin_value is None and uri.pin_source is None and sys.stdin.isatty():
        return SecretSource(value=str(click.prompt(f"PIN for token {uri.token or uri.describe()}", hide_input=True)))
    return None
