"""``provenance trust``: the trust lists a verifier loads."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from provenance.cli.common import console, console_err
from provenance.errors import ExitCode
from provenance.text import MESSAGE_LIMIT, inert
from provenance.text import inert_markup as shown
from provenance.trust.sources import DEFAULT_SOURCES, TrustDirectory, UpdateOutcome, default_trust_dir
from provenance.trust.store import SourceKind

_KINDS = click.Choice([k.value for k in SourceKind])


def trust_dir_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--trust-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Trust store folder [default: $PROVENANCE_TRUST_DIR or the user config dir].",
    )(f)


def trust_directory(path: Path | None) -> TrustDirectory:
    return TrustDirectory(path or default_trust_dir())


@click.group()
def trust() -> None:
    """Manage the trust lists that `verify` loads by default.

    Kinds: anchors (root CAs of signers), allowed (pinned signer
    certificates or their SHA-256 hashes), tsa (roots of time-stamping
    authorities), ekus (extra EKU OIDs accepted on signer certificates),
    cawg (roots of CAWG identity credentials: they vouch for identity
    assertions, never for signers).
    """


def _report_outcomes(outcomes: list[UpdateOutcome], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([o.to_dict() for o in outcomes], indent=2))
    else:
        for o in outcomes:
            if o.ok:
                what = "updated" if o.changed else "unchanged"
                console.print(f"[green]✓[/] {shown(o.name)}: {what} ({o.entries} entries)")
            else:
                # say what verify will use now: the earlier copy, or nothing from this source yet
                after = (
                    f"kept the previous copy, {o.entries} entries"
                    if o.kept_previous
                    else "no copy yet: registered, not used until 'provenance trust update' fetches it"
                )
                console_err.print(
                    f"[bold red]✗[/] {shown(o.name)}: {shown(o.error, limit=MESSAGE_LIMIT)} ({after})", soft_wrap=True
                )
    if any(not o.ok for o in outcomes):
        click.get_current_context().exit(int(ExitCode.BAD_INPUT))


@trust.command("add")
@click.argument("name")
@click.argument("origin", metavar="FILE|URL")
@click.option("--kind", type=_KINDS, default="anchors", show_default=True, help="What the list holds.")
@click.option("--title", help="Name shown on the card when this source vouches [default: NAME].")
@click.option("--replace", is_flag=True, help="Replace an existing source of the same name.")
@trust_dir_option
def add(name: str, origin: str, kind: str, title: str | None, replace: bool, trust_dir: Path | None) -> None:
    """Add trust list FILE or URL (http/https) as source NAME.

    The list is fetched and validated now; a local copy is kept, and
    `trust update` fetches it again from the same place. Certificates may
    be PEM or the JSON form of the C2PA trust lists (C2PA-TRUST-LIST.json).
    """
    entry = trust_directory(trust_dir).add(name, origin, kind=SourceKind(kind), title=title, replace_existing=replace)
    console.print(
        f"[green]✓[/] added {shown(entry.name)} ({entry.kind.value}, {entry.entries} entries) "
        f"from {shown(entry.origin)}"
    )


@trust.command("list")
@trust_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the sources as JSON.")
def list_(trust_dir: Path | None, as_json: bool) -> None:
    """List the trust sources and when each was fetched."""
    directory = trust_directory(trust_dir)
    entries = directory.entries()
    if as_json:
        click.echo(json.dumps({"trust_dir": str(directory.path), "sources": [e.to_dict() for e in entries]}, indent=2))
        return
    if not entries:
        console.print(
            f"no trust sources in {shown(directory.path)}; add some with 'provenance trust add-defaults' "
            "or 'provenance trust add NAME FILE|URL'"
        )
        return
    table = Table(title=Text(f"trust sources in {inert(directory.path)}"), title_justify="left")
    for column in ("name", "kind", "entries", "fetched", "origin"):
        table.add_column(column, overflow="fold")
    for e in entries:
        # Names, titles, errors and origins come from the trust directory's files: inert text.
        fetched = Text(inert(e.fetched_at or "never"))
        if e.last_error:
            fetched.append(f"\nlast update failed: {inert(e.last_error, limit=MESSAGE_LIMIT)}", style="red")
        name = Text(inert(e.name))
        if e.title:
            name.append(f"\n{inert(e.title)}", style="dim")
        table.add_row(name, e.kind.value, str(e.entries), fetched, Text(inert(e.origin)))
    console.print(table)


@trust.command("remove")
@click.argument("name")
@trust_dir_option
def remove(name: str, trust_dir: Path | None) -> None:
    """Remove source NAME and its local copy."""
    entry = trust_directory(trust_dir).remove(name)
    console.print(f"[green]✓[/] removed {shown(entry.name)}")


@trust.command("update")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@trust_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def update(names: tuple[str, ...], trust_dir: Path | None, as_json: bool) -> None:
    """Fetch every source (or NAME...) again.

    Every download is validated before any copy is replaced; a source whose
    download fails keeps its previous copy. Exit code 5 when any failed.
    """
    outcomes = trust_directory(trust_dir).update(list(names) or None)
    if not outcomes and not as_json:
        console.print("no trust sources to update")
    _report_outcomes(outcomes, as_json)


_DEFAULTS_HELP = (
    "Register and fetch the official C2PA trust list, the C2PA TSA trust list and the legacy interim "
    "list (anchors, pinned hashes, EKUs). Sources stay registered when a fetch fails; "
    "'trust update' completes them. Exit code 5 when any fetch failed.\n\n\b\n"
    + "\n".join(f"{d.name:<20} {d.kind.value:<8} {d.url}" for d in DEFAULT_SOURCES)
)


@trust.command("add-defaults", help=_DEFAULTS_HELP)
@click.option(
    "--mirror",
    metavar="URL|DIR",
    help="Fetch the lists from this base URL or folder instead (an internal mirror), each under its file name "
    "above or the name its published copy has (C2PA-TRUST-LIST.json, C2PA-TSA-TRUST-LIST.json, allowed.pem, "
    "interim-anchors.pem, interim-allowed.pem, interim-store.cfg).",
)
@trust_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def add_defaults(mirror: str | None, trust_dir: Path | None, as_json: bool) -> None:
    _report_outcomes(trust_directory(trust_dir).add_defaults(mirror=mirror), as_json)
