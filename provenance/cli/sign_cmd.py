"""``provenance sign``: embed content credentials at publication."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from provenance.cli.common import console
from provenance.cli.signers import signer_from_options, signer_options
from provenance.credentials.manifest import SourceType
from provenance.errors import UsageError
from provenance.sign import sign as sign_clip
from provenance.sign import sign_remuxed, sign_sidecar


@click.command()
@click.argument("input", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Signed file to write (never the input); with --sidecar, the sidecar [default: NAME.c2pa].")
@signer_options
@click.option("--title", help="Title recorded in the manifest [default: the file name].")
@click.option("--author", help="Author recorded in the manifest [default: the certificate's CN].")
@click.option("--source", type=click.Choice([s.value for s in SourceType]), default="camera", show_default=True,
              help="How the content was made (the IPTC digital source type).")
@click.option("--flat-hash", is_flag=True,
              help="Bind MP4/MOV media with one flat hash instead of 1 MiB Merkle leaves "
                   "(for validators older than BMFF hash v3; costs ~550 MB RAM to sign and verify).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--sidecar", is_flag=True,
              help="Leave INPUT unchanged and write its manifest to a sidecar file (NAME.c2pa), bound by a data hash. "
                   "Any file type: WebM and MKV too.")
@click.option("--remux", is_flag=True,
              help="Copy INPUT's streams (e.g. WebM, MKV) into the container OUTPUT names (.mp4) and embed there.")
def sign(input: Path, output: Path | None, title: str | None, author: str | None, source: str, flat_hash: bool,
         force: bool, as_json: bool, sidecar: bool, remux: bool, **signing: Any) -> None:
    """Sign INPUT (MP4, MOV, M4V or AVI) and write the signed copy to OUTPUT.

    WebM and MKV cannot embed credentials: sign them with --sidecar, or
    --remux them into MP4.
    """
    if sidecar and remux:
        raise UsageError("--sidecar and --remux exclude each other", hint="choose one")
    if sidecar and flat_hash:
        raise UsageError("--flat-hash applies to embedded MP4/MOV credentials",
                         hint="drop it: a sidecar is bound to the clip by a data hash of every byte")
    if output is None and not sidecar:
        raise UsageError("missing -o/--output", hint="name the signed file to write (or use --sidecar)")
    options: dict[str, Any] = {"title": title, "author": author, "source": SourceType(source), "force": force}
    with signer_from_options(signing) as signer:
        if sidecar or output is None:
            result = sign_sidecar(input, output, signer=signer, **options)
        elif remux:
            result = sign_remuxed(input, output, signer=signer, flat_hash=flat_hash, **options)
        else:
            result = sign_clip(input, output, signer=signer, flat_hash=flat_hash, **options)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    kept = " (its previous credentials kept as parent)" if result.parent_manifest else ""
    if result.mode == "sidecar":
        console.print(f"[green]✓[/] signed {result.input} as {result.signer}{kept}; the clip is unchanged, "
                      f"its credentials are in the sidecar {result.output}")
    else:
        console.print(f"[green]✓[/] signed {result.output} as {result.signer}{kept}")
    console.print(f"  manifest {result.manifest_id}")
    if result.timestamped_at:
        console.print(f"  time-stamped {result.timestamped_at} by {result.timestamp_authority}")
