"""``provenance verify``: who signed a clip, who vouches, what changed."""

from __future__ import annotations

import json
from pathlib import Path

import click

from provenance.cli.common import console, console_err, keys_dir_option
from provenance.cli.render import card
from provenance.errors import UsageError
from provenance.identity.pki import DevPKI, default_keys_dir
from provenance.trust.sources import TrustDirectory, default_trust_dir
from provenance.trust.store import SourceKind, TrustStore
from provenance.verify.policy import AllOf, ExpectIssuer, ExpectOrganization, ExpectSigner, Policy, RequireTimestamp
from provenance.verify.verifier import verify as verify_clip


def build_trust(
    *,
    anchors: tuple[Path, ...],
    allowed: tuple[Path, ...],
    keys_dir: Path | None,
    tsa: tuple[Path, ...] = (),
    trust_dir: Path | None = None,
    use_store: bool = True,
) -> TrustStore:
    """Every source of the trust store (unless *use_store* is false), the
    development root when it exists, then --trust/--allowed/--tsa-trust
    files for this call."""
    store = TrustStore()
    if use_store:
        loaded = TrustDirectory(trust_dir or default_trust_dir()).load()
        for problem in loaded.problems:
            console_err.print(f"[yellow]warning:[/] {problem}", soft_wrap=True)
        store = store.with_sources(loaded.store.sources)
    dev_root = DevPKI(keys_dir or default_keys_dir()).root_cert
    if dev_root.exists():
        store = store.with_pem_file(dev_root, kind=SourceKind.ANCHORS, name=f"development root ({dev_root})")
    for path in anchors:
        store = store.with_pem_file(path, kind=SourceKind.ANCHORS, name=str(path))
    for path in allowed:
        store = store.with_pem_file(path, kind=SourceKind.ALLOWED, name=str(path))
    for path in tsa:
        store = store.with_pem_file(path, kind=SourceKind.TSA, name=str(path))
    return store


def build_policy(
    *, signer: str | None, org: str | None, issuer: str | None, require_timestamp: bool
) -> Policy | None:
    """The identity policy the --expect-* options describe (all must hold)."""
    policies: list[Policy] = []
    if signer is not None:
        policies.append(ExpectSigner(signer))
    if org is not None:
        policies.append(ExpectOrganization(org))
    if issuer is not None:
        policies.append(ExpectIssuer(issuer))
    if require_timestamp:
        policies.append(RequireTimestamp())
    return AllOf(policies) if policies else None


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--trust", "anchors", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="PEM file of trust anchors (root CAs), added to the trust store for this call. Repeatable.")
@click.option("--allowed", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="PEM file of pinned end-entity certificates to trust for this call. Repeatable.")
@click.option("--tsa-trust", "tsa", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="PEM file of time-stamping authority roots, trusted for signing times only. Repeatable.")
@click.option("--trust-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Trust store folder [default: $PROVENANCE_TRUST_DIR or the user config dir].")
@click.option("--no-trust-store", is_flag=True, help="Ignore the trust store; use only the files given here.")
@click.option("--expect-signer", metavar="TEXT",
              help="Require this signer: the certificate's CN or e-mail address, exactly (exit 7 otherwise).")
@click.option("--expect-org", metavar="TEXT", help="Require this organisation (the certificate's O), exactly.")
@click.option("--expect-issuer", metavar="TEXT",
              help="Require this issuing CA (its CN or O), exactly.")
@click.option("--require-timestamp", is_flag=True,
              help="Require a signing time from a trusted RFC 3161 time-stamp.")
@keys_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (the documented contract).")
@click.option("-v", "--verbose", is_flag=True, help="Show every status code, not only failures.")
@click.option("--manifest", type=click.Path(path_type=Path, dir_okay=False),
              help="Sidecar manifest store (.c2pa) of FILE [default: embedded, else NAME.c2pa next to FILE].")
@click.option("--segments", metavar="GLOB",
              help="FILE is a fragmented-MP4 init segment: verify it with the media segments matching GLOB.")
def verify(file: Path, anchors: tuple[Path, ...], allowed: tuple[Path, ...], tsa: tuple[Path, ...],
           trust_dir: Path | None, no_trust_store: bool, expect_signer: str | None, expect_org: str | None,
           expect_issuer: str | None, require_timestamp: bool, keys_dir: Path | None,
           as_json: bool, verbose: bool, manifest: Path | None = None, segments: str | None = None) -> None:
    """Verify the content credentials of FILE.

    Exit codes: 0 verified, 1 tampered or invalid, 3 untrusted,
    4 no credentials, 5 unreadable or unsupported input,
    7 verified but not by whom --expect-*/--require-timestamp say.
    """
    policy = build_policy(signer=expect_signer, org=expect_org, issuer=expect_issuer,
                          require_timestamp=require_timestamp)
    trust = build_trust(anchors=anchors, allowed=allowed, keys_dir=keys_dir, tsa=tsa,
                        trust_dir=trust_dir, use_store=not no_trust_store)
    if segments is not None:
        if manifest is not None:
            raise UsageError("--segments and --manifest exclude each other",
                             hint="a fragmented MP4 carries its manifest in the init segment")
        _verify_fragments(file, segments, trust=trust, policy=policy, as_json=as_json, verbose=verbose)
        return
    report = verify_clip(file, trust=trust, manifest=manifest, policy=policy)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif report.error:
        console_err.print(f"[bold red]error:[/] {report.error}", soft_wrap=True)
    else:
        console.print(card(report, verbose=verbose))
    click.get_current_context().exit(int(report.exit_code))


def _verify_fragments(init: Path, pattern: str, *, trust: TrustStore, policy: Policy | None, as_json: bool,
                      verbose: bool) -> None:
    from provenance.cli.render import fragments_card
    from provenance.verify.fragments import find_segments, verify_fragments

    found = find_segments(pattern, init=init)
    if not found:
        raise UsageError(f"--segments {pattern}: no files match", hint="quote the pattern, e.g. --segments 'dash*.m4s'")
    report = verify_fragments(init, found, trust=trust, policy=policy)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        console.print(fragments_card(report, verbose=verbose))
    click.get_current_context().exit(report.exit_code)
