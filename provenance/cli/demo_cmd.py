"""``provenance demo``: the whole story on built-in defaults."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import click
from rich.text import Text

from provenance.cli.common import console, load_signer, passphrase_option
from provenance.cli.keys_cmd import DEFAULT_COUNTRY, DEFAULT_NAME, DEFAULT_ORG
from provenance.cli.render import card, headline
from provenance.identity.certificates import Subject
from provenance.identity.pki import DevPKI, default_keys_dir, init_dev_pki
from provenance.media import boxes, video
from provenance.repository import open_repository
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustStore
from provenance.verification.recovery import LocalSource
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep the demo files in this folder [default: a temporary folder, removed after].",
)
@click.option(
    "--keys-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Development PKI to use or create [default: $PROVENANCE_KEYS_DIR or ./keys].",
)
@passphrase_option
def demo(out_dir: Path | None, keys_dir: Path | None, passphrase_env: str | None) -> None:
    """Sign a sample clip, then tamper with it, strip it and re-encode it, and
    recover the re-encoded copy's provenance by its content."""
    keep = out_dir is not None
    work = out_dir or Path(tempfile.mkdtemp(prefix="provenance-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        ok = _run(work, keys_dir or default_keys_dir(), passphrase_env)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    if keep:
        console.print(f"demo files kept in {work}/")
    if not ok:
        raise click.ClickException("the demo did not end as expected")


def _step(n: int, text: str) -> None:
    console.print(f"\n[bold]{n}.[/] {text}")


def _run(work: Path, keys_dir: Path, passphrase_env: str | None) -> bool:
    results: list[tuple[str, Verdict, Verdict]] = []

    _step(1, "Make a 6-second sample clip with PyAV")
    clip = video.make_sample_clip(work / "clip.mp4", seconds=6.0, scene=True)
    console.print(f"   made {clip} ({clip.stat().st_size:,} bytes)")

    _step(2, "Ensure a development PKI")
    pki = DevPKI(keys_dir)
    if pki.exists():
        console.print(f"   using the PKI in {keys_dir}/")
    else:
        init_dev_pki(keys_dir, subject=Subject(DEFAULT_NAME, DEFAULT_ORG, DEFAULT_COUNTRY))
        console.print(f"   created root CA, issuing CA and creator certificate in {keys_dir}/")
    signer = load_signer(key=None, cert=None, keys_dir=keys_dir, passphrase_env=passphrase_env)
    trust = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.ANCHORS, name="development root")

    _step(3, "Sign the clip, with its content fingerprint, and register it in a local repository → expect verified")
    repository = open_repository(str(work / "repository.sqlite"), create=True)
    try:
        signed = sign(
            clip, work / "clip.signed.mp4", signer=signer, title="Demo clip", force=True, register=repository
        ).output
    except BaseException:
        repository.close()
        raise
    report = verify(signed, trust=trust)
    console.print(card(report))
    results.append(("signed", Verdict.VERIFIED, report.verdict))

    _step(4, "Flip one byte of the media data → expect tampered")
    tampered = work / "clip.tampered.mp4"
    shutil.copyfile(signed, tampered)
    boxes.flip_media_byte(tampered)
    report = verify(tampered, trust=trust)
    console.print(Text.assemble("   ", headline(report)))
    results.append(("one byte flipped", Verdict.TAMPERED, report.verdict))

    _step(5, "Strip the manifest → expect no_credentials")
    stripped = work / "clip.stripped.mp4"
    boxes.strip_credentials(signed, stripped)
    report = verify(stripped, trust=trust)
    console.print(Text.assemble("   ", headline(report)))
    results.append(("manifest stripped", Verdict.NO_CREDENTIALS, report.verdict))

    _step(6, "Re-encode the signed clip with PyAV, as a careless re-upload does → expect no_credentials")
    reencoded = video.reencode(signed, work / "clip.reencoded.mp4")
    report = verify(reencoded, trust=trust)
    console.print(Text.assemble("   ", headline(report)))
    results.append(("re-encoded", Verdict.NO_CREDENTIALS, report.verdict))

    _step(7, "Look the re-encoded copy up by its content in the repository → expect recovered")
    with contextlib.closing(LocalSource(repository)) as source:
        report = verify(reencoded, trust=trust, lookup=source)
    console.print(card(report))
    results.append(("recovered by content", Verdict.RECOVERED, report.verdict))

    console.print("\n[bold]Summary[/]")
    all_ok = True
    for what, expected, got in results:
        ok = expected is got
        all_ok &= ok
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        console.print(f"  {mark} {what:<22} {got.value}" + ("" if ok else f" (expected {expected.value})"))
    if all_ok:
        console.print(
            "\nA signed clip proves who published it. A changed byte of its media, or of its signed manifest, "
            "shows as tampered (the manifest box's own padding and framing are not signed: changing them "
            "changes nothing that is claimed). A stripped or re-encoded copy has no credentials left, "
            "but its content still leads back to the signed original through the repository."
        )
    return all_ok
