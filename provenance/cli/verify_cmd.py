"""``provenance verify``: who signed a clip, who vouches, what changed."""

from __future__ import annotations

import json
from pathlib import Path

import click

from provenance.batch import verify_batch
from provenance.cli.batch import BatchOptions, batch_options, is_batch, run_batch
from provenance.cli.common import console, keys_dir_option
from provenance.cli.render import card
from provenance.identity.pki import DevPKI, default_keys_dir
from provenance.trust.store import SourceKind, TrustStore
from provenance.verify.verifier import verify as verify_clip


def build_trust(*, anchors: tuple[Path, ...], allowed: tuple[Path, ...], keys_dir: Path | None) -> TrustStore:
    """--trust/--allowed files, plus the development root when it exists."""
    store = TrustStore()
    dev_root = DevPKI(keys_dir or default_keys_dir()).root_cert
    if dev_root.exists():
        store = store.with_pem_file(dev_root, kind=SourceKind.ANCHORS, name=f"development root ({dev_root})")
    for path in anchors:
        store = store.with_pem_file(path, kind=SourceKind.ANCHORS, name=str(path))
    for path in allowed:
        store = store.with_pem_file(path, kind=SourceKind.ALLOWED, name=str(path))
    return store


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, allow_dash=True))
@click.option("--trust", "anchors", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="PEM file of trust anchors (root CAs). Repeatable.")
@click.option("--allowed", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="PEM file of pinned end-entity certificates to trust. Repeatable.")
@keys_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (the documented contract).")
@click.option("-v", "--verbose", is_flag=True, help="Show every status code, not only failures.")
@batch_options
def verify(paths: tuple[Path, ...], anchors: tuple[Path, ...], allowed: tuple[Path, ...], keys_dir: Path | None,
           as_json: bool, verbose: bool, batch: BatchOptions) -> None:
    """Verify the content credentials of each PATH: a file, a folder
    (walked recursively) or - (paths on stdin).

    One file prints its credential card; anything more runs a batch with a
    progress bar, a summary, and --jsonl reports (--json: JSON lines on
    stdout). Exit codes (of the worst file in a batch): 0 verified,
    1 tampered or invalid, 3 untrusted, 4 no credentials, 5 unreadable or
    unsupported input.
    """
    trust = build_trust(anchors=anchors, allowed=allowed, keys_dir=keys_dir)
    ctx = click.get_current_context()
    if is_batch(paths, batch):
        code = run_batch(paths, batch, json_stdout=as_json,
                         start=lambda items, jobs: verify_batch(items, trust=trust, jobs=jobs))
        ctx.exit(int(code))
    file = paths[0]
    report = verify_clip(file, trust=trust)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif report.error:
        from provenance.cli.common import console_err

        console_err.print(f"[bold red]error:[/] {report.error}", soft_wrap=True)
    else:
        console.print(card(report, verbose=verbose))
    ctx.exit(int(report.exit_code))
