"""``provenance sign``: embed content credentials at publication."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from provenance.cli.common import console, keys_dir_option, passphrase_option
from provenance.cli.signers import open_signer, signer_options
from provenance.credentials.manifest import SourceType
from provenance.sign import sign as sign_clip


@click.command()
@click.argument("input", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Signed file to write (never the input).")
@click.option("--key", type=click.Path(path_type=Path, dir_okay=False), help="Private key (PEM).")
@click.option("--cert", type=click.Path(path_type=Path, dir_okay=False),
              help="Certificate chain (PEM): signer first, then intermediates, no root.")
@keys_dir_option
@passphrase_option
@signer_options
@click.option("--title", help="Title recorded in the manifest [default: the file name].")
@click.option("--author", help="Author recorded in the manifest [default: the certificate's CN].")
@click.option("--source", type=click.Choice([s.value for s in SourceType]), default="camera", show_default=True,
              help="How the content was made (the IPTC digital source type).")
@click.option("--tsa", "tsa_url", metavar="URL", envvar="PROVENANCE_TSA_URL",
              help="RFC 3161 time-stamp authority to time-stamp the signature [env: PROVENANCE_TSA_URL].")
@click.option("--flat-hash", is_flag=True,
              help="Bind MP4/MOV media with one flat hash instead of 1 MiB Merkle leaves "
                   "(for validators older than BMFF hash v3; costs ~550 MB RAM to sign and verify).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def sign(input: Path, output: Path, key: Path | None, cert: Path | None, keys_dir: Path | None,
         passphrase_env: str | None, title: str | None, author: str | None, source: str, tsa_url: str | None,
         flat_hash: bool, force: bool, as_json: bool, **backend: Any) -> None:
    """Sign INPUT (MP4, MOV, M4V or AVI) and write the signed copy to OUTPUT."""
    signer = open_signer(key=key, cert=cert, keys_dir=keys_dir, passphrase_env=passphrase_env, tsa_url=tsa_url,
                         **backend)
    with signer:
        result = sign_clip(input, output, signer=signer, title=title, author=author, source=SourceType(source),
                           force=force, flat_hash=flat_hash)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    kept = " (its previous credentials kept as parent)" if result.parent_manifest else ""
    console.print(f"[green]✓[/] signed {result.output} as {result.signer}{kept}")
    console.print(f"  manifest {result.manifest_id}")
    if result.timestamped_at:
        console.print(f"  time-stamped {result.timestamped_at} by {result.timestamp_authority}")
