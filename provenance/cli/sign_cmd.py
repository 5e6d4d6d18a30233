"""``provenance sign``: embed content credentials at publication."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import click

from provenance.batch import SignJob
from provenance.batch import run_sign_job as sign_job
from provenance.cli.batch import BatchOptions, batch_options, is_batch, run_batch
from provenance.cli.common import console
from provenance.cli.hints import cli_diagnostics
from provenance.cli.signers import factory_from_options, signer_from_options, signer_options
from provenance.credentials.manifest import SourceType
from provenance.errors import UsageError
from provenance.signing import sign as sign_clip
from provenance.signing import sign_remuxed, sign_sidecar
from provenance.text import inert_markup as shown

# Suffixes that say "a file": a batch never creates a folder with one of
# these names (end the name with '/' to mean a folder anyway).
_FILE_SUFFIXES = frozenset({".mp4", ".mov", ".qt", ".m4v", ".avi", ".webm", ".mkv", ".c2pa"})


def _refuse_file_as_outdir(output: str) -> None:
    """A batch writes into a folder: refuse an -o that is an existing file
    or names a clip, instead of creating a folder called ``one.mp4``."""
    if os.path.isdir(output) or output.endswith(os.sep):
        return
    if os.path.lexists(output) or os.path.splitext(output)[1].lower() in _FILE_SUFFIXES:
        what = "is a file" if os.path.lexists(output) else "names a file"
        raise UsageError(
            f"-o {output} {what}, but a batch (several inputs, a folder, - or a batch option) signs into a folder",
            hint="give a folder (-o signed/), or one INPUT without batch options to sign one clip",
        )


@click.command()
@click.argument("paths", metavar="INPUT...", nargs=-1, required=True, type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "-o",
    "--output",
    "output_arg",
    type=click.Path(),
    help="Signed file to write (never the input); with --sidecar, the sidecar [default: NAME.c2pa]; "
    "for a batch, the folder to write into.",
)
@signer_options
@click.option("--title", help="Title recorded in the manifest [default: the file name].")
@click.option("--author", help="Author recorded in the manifest [default: the certificate's CN].")
@click.option(
    "--source",
    type=click.Choice([s.value for s in SourceType]),
    default="camera",
    show_default=True,
    help="How the content was made (the IPTC digital source type).",
)
@click.option(
    "--flat-hash",
    is_flag=True,
    help="Bind MP4/MOV media with one flat hash instead of 1 MiB Merkle leaves "
    "(also BMFF hash v3, for validators without Merkle-tree support; costs ~550 MB RAM to sign and verify).",
)
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option(
    "--allow-invalid-parent",
    is_flag=True,
    help="Sign an INPUT whose own credentials are tampered or invalid, recording the failure "
    "(refused otherwise: the new signature would hide it).",
)
@click.option(
    "--register",
    "register_at",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[REPO]",
    help="Record the clip's content fingerprint in the manifest (c2pa.soft-binding) and register the signed "
    "manifest in a repository (an SQLite file or postgresql:// URL; alone: $PROVENANCE_REPO, else the default "
    "one), so copies that lose their credentials can be recovered with 'verify --lookup'.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (a batch: JSON lines).")
@click.option(
    "--sidecar",
    is_flag=True,
    help="Leave INPUT unchanged and write its manifest to a sidecar file (NAME.c2pa), bound by a data hash. "
    "Any file type: WebM and MKV too. One clip only.",
)
@click.option(
    "--remux",
    is_flag=True,
    help="Copy INPUT's streams (e.g. WebM, MKV) into the container OUTPUT names (.mp4) and embed there. One clip only.",
)
@click.option(
    "--identity-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM key of a CAWG identity credential: add a cawg.identity assertion (X.509) naming its holder, "
    "signed over the actions and the creative work. Needs --identity-cert and a key-file signer. One clip only.",
)
@click.option(
    "--identity-cert",
    type=click.Path(path_type=Path, dir_okay=False),
    help="PEM certificate chain (leaf first) of the --identity-key credential.",
)
@batch_options
def sign(
    paths: tuple[Path, ...],
    output_arg: str | None,
    title: str | None,
    author: str | None,
    source: str,
    flat_hash: bool,
    force: bool,
    allow_invalid_parent: bool,
    register_at: str | None,
    as_json: bool,
    sidecar: bool,
    remux: bool,
    identity_key: Path | None,
    identity_cert: Path | None,
    batch: BatchOptions,
    **signing: Any,
) -> None:
    """Sign a clip (MP4, MOV, M4V or AVI) and write the signed copy to OUTPUT.

    WebM and MKV cannot embed credentials: sign them with --sidecar, or
    --remux them into MP4.

    With several INPUTs, a folder (walked recursively) or - (paths on
    stdin), OUTPUT is a folder: each clip is signed into it under the same
    relative path, in parallel, with a progress bar and a summary. The exit
    code is then that of the worst failure (0 when every clip was signed).
    """
    if sidecar and remux:
        raise UsageError("--sidecar and --remux exclude each other", hint="choose one")
    if sidecar and flat_hash:
        raise UsageError(
            "--flat-hash applies to embedded MP4/MOV credentials",
            hint="drop it: a sidecar is bound to the clip by a data hash of every byte",
        )
    output = Path(output_arg) if output_arg is not None else None
    into_folder = output_arg is not None and (os.path.isdir(output_arg) or output_arg.endswith(os.sep))
    batch_mode = is_batch(paths, batch) or (into_folder and not (sidecar or remux))
    _check_identity_options(identity_key, identity_cert, batch=batch_mode, sidecar=sidecar, remux=remux)
    if batch_mode:
        if sidecar or remux:
            used = "--sidecar" if sidecar else "--remux"
            raise UsageError(
                f"{used} signs one clip and does not apply to a batch",
                hint=f"give one INPUT with {used}, or sign the batch into -o OUTDIR without it",
            )
        if output is None:
            raise UsageError("a batch needs -o OUTDIR", hint="name the folder to write the signed clips into")
        _refuse_file_as_outdir(output_arg or "")
        job = SignJob(
            outdir=output,
            signer=factory_from_options(signing),
            title=title,
            author=author,
            source=SourceType(source),
            force=force,
            flat_hash=flat_hash,
            describe=cli_diagnostics,
            allow_invalid_parent=allow_invalid_parent,
            register=None if register_at is None else (register_at or os.environ.get("PROVENANCE_REPO") or ""),
        )
        code = run_batch(
            paths,
            batch,
            json_stdout=as_json,
            avoid=(output,),
            verb="signing",
            start=lambda items, jobs: sign_job(items, job, jobs),
        )
        click.get_current_context().exit(int(code))
    input = paths[0]
    if output is None and not sidecar:
        raise UsageError("missing -o/--output", hint="name the signed file to write (or use --sidecar)")
    options: dict[str, Any] = {
        "title": title,
        "author": author,
        "source": SourceType(source),
        "force": force,
        "allow_invalid_parent": allow_invalid_parent,
    }
    if identity_key is not None and identity_cert is not None:
        from provenance.identity.cawg import CawgIdentity

        options["identity"] = CawgIdentity.from_files(key=identity_key, cert=identity_cert)
    with contextlib.ExitStack() as stack:
        signer = stack.enter_context(signer_from_options(signing))
        if register_at is not None:
            if sidecar or remux:
                raise UsageError(
                    "--register applies to clips signed with embedded credentials",
                    hint="drop --sidecar/--remux, or register the result with 'provenance repo add'",
                )
            from provenance.repository import open_repository

            repository = stack.enter_context(
                open_repository(register_at or os.environ.get("PROVENANCE_REPO") or None, create=True)
            )
            result = sign_clip(input, output, signer=signer, flat_hash=flat_hash, register=repository, **options)
        elif sidecar or output is None:
            result = sign_sidecar(input, output, signer=signer, **_without_identity(options))
        elif remux:
            result = sign_remuxed(input, output, signer=signer, flat_hash=flat_hash, **_without_identity(options))
        else:
            result = sign_clip(input, output, signer=signer, flat_hash=flat_hash, **options)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    kept = " (its previous credentials kept as parent)" if result.parent_manifest else ""
    if result.mode == "sidecar":
        console.print(
            f"[green]✓[/] signed {shown(result.input)} as {shown(result.signer)}{kept}; the clip is "
            f"unchanged, its credentials are in the sidecar {shown(result.output)}"
        )
    else:
        console.print(f"[green]✓[/] signed {shown(result.output)} as {shown(result.signer)}{kept}")
    console.print(f"  manifest {shown(result.manifest_id)}")
    if result.timestamped_at:
        console.print(f"  time-stamped {shown(result.timestamped_at)} by {shown(result.timestamp_authority)}")
    if result.registered_in:
        how = "with its content fingerprint" if result.soft_binding else f"({shown(result.registration_note)})"
        console.print(f"  registered in {shown(result.registered_in)} {how}")
    if getattr(result, "identity", None):
        console.print(f"  CAWG identity assertion signed by {shown(result.identity)}")


# --- CAWG identity (issue 10, part 1) ---


def _check_identity_options(key: Path | None, cert: Path | None, *, batch: bool, sidecar: bool, remux: bool) -> None:
    """--identity-key and --identity-cert go together, for one clip with
    embedded credentials (c2pa-rs's Builder signs it; see identity.cawg)."""
    if key is None and cert is None:
        return
    if key is None or cert is None:
        given, missing = (
            ("--identity-key", "--identity-cert") if key is not None else ("--identity-cert", "--identity-key")
        )
        raise UsageError(f"{given} needs {missing}", hint="give the identity's PEM key and its certificate chain")
    if batch or sidecar or remux:
        what = "a batch" if batch else ("--sidecar" if sidecar else "--remux")
        raise UsageError(
            f"a CAWG identity (--identity-key) is added to one clip with embedded credentials, not with {what}",
            hint="sign one MP4/MOV/M4V/AVI clip into -o OUTPUT with --identity-key",
        )


def _without_identity(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k != "identity"}
