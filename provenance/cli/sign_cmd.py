"""``provenance sign``: embed content credentials at publication."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from provenance.batch import SignJob
from provenance.batch import run_sign_job as sign_job
from provenance.cli.batch import BatchOptions, batch_options, is_batch, run_batch
from provenance.cli.common import console, keys_dir_option, load_signer, passphrase_option, signer_factory
from provenance.credentials.manifest import SourceType
from provenance.sign import sign as sign_clip


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, allow_dash=True))
@click.option("-o", "--output", "output_arg", type=click.Path(), required=True,
              help="Signed file to write (never the input); for a batch, the folder to write into.")
@click.option("--key", type=click.Path(path_type=Path, dir_okay=False), help="Private key (PEM).")
@click.option("--cert", type=click.Path(path_type=Path, dir_okay=False),
              help="Certificate chain (PEM): signer first, then intermediates, no root.")
@keys_dir_option
@passphrase_option
@click.option("--title", help="Title recorded in the manifest [default: the file name].")
@click.option("--author", help="Author recorded in the manifest [default: the certificate's CN].")
@click.option("--source", type=click.Choice([s.value for s in SourceType]), default="camera", show_default=True,
              help="How the content was made (the IPTC digital source type).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (a batch: JSON lines).")
@batch_options
def sign(paths: tuple[Path, ...], output_arg: str, key: Path | None, cert: Path | None, keys_dir: Path | None,
         passphrase_env: str | None, title: str | None, author: str | None, source: str, force: bool,
         as_json: bool, batch: BatchOptions) -> None:
    """Sign a clip (MP4, MOV, M4V or AVI) and write the signed copy to OUTPUT.

    With several PATHs, a folder (walked recursively) or - (paths on
    stdin), OUTPUT is a folder: each clip is signed into it under the same
    relative path, in parallel, with a progress bar and a summary. The exit
    code is then that of the worst failure (0 when every clip was signed).
    """
    output = Path(output_arg)
    if is_batch(paths, batch) or output.is_dir() or output_arg.endswith(os.sep):
        factory = signer_factory(key=key, cert=cert, keys_dir=keys_dir, passphrase_env=passphrase_env)
        job = SignJob(outdir=output, signer=factory, title=title, author=author, source=SourceType(source), force=force)
        code = run_batch(paths, batch, json_stdout=as_json, avoid=(output,), verb="signing",
                         start=lambda items, jobs: sign_job(items, job, jobs))
        click.get_current_context().exit(int(code))
    input = paths[0]
    signer = load_signer(key=key, cert=cert, keys_dir=keys_dir, passphrase_env=passphrase_env)
    result = sign_clip(input, output, signer=signer, title=title, author=author, source=SourceType(source), force=force)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    kept = " (its previous credentials kept as parent)" if result.parent_manifest else ""
    console.print(f"[green]✓[/] signed {result.output} as {result.signer}{kept}")
    console.print(f"  manifest {result.manifest_id}")
