"""``provenance verify``: who signed a clip, who vouches, what changed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from provenance.cli.batch import BatchOptions, batch_options, is_batch, run_batch
from provenance.cli.common import build_trust, console, console_err
from provenance.cli.hints import report_error
from provenance.errors import UsageError
from provenance.text import MESSAGE_LIMIT, inert_markup
from provenance.trust.store import TrustStore
from provenance.verification.policy import Policy, identity_policy
from provenance.verification.verifier import verify as verify_clip


def build_policy(*, signer: str | None, org: str | None, issuer: str | None, require_timestamp: bool) -> Policy | None:
    """The identity policy the --expect-* options describe (all must hold)."""
    return identity_policy(signer=signer, org=org, issuer=issuer, require_timestamp=require_timestamp)


@click.command()
@click.argument("paths", metavar="PATH...", nargs=-1, required=True, type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "--trust",
    "anchors",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM file of trust anchors (root CAs), added to the trust store for this call. Repeatable.",
)
@click.option(
    "--allowed",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM file of pinned end-entity certificates to trust for this call. Repeatable.",
)
@click.option(
    "--tsa-trust",
    "tsa",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM file of time-stamping authority roots, trusted for signing times only. Repeatable.",
)
@click.option(
    "--cawg-trust",
    "cawg",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM file of CAWG identity roots: they vouch for identity assertions (cawg.identity), never for "
    "C2PA signers. Repeatable.",
)
@click.option(
    "--trust-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Trust store folder [default: $PROVENANCE_TRUST_DIR or the user config dir].",
)
@click.option("--no-trust-store", is_flag=True, help="Ignore the trust store; use only the files given here.")
@click.option(
    "--expect-signer",
    metavar="TEXT",
    help="Require this signer: the certificate's CN or e-mail address, exactly (exit 7 otherwise).",
)
@click.option("--expect-org", metavar="TEXT", help="Require this organisation (the certificate's O), exactly.")
@click.option("--expect-issuer", metavar="TEXT", help="Require this issuing CA (its CN or O), exactly.")
@click.option("--require-timestamp", is_flag=True, help="Require a signing time from a trusted RFC 3161 time-stamp.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["card", "json", "crjson"]),
    default=None,
    help="Output: the credential card, the JSON report (the documented contract), or crJSON "
    "(the C2PA conformance program's format, one clip only) [default: card].",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the report as JSON (--format json); a batch prints JSON lines.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show every status code, not only failures.")
@click.option(
    "--manifest",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Sidecar manifest store (.c2pa) of the one clip given [default: embedded, else NAME.c2pa "
    "next to the clip]. Not for a batch.",
)
@click.option(
    "--segments",
    metavar="GLOB",
    help="The one clip given is a fragmented-MP4 init segment: verify it with the media segments "
    "matching GLOB. Not for a batch.",
)
@click.option(
    "--lookup",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[REPO|URL]",
    help="When the clip has no credentials or tampered ones, look its content up in a repository of signed "
    "originals (an SQLite file, a postgresql:// URL, or the http(s) URL of a Soft Binding Resolution API; "
    "alone: $PROVENANCE_REPO, else the default one): verdict 'recovered' (exit 8) when a trusted original "
    "matches.",
)
@click.option(
    "--online",
    is_flag=True,
    help="Check revocation online: ask each signer's OCSP responder (named in its certificate) instead of "
    "relying on the status attached at signing.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "celery"]),
    default="local",
    show_default=True,
    help="Where a batch runs: worker processes here, or Celery workers behind --broker "
    "(provenance worker; they judge by their own trust store and repository).",
)
@click.option(
    "--broker",
    metavar="URL",
    envvar="PROVENANCE_BROKER",
    help="The Redis broker of --engine celery, e.g. redis://127.0.0.1:6379/0 [env PROVENANCE_BROKER].",
)
@batch_options
def verify(
    paths: tuple[Path, ...],
    anchors: tuple[Path, ...],
    allowed: tuple[Path, ...],
    tsa: tuple[Path, ...],
    cawg: tuple[Path, ...],
    trust_dir: Path | None,
    no_trust_store: bool,
    expect_signer: str | None,
    expect_org: str | None,
    expect_issuer: str | None,
    require_timestamp: bool,
    output_format: str | None,
    as_json: bool,
    verbose: bool,
    manifest: Path | None,
    segments: str | None,
    lookup: str | None,
    online: bool,
    engine: str,
    broker: str | None,
    batch: BatchOptions,
) -> None:
    """Verify the content credentials of each PATH: a file, a folder
    (walked recursively) or - (paths on stdin).

    One file prints its credential card; anything more runs a batch with a
    progress bar, a summary, and --jsonl reports (--json: JSON lines on
    stdout), judging every file by the same --expect-*/--require-timestamp
    policy.

    A CAWG identity assertion in the clip is shown in its own block
    (trusted, untrusted or broken); it never changes the verdict, but a
    trusted one can meet --expect-signer/--expect-org.

    With --engine celery the batch runs on Celery workers (provenance
    worker) that see the same paths; the JSON lines, summary and --resume
    are those of a local batch.

    Exit codes (of the worst file in a batch): 0 verified, 1 tampered or
    invalid, 3 untrusted, 4 no credentials, 5 unreadable or unsupported
    input, 7 verified but not by whom --expect-*/--require-timestamp say,
    8 recovered (--lookup), 9 the repository cannot be used, 10 the
    broker cannot be reached or restarted mid-batch (--resume finishes).
    """
    ctx = click.get_current_context()
    if engine == "celery":
        code = _verify_on_celery(
            paths,
            batch,
            broker=broker,
            as_json=as_json or output_format == "json",
            refused={
                "--trust": bool(anchors),
                "--allowed": bool(allowed),
                "--tsa-trust": bool(tsa),
                "--trust-dir": trust_dir is not None,
                "--no-trust-store": no_trust_store,
                "--manifest": manifest is not None,
                "--segments": segments is not None,
                "--format crjson": output_format == "crjson",
                "--jobs": batch.jobs is not None,
                "--lookup REPO": bool(lookup),
            },
            policy={
                "expect_signer": expect_signer,
                "expect_org": expect_org,
                "expect_issuer": expect_issuer,
                "require_timestamp": require_timestamp,
                "lookup": lookup is not None,
            },
        )
        ctx.exit(int(code))
    if broker is not None and ctx.get_parameter_source("broker") is click.core.ParameterSource.COMMANDLINE:
        raise UsageError("--broker applies to --engine celery", hint="add --engine celery, or drop --broker")
    if as_json and output_format not in (None, "json"):
        raise UsageError(f"--json and --format {output_format} exclude each other", hint="give one of them")
    as_json = as_json or output_format == "json"
    # One plain file with --json is the JSON report, whatever batch options
    # come with it; --jsonl FILE still gets its record.
    one_json = (
        as_json
        and len(paths) == 1
        and str(paths[0]) != "-"
        and not paths[0].is_dir()
        and batch.jsonl != "-"
        and (batch.jsonl or not batch.resume)  # --resume alone stays the batch's usage error
    )
    batch_mode = is_batch(paths, batch) and not (one_json and segments is None)
    crjson = output_format == "crjson"
    if crjson and batch_mode:
        raise UsageError(
            "--format crjson writes the crJSON of one clip and does not apply to a batch",
            hint="give one clip: provenance verify clip.mp4 --format crjson --no-trust-store --trust anchors.pem",
        )
    if crjson and segments is not None:
        raise UsageError("--format crjson does not apply to --segments", hint="use --json for a fragmented MP4")
    if batch_mode and segments is not None:
        raise UsageError(
            "--segments verifies one fragmented MP4 and does not apply to a batch",
            hint="give only the init segment: provenance verify init.mp4 --segments 'seg*.m4s'",
        )
    if batch_mode and manifest is not None:
        raise UsageError(
            "--manifest names the sidecar of one clip and does not apply to a batch",
            hint="give one clip, or keep each sidecar next to its clip as NAME.c2pa (found by itself)",
        )
    policy = build_policy(
        signer=expect_signer, org=expect_org, issuer=expect_issuer, require_timestamp=require_timestamp
    )
    trust = build_trust(anchors=anchors, allowed=allowed, tsa=tsa, trust_dir=trust_dir, use_store=not no_trust_store)
    trust = _with_cawg_trust(trust, cawg)
    if online:
        trust = trust.online()
    if lookup is not None:
        lookup = lookup or os.environ.get("PROVENANCE_REPO") or ""  # "": the default repository
    if batch_mode:
        code = run_batch(
            paths,
            batch,
            json_stdout=as_json,
            start=lambda items, jobs: _verify_batch(items, trust=trust, policy=policy, jobs=jobs, lookup=lookup),
        )
        ctx.exit(int(code))
    file = paths[0]
    if segments is not None:
        if manifest is not None:
            raise UsageError(
                "--segments and --manifest exclude each other",
                hint="a fragmented MP4 carries its manifest in the init segment",
            )
        _verify_fragments(file, segments, trust=trust, policy=policy, as_json=as_json, verbose=verbose)
        return
    if crjson:
        _verify_crjson(file, trust=trust, manifest=manifest, policy=policy)
        return
    if lookup is None:
        report = verify_clip(file, trust=trust, manifest=manifest, policy=policy)
    else:
        from provenance.verification.recovery import open_source

        source = open_source(lookup or None)
        try:
            report = verify_clip(file, trust=trust, manifest=manifest, policy=policy, lookup=source)
        finally:
            source.close()
    if as_json:
        if batch.jsonl:
            _log_one(batch, report.to_dict())
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif report.error:
        console_err.print(
            f"[bold red]error:[/] {inert_markup(report_error(report), limit=MESSAGE_LIMIT)}", soft_wrap=True
        )
    else:
        from provenance.cli.render import card  # rich: not for --json

        console.print(card(report, verbose=verbose))
    ctx.exit(int(report.exit_code))


def _log_one(batch: BatchOptions, record: dict[str, Any]) -> None:
    """The --jsonl record of one file verified with --json: the record a
    batch would write (appended with --resume)."""
    from provenance.batch import JsonlLog

    log = JsonlLog(batch.jsonl or "", resume=batch.resume)
    try:
        log.write(record)
    finally:
        log.close()


# --- CAWG identity trust (issue 10, part 1) ---


def _with_cawg_trust(trust: TrustStore, paths: tuple[Path, ...]) -> TrustStore:
    """*trust* plus the --cawg-trust files, each a ``cawg`` source named after its path."""
    from provenance.trust.store import SourceKind

    for path in paths:
        trust = trust.with_pem_file(path, kind=SourceKind.CAWG, name=str(path))
    return trust


def _verify_crjson(file: Path, *, trust: TrustStore, manifest: Path | None, policy: Policy | None) -> None:
    """The crJSON document on stdout; the exit code is the verdict's, as
    for the card. An unreadable input prints the one-line error only."""
    from provenance.verification.verifier import verify_crjson

    report, document = verify_crjson(file, trust=trust, manifest=manifest, policy=policy)
    if document is None:
        console_err.print(
            f"[bold red]error:[/] {inert_markup(report_error(report), limit=MESSAGE_LIMIT)}", soft_wrap=True
        )
    else:
        click.echo(json.dumps(document, indent=2))
    click.get_current_context().exit(int(report.exit_code))


def _verify_fragments(
    init: Path, pattern: str, *, trust: TrustStore, policy: Policy | None, as_json: bool, verbose: bool
) -> None:
    from provenance.cli.render import fragments_card
    from provenance.verification.fragments import find_segments, verify_fragments

    found = find_segments(pattern, init=init)
    if not found:
        raise UsageError(f"--segments {pattern}: no files match", hint="quote the pattern, e.g. --segments 'dash*.m4s'")
    report = verify_fragments(init, found, trust=trust, policy=policy)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        console.print(fragments_card(report, verbose=verbose))
    click.get_current_context().exit(report.exit_code)


def _verify_on_celery(
    paths: tuple[Path, ...],
    batch: BatchOptions,
    *,
    broker: str | None,
    as_json: bool,
    refused: dict[str, bool],
    policy: dict[str, Any],
) -> Any:
    """A batch on the Celery workers: the same JSON lines, summary and
    --resume as a local one; the workers' own trust store and repository."""
    used = [flag for flag, given in refused.items() if given]
    if used:
        raise UsageError(
            f"{used[0]} does not apply to --engine celery",
            hint="the workers judge by their own trust store, repository and concurrency (provenance worker options)",
        )
    if not broker:
        raise UsageError("--engine celery needs --broker URL", hint="or set PROVENANCE_BROKER")
    from provenance.cli.worker_cmd import require_celery

    require_celery()
    from provenance.tasks.app import make_app
    from provenance.tasks.client import verify_batch

    app = make_app(broker)
    shown = broker.rsplit("@", 1)[-1]
    return run_batch(
        paths,
        batch,
        json_stdout=as_json,
        engine=f"Celery workers on {shown}",
        start=lambda items, _jobs: verify_batch(items, app=app, **policy),
    )


def _verify_batch(*args: Any, **kwargs: Any) -> Any:
    from provenance.batch import verify_batch  # the batch machinery loads only for a batch

    return verify_batch(*args, **kwargs)
