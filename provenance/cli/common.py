"""Options and helpers shared by the commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from provenance.errors import PassphraseError, UsageError
from provenance.text import MESSAGE_LIMIT, inert_markup
from provenance.trust.assembly import assemble_trust
from provenance.trust.store import TrustStore

if TYPE_CHECKING:  # the identity modules load when a command signs, not for verify
    from rich.console import Console

    from provenance.identity.factories import KeyFileSignerFactory, SecretSource
    from provenance.identity.signer import Signer

# No highlighting and no :emoji: codes: text from files is printed as it
# is (after provenance.text.inert), never restyled.
# Piped to a file or a program, rich would wrap at 80 columns mid-sentence;
# there is no terminal to fit then, so lines keep their length ($COLUMNS
# still sets a width).


def _stdout_console() -> Console:
    from rich.console import Console

    piped_width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 1000
    return Console(highlight=False, emoji=False, width=piped_width)


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False, soft_wrap=not sys.stderr.isatty())


class _LazyConsole:
    """A rich Console made on first use: `verify --json` of one clip prints
    with json and never pays for importing rich (~20 ms of start-up)."""

    def __init__(self, make: Callable[[], Console]) -> None:
        self._make = make
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        """The Console itself, for rich APIs that take one (Progress, Live)."""
        if self._console is None:
            self._console = self._make()
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


console: Console = _LazyConsole(_stdout_console)  # type: ignore[assignment]
console_err: Console = _LazyConsole(_stderr_console)  # type: ignore[assignment]


def real_console(lazy: Console) -> Console:
    """The rich Console behind :data:`console` or :data:`console_err`, for
    rich APIs that keep a Console (Progress, Live)."""
    return lazy.real if isinstance(lazy, _LazyConsole) else lazy


F = TypeVar("F", bound=Callable[..., Any])


def service_trust_options(f: F) -> F:
    """The trust options of a long-running command (serve, worker), each
    also read from its PROVENANCE_* environment variable: anchors,
    pinned certificates, TSA roots, the store folder, --no-trust-store."""
    decorated: Any = f
    for option in reversed(_SERVICE_TRUST_OPTIONS):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


_SERVICE_TRUST_OPTIONS = [
    click.option(
        "--trust",
        "anchors",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="PROVENANCE_TRUST",
        help="PEM file of trust anchors, added to the trust store. Repeatable [env PROVENANCE_TRUST, ':'-separated].",
    ),
    click.option(
        "--allowed",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="PROVENANCE_ALLOWED",
        help="PEM file of pinned end-entity certificates. Repeatable [env PROVENANCE_ALLOWED].",
    ),
    click.option(
        "--tsa-trust",
        "tsa",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="PROVENANCE_TSA_TRUST",
        help="PEM file of time-stamping authority roots, trusted for signing times only. "
        "Repeatable [env PROVENANCE_TSA_TRUST].",
    ),
    click.option(
        "--trust-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Trust store folder [default: $PROVENANCE_TRUST_DIR or the user config dir].",
    ),
    click.option("--no-trust-store", is_flag=True, help="Ignore the trust store; use only the files given here."),
]


def passphrase_option(f: F) -> F:
    return click.option(
        "--passphrase-env",
        metavar="VAR",
        help="Read the private key passphrase from environment variable VAR "
        "(otherwise you are prompted when the key is encrypted and a terminal is attached).",
    )(f)


def keys_dir_option(f: F) -> F:
    return click.option(
        "--keys-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Development PKI folder [default: $PROVENANCE_KEYS_DIR or ./keys].",
    )(f)


def build_trust(
    *,
    anchors: tuple[Path, ...] = (),
    allowed: tuple[Path, ...] = (),
    tsa: tuple[Path, ...] = (),
    trust_dir: Path | None = None,
    use_store: bool = True,
) -> TrustStore:
    """The trust store of a command: the persistent store (unless
    --no-trust-store) plus --trust/--allowed/--tsa-trust files; a
    registered source that cannot be used is a warning on stderr."""
    assembled = assemble_trust(anchors=anchors, allowed=allowed, tsa=tsa, trust_dir=trust_dir, use_store=use_store)
    for problem in assembled.problems:
        console_err.print(f"[yellow]warning:[/] {inert_markup(problem, limit=MESSAGE_LIMIT)}", soft_wrap=True)
    return assembled.store


def passphrase_from_env(var: str | None) -> bytes | None:
    if not var:
        return None
    value = os.environ.get(var)
    if value is None:
        raise UsageError(f"environment variable {var} is not set", hint=f"export {var}=... or drop --passphrase-env")
    return value.encode()


def key_passphrase(key: Path, env_var: str | None) -> bytes | None:
    """The passphrase for *key*: from the environment, or a prompt when the
    key is encrypted and a terminal is attached."""
    source = passphrase_source(key, env_var)
    return source.read().encode() if source is not None else None


def passphrase_source(key: Path, env_var: str | None) -> SecretSource | None:
    """Where the passphrase for *key* comes from: the environment variable
    (checked now, read again by whoever opens the key), or a prompt when the
    key is encrypted and a terminal is attached."""
    from provenance.identity.factories import SecretSource
    from provenance.identity.keys import is_encrypted

    if env_var:
        passphrase_from_env(env_var)  # refuse an unset variable now, before any work
        return SecretSource(env=env_var)
    try:
        encrypted = is_encrypted(key.read_bytes()[:64])
    except OSError:
        return None  # load_private_key reports the real problem
    if encrypted and sys.stdin.isatty():
        return SecretSource(value=str(click.prompt(f"Passphrase for {key}", hide_input=True)))
    if encrypted:
        raise PassphraseError(
            f"{key}: private key is encrypted and no passphrase was given",
            hint="pass --passphrase-env VAR (no terminal to prompt on)",
        )
    return None


def load_signer(
    *,
    key: Path | None,
    cert: Path | None,
    keys_dir: Path | None,
    passphrase_env: str | None,
    tsa_url: str | None = None,
) -> Signer:
    """A signer from --key/--cert, or from the development PKI folder."""
    return key_signer_factory(key=key, cert=cert, keys_dir=keys_dir, passphrase_env=passphrase_env, tsa_url=tsa_url)()


def key_signer_factory(
    *,
    key: Path | None,
    cert: Path | None,
    keys_dir: Path | None,
    passphrase_env: str | None,
    tsa_url: str | None = None,
) -> KeyFileSignerFactory:
    """A picklable factory that opens the key-file signer: what batch worker
    processes get (a loaded key never crosses processes; each worker opens
    it once). A passphrase is asked for here, once, when needed."""
    from provenance.identity import pki as dev_pki
    from provenance.identity.factories import KeyFileSignerFactory

    pki = dev_pki.DevPKI(keys_dir or dev_pki.default_keys_dir())
    if (key is None) != (cert is None):
        raise UsageError("--key and --cert go together", hint="give both, or neither to use the development PKI")
    if key is None or cert is None:
        if not pki.exists():
            raise UsageError(
                f"no signing identity: {pki.directory} has no development PKI",
                hint="run 'provenance keys init' or pass --key and --cert",
            )
        key, cert = pki.signer_key, pki.chain
    return KeyFileSignerFactory(key=key, chain=cert, passphrase=passphrase_source(key, passphrase_env), tsa_url=tsa_url)
