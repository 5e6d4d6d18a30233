"""``provenance repo``: the manifest repository of signed clips and their
fingerprints (an SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from provenance.cli.common import build_trust, console
from provenance.errors import ExitCode

F = Any


def repo_option(f: F) -> F:
    return click.option(
        "--repo",
        "location",
        metavar="URL|PATH",
        envvar="PROVENANCE_REPO",
        help="The repository: an SQLite file or a postgresql:// URL "
        "[default: $PROVENANCE_REPO, else repository.sqlite in the user data dir].",
    )(f)


def _open(location: str | None, *, create: bool = False) -> Any:
    from provenance.repository import open_repository

    return open_repository(location, create=create)


@click.group()
def repo() -> None:
    """The manifest repository: signed clips' manifest stores with their
    content fingerprints, so that a copy that lost its credentials (a
    re-encode, a cut) can be matched to the signed original."""


@repo.command("init")
@repo_option
def init(location: str | None) -> None:
    """Create the repository (nothing changes if it exists)."""
    with _open(location, create=True) as repository:
        stats = repository.stats()
    console.print(f"[green]✓[/] repository ready at {stats.location} ({stats.manifests} manifest(s))", soft_wrap=True)


@repo.command("add")
@click.argument("clip", type=click.Path(path_type=Path, dir_okay=False))
@repo_option
@click.option(
    "--manifest",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The clip's sidecar manifest store (.c2pa), for a clip that embeds none.",
)
@click.option(
    "--trust",
    "anchors",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM file of trust anchors, added to the trust store for this call. Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the registration as JSON.")
def add(clip: Path, location: str | None, manifest: Path | None, anchors: tuple[Path, ...], as_json: bool) -> None:
    """Register the signed CLIP: its manifest store and its fingerprint.

    The clip is verified first; tampered, invalid or unsigned clips are
    refused. A clip too short or too uniform to fingerprint is registered
    without a fingerprint (it can be fetched by manifest id, never matched),
    and this says so. Registering a clip again changes nothing.
    """
    from provenance.repository.clips import register_clip

    trust = build_trust(anchors=anchors)
    with _open(location, create=True) as repository:
        registration = register_clip(repository, clip, trust=trust, sidecar=manifest)
        where = repository.location
    if as_json:
        click.echo(json.dumps({"repository": where, "file": str(clip), **registration.to_dict()}, indent=2))
        return
    what = "registered" if registration.created else "already registered"
    if registration.fingerprinted:
        console.print(
            f"[green]✓[/] {what} {registration.manifest_id} with a fingerprint of "
            f"{registration.hashes} per-second hash(es) in {where}",
            soft_wrap=True,
        )
    else:
        console.print(
            f"[yellow]![/] {what} {registration.manifest_id} in {where} without a fingerprint: "
            f"{registration.reason}; it cannot be matched by content",
            soft_wrap=True,
        )


@repo.command("lookup")
@click.argument("clip", type=click.Path(path_type=Path, dir_okay=False))
@repo_option
@click.option(
    "--max-results", type=click.IntRange(min=1), default=10, show_default=True, help="Candidates shown at most."
)
@click.option("--json", "as_json", is_flag=True, help="Print the candidates as JSON.")
def lookup(clip: Path, location: str | None, max_results: int, as_json: bool) -> None:
    """Which signed clips does CLIP's content match? Best first, with the
    score and the matched part of the original. Exit 4 when none does.

    The answer names manifests; `provenance verify` judges them.
    """
    from provenance.repository.clips import lookup_clip

    with _open(location) as repository:
        candidates = lookup_clip(repository, clip, max_results=max_results)
        where = repository.location
    if as_json:
        click.echo(
            json.dumps(
                {"repository": where, "file": str(clip), "candidates": [c.to_dict() for c in candidates]}, indent=2
            )
        )
    elif not candidates:
        console.print(f"○ no signed clip in {where} matches {clip}", soft_wrap=True)
    else:
        for rank, c in enumerate(candidates, 1):
            who = ", ".join(x for x in (c.signer.name, c.signer.organization) if x) or "an unknown signer"
            when = f" on {c.signer.signed_at[:10]}" if c.signer.signed_at else ""
            console.print(
                f"{rank}. {c.manifest_id}  score {c.score:.2f}  matches {c.start:.1f}–{c.end:.1f} s of "
                f"the original, signed by {who}{when}",
                soft_wrap=True,
                markup=False,
            )
    if not candidates:
        click.get_current_context().exit(int(ExitCode.NO_CREDENTIALS))


@repo.command("stats")
@repo_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def stats(location: str | None, as_json: bool) -> None:
    """How many manifests and fingerprints the repository holds."""
    with _open(location) as repository:
        figures = repository.stats()
    if as_json:
        click.echo(json.dumps(figures.to_dict(), indent=2))
        return
    console.print(f"{figures.location} ({figures.backend})", soft_wrap=True, markup=False)
    console.print(f"  manifests:     {figures.manifests} ({figures.fingerprinted} with a fingerprint)")
    console.print(f"  hashes:        {figures.hashes}")
    console.print(f"  stored:        {figures.bytes_stored} bytes of manifest stores")
    console.print(f"  algorithms:    {', '.join(figures.algorithms) or '-'}", markup=False)
