"""``provenance show``: the numbered chain of a clip's credentials, and
its thumbnails."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.text import Text
from rich.tree import Tree

from provenance.cli.common import build_trust, console
from provenance.cli.render import BADGES, _action_text, signer_name, source_label
from provenance.show import extract_thumbnail, inspect
from provenance.text import MESSAGE_LIMIT, inert
from provenance.text import inert_markup as shown


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--manifest",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Sidecar manifest store (.c2pa) of FILE [default: embedded, else NAME.c2pa next to FILE].",
)
@click.option(
    "--thumbnail",
    "thumbnail_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a thumbnail to this file (JPEG as stored): the active manifest's, or --ingredient's.",
)
@click.option(
    "--ingredient",
    "index",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Which entry's thumbnail: 0 is the active manifest, 1… the ingredients as listed.",
)
@click.option(
    "--trust",
    "anchors",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM trust anchors for the verdicts shown. Repeatable.",
)
@click.option("--force", is_flag=True, help="Replace the thumbnail file if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(
    file: Path,
    manifest: Path | None,
    thumbnail_out: Path | None,
    index: int,
    anchors: tuple[Path, ...],
    force: bool,
    as_json: bool,
) -> None:
    """List the chain of manifests in FILE, numbered, and extract thumbnails.

    Exit codes: 0 done, 2 usage (no such entry, output exists),
    5 unreadable input, no credentials, or no thumbnail there.
    """
    if thumbnail_out is not None:
        result = extract_thumbnail(file, thumbnail_out, index=index, manifest=manifest, force=force)
        if as_json:
            click.echo(json.dumps(result.to_dict(), indent=2))
        else:
            which = "active manifest" if result.index == 0 else f"ingredient {result.index}"
            console.print(
                f"[green]✓[/] wrote the {which}'s thumbnail ({shown(result.title)}, {shown(result.format)}, "
                f"{result.size:,} bytes) to {shown(result.output)}"
            )
        return
    found = inspect(file, trust=build_trust(anchors=anchors), manifest=manifest)
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2))
        return
    report = found.report
    root = Tree(Text(f"{inert(file)}  (credentials {inert(report.credentials_source)})", style="bold"))
    branches = {0: root}
    for entry in found.entries:
        node = entry.node
        badge, style = BADGES[node.verdict if node else report.verdict]
        text = Text(f"[{entry.index}] ", style="bold")
        text.append(inert(entry.title) if entry.title else "untitled")
        if entry.relationship:
            text.append(f" [{inert(entry.relationship)}]", style="dim")
        text.append(f"  {badge}", style=style)
        signer = node.signer if node else report.signer
        if signer is not None:
            text.append(f"  {signer_name(signer)}")
        actions = node.actions if node else report.actions
        if actions:
            text.append("\n" + " → ".join(_action_text(a) for a in actions), style="cyan")
        source = node.digital_source_type if node else None
        if source:
            text.append(f"\nsource: {source_label(source)}", style="dim")
        text.append(
            "\nthumbnail: " + (inert(entry.thumbnail_format or "yes") if entry.thumbnail_id else "none"), style="dim"
        )
        branches[entry.depth + 1] = branches[entry.depth].add(text)
    console.print(root)
    if report.chain_summary:
        console.print(Text(f"chain: {inert(report.chain_summary, limit=MESSAGE_LIMIT)}"))
