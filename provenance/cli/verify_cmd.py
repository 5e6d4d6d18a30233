"""``provenance verify``: who signed a clip, who vouches, what changed."""

from __future__ import annotations

import json
from pathlib import Path

import click

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
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--trust", "anchors", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="PEM file of trust anchors (root CAs). Repeatable.")
@click.option("--allowed", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="PEM file of pinned end-entity certificates to trust. Repeatable.")
@keys_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (the documented contract).")
@click.option("-v", "--verbose", is_flag=True, help="Show every status code, not only failures.")
@click.option("--manifest", type=click.Path(path_type=Path, dir_okay=False),
              help="Sidecar manifest store (.c2pa) of FILE [default: embedded, else NAME.c2pa next to FILE].")
@click.option("--segments", metavar="GLOB",
              help="FILE is a fragmented-MP4 init segment: verify it with the media segments matching GLOB.")
def verify(file: Path, anchors: tuple[Path, ...], allowed: tuple[Path, ...], keys_dir: Path | None,
           as_json: bool, verbose: bool, manifest: Path | None = None, segments: str | None = None) -> None:
    """Verify the content credentials of FILE.

    Exit codes: 0 verified, 1 tampered or invalid, 3 untrusted,
    4 no credentials, 5 unreadable or unsupported input.
    """
    trust = build_trust(anchors=anchors, allowed=allowed, keys_dir=keys_dir)
    if segments is not None:
        _verify_fragments(file, segments, trust=trust, as_json=as_json, verbose=verbose)
        return
    report = verify_clip(file, trust=trust, manifest=manifest)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif report.error:
        from provenance.cli.common import console_err

        console_err.print(f"[bold red]error:[/] {report.error}", soft_wrap=True)
    else:
        console.print(card(report, verbose=verbose))
    click.get_current_context().exit(int(report.exit_code))


def _verify_fragments(init: Path, pattern: str, *, trust: TrustStore, as_json: bool, verbose: bool) -> None:
    from provenance.cli.render import fragments_card
    from provenance.errors import UsageError
    from provenance.verify.fragments import find_segments, verify_fragments

    found = find_segments(pattern, init=init)
    if not found:
        raise UsageError(f"--segments {pattern}: no files match", hint="quote the pattern, e.g. --segments 'dash*.m4s'")
    report = verify_fragments(init, found, trust=trust)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        console.print(fragments_card(report, verbose=verbose))
    click.get_current_context().exit(report.exit_code)
