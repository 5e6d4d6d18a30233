"""``provenance keys``: signing identities."""

from __future__ import annotations

from pathlib import Path

import click

from provenance.cli.common import console, passphrase_from_env
from provenance.errors import UsageError
from provenance.identity.algorithms import SigningAlgorithm
from provenance.identity.certificates import Subject
from provenance.identity.pki import default_keys_dir, init_dev_pki

DEFAULT_NAME = "Demo Creator"
DEFAULT_ORG = "Provenance Demo Newsroom"
DEFAULT_COUNTRY = "US"


@click.group()
def keys() -> None:
    """Create and manage signing identities."""


@keys.command("init")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where to write the PKI [default: $PROVENANCE_KEYS_DIR or ./keys].")
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="Creator common name (CN).")
@click.option("--org", default=DEFAULT_ORG, show_default=True, help="Organisation (O).")
@click.option("--country", default=DEFAULT_COUNTRY, show_default=True, help="Two-letter country code (C).")
@click.option("--email", default=None, help="Creator e-mail, added as a subjectAltName.")
@click.option("--alg", type=click.Choice([a.value for a in SigningAlgorithm if a.value in
              ("es256", "es384", "es512", "ps256", "ed25519")]), default="es256", show_default=True,
              help="Signature algorithm of the creator key.")
@click.option("--passphrase-env", metavar="VAR", help="Encrypt the private keys with the passphrase in $VAR.")
@click.option("--encrypt", is_flag=True, help="Prompt for a passphrase to encrypt the private keys.")
@click.option("--force", is_flag=True, help="Replace an existing PKI.")
def init(directory: Path | None, name: str, org: str, country: str, email: str | None, alg: str,
         passphrase_env: str | None, encrypt: bool, force: bool) -> None:
    """Write a development PKI: root CA, issuing CA and a creator
    claim-signing certificate (C2PA leaf profile). Private keys are 0600."""
    if len(country) != 2 or not country.isalpha():
        raise UsageError(f"--country {country!r} is not a two-letter code", hint="use an ISO 3166 code such as US or GB")
    passphrase = passphrase_from_env(passphrase_env)
    if encrypt and passphrase is None:
        passphrase = click.prompt("Passphrase for the new keys", hide_input=True, confirmation_prompt=True).encode()
    directory = directory or default_keys_dir()
    pki = init_dev_pki(directory, subject=Subject(name, org, country.upper(), email=email),
                       alg=SigningAlgorithm(alg), passphrase=passphrase, force=force)
    console.print(f"[green]✓[/] development PKI written to {pki.directory}/")
    console.print(f"  signer      {pki.signer_cert.name}  CN={name}, O={org}, C={country.upper()} ({alg})")
    console.print(f"  chain       {pki.chain.name}  (signer + issuing CA, what gets embedded)")
    console.print(f"  trust root  {pki.root_cert.name}  (give this to verifiers: --trust {pki.root_cert})")
    console.print(f"  keys        *.key, mode 0600{', encrypted' if passphrase else ''}")
