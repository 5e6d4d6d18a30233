"""``provenance transcode|trim|remux``: edits that keep the chain."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.text import Text

from provenance import edit
from provenance.cli.common import build_trust, console
from provenance.cli.signers import signer_from_options, signer_options
from provenance.errors import UsageError
from provenance.media.transcode import AUDIO_MODES, VIDEO_CODECS, parse_time
from provenance.text import inert
from provenance.text import inert_markup as shown

F = TypeVar("F", bound=Callable[..., Any])


def edit_options(f: F) -> F:
    """Options every edit shares: output, the operator's signing identity
    (the same options as ``sign``: key file, PKCS#11 token, signing command,
    --tsa), the trust the source is judged by, and the source's sidecar."""
    decorators = [
        click.argument("input", type=click.Path(path_type=Path, dir_okay=False)),
        click.option(
            "-o",
            "--output",
            type=click.Path(path_type=Path, dir_okay=False),
            required=True,
            help="File to write (.mp4, .mov, .m4v or .avi; never the input).",
        ),
        signer_options,
        click.option(
            "--trust",
            "anchors",
            multiple=True,
            type=click.Path(path_type=Path, dir_okay=False),
            help="PEM trust anchors the source's credentials are judged by (with the trust store). Repeatable.",
        ),
        click.option(
            "--allowed",
            multiple=True,
            type=click.Path(path_type=Path, dir_okay=False),
            help="PEM pinned end-entity certificates to trust. Repeatable.",
        ),
        click.option(
            "--trust-dir",
            type=click.Path(path_type=Path, file_okay=False),
            default=None,
            help="Trust store folder [default: $PROVENANCE_TRUST_DIR or the user config dir].",
        ),
        click.option("--no-trust-store", is_flag=True, help="Ignore the trust store; use only --trust/--allowed."),
        click.option(
            "--manifest",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Sidecar manifest (.c2pa) of INPUT [default: embedded, else NAME.c2pa next to it].",
        ),
        click.option(
            "--allow-invalid-parent",
            is_flag=True,
            help="Edit a source whose credentials are tampered or invalid; the failure is recorded.",
        ),
        click.option("--title", help="Title of the new manifest [default: the output file name]."),
        click.option(
            "--flat-hash",
            is_flag=True,
            help="Bind MP4/MOV output with one flat hash instead of 1 MiB Merkle leaves "
            "(also BMFF hash v3, for validators without Merkle-tree support).",
        ),
        click.option("--force", is_flag=True, help="Replace OUTPUT if it exists."),
        click.option(
            "--register",
            "register_at",
            is_flag=False,
            flag_value="",
            default=None,
            metavar="[REPO]",
            help="Record the output's content fingerprint (c2pa.soft-binding) and register its manifest in a "
            "repository [alone: $PROVENANCE_REPO, else the default one].",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


@contextlib.contextmanager
def _common(kw: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Turn the shared options into the library's keyword arguments; the
    signer is open (a token session, say) until the block ends."""
    with contextlib.ExitStack() as stack:
        signer = stack.enter_context(signer_from_options(kw))
        kw.pop("keys_dir")  # the signer's; trust never comes from a keys folder
        register_at = kw.pop("register_at")
        repository = None
        if register_at is not None:
            from provenance.repository import open_repository

            repository = stack.enter_context(
                open_repository(register_at or os.environ.get("PROVENANCE_REPO") or None, create=True)
            )
        trust = build_trust(
            anchors=kw.pop("anchors"),
            allowed=kw.pop("allowed"),
            trust_dir=kw.pop("trust_dir"),
            use_store=not kw.pop("no_trust_store"),
        )
        yield {
            "signer": signer,
            "trust": trust,
            "manifest": kw.pop("manifest"),
            "allow_invalid_parent": kw.pop("allow_invalid_parent"),
            "force": kw.pop("force"),
            "title": kw.pop("title"),
            "flat_hash": kw.pop("flat_hash"),
            "register": repository,
        }


def _report(result: edit.EditResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    parent = {
        "no_credentials": "the source was not signed; recorded as an unsigned ingredient",
        "tampered": "the source's credentials are TAMPERED; the failure is recorded",
        "invalid": "the source's credentials are INVALID; the failure is recorded",
    }.get(
        result.parent_verdict,
        f"source credentials ({result.parent_credentials}, {result.parent_verdict}) kept as parent",
    )
    console.print(f"[green]✓[/] {result.operation}: wrote {shown(result.output)}, signed as {shown(result.signer)}")
    for entry in result.actions:
        params = ", ".join(f"{inert(k)}={inert(v)}" for k, v in sorted((entry.get("parameters") or {}).items()))
        console.print(Text(f"  {inert(entry['action'])}" + (f" ({params})" if params else "")))
    console.print(Text(f"  {inert(parent)}"))
    console.print(f"  manifest {shown(result.manifest_id)}")
    if result.timestamped_at:
        console.print(f"  time-stamped {shown(result.timestamped_at)} by {shown(result.timestamp_authority)}")
    if result.registered_in:
        how = "with its content fingerprint" if result.soft_binding else f"({shown(result.registration_note)})"
        console.print(f"  registered in {shown(result.registered_in)} {how}")


def _bitrate(text: str | None) -> int | None:
    if text is None:
        return None
    units = {"k": 1_000, "m": 1_000_000}
    value = text.strip().lower()
    try:
        number = float(value[:-1]) * units[value[-1]] if value[-1:] in units else float(value)
    except (ValueError, IndexError):
        raise UsageError(
            f"--bitrate {text!r}: not a bit rate", hint="give bits per second, e.g. 800k or 2.5M"
        ) from None
    if number <= 0:
        raise UsageError(f"--bitrate {text!r}: must be positive", hint="e.g. 800k")
    return int(number)


def _fps(text: str | None) -> Fraction | None:
    if text is None:
        return None
    try:
        rate = Fraction(text.strip()).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"--fps {text!r}: not a frame rate", hint="e.g. 25, 29.97 or 30000/1001") from None
    if not 0 < rate <= 240:
        raise UsageError(f"--fps {text!r}: out of range", hint="give a rate between 1 and 240")
    return rate


@click.command()
@edit_options
@click.option(
    "--video-codec",
    type=click.Choice(sorted(VIDEO_CODECS)),
    default=None,
    help="Video codec [default: h264; mpeg4 in AVI].",
)
@click.option(
    "--crf", type=click.IntRange(0, 63), default=None, help="Constant quality (h264, hevc, vp9); lower is better."
)
@click.option("--bitrate", default=None, help="Video bit rate, e.g. 800k or 2M (instead of --crf).")
@click.option(
    "--height",
    type=click.IntRange(16, 8640),
    default=None,
    help="Scale to this height; the width keeps the aspect ratio.",
)
@click.option("--fps", default=None, help="Output frame rate, e.g. 25 or 30000/1001 [default: the source's].")
@click.option(
    "--audio",
    type=click.Choice(AUDIO_MODES),
    default="copy",
    show_default=True,
    help="Copy the audio stream, re-encode it to AAC (MP3 in AVI), or drop it.",
)
def transcode(
    input: Path,
    output: Path,
    as_json: bool,
    video_codec: str | None,
    crf: int | None,
    bitrate: str | None,
    height: int | None,
    fps: str | None,
    audio: str,
    **kw: Any,
) -> None:
    """Re-encode INPUT and sign the result, INPUT kept as parent.

    Records c2pa.transcoded (codec, quality, frame rate, audio, container)
    and c2pa.resized when the picture size changes. Exit codes: 0 done,
    1 the source's credentials are tampered/invalid (see
    --allow-invalid-parent), 2 usage, 5 unreadable input, 6 key problem.
    """
    rate, frame_rate = _bitrate(bitrate), _fps(fps)
    with _common(kw) as common:
        result = edit.transcode(
            input,
            output,
            video_codec=video_codec,
            crf=crf,
            bitrate=rate,
            height=height,
            fps=frame_rate,
            audio=audio,
            **common,
        )
    _report(result, as_json)


@click.command()
@edit_options
@click.option("--start", default="0", show_default=True, help="Start of the span to keep: seconds or [HH:]MM:SS(.fff).")
@click.option("--end", default=None, help="End of the span to keep [default: the end of the clip].")
@click.option(
    "--tolerance",
    type=float,
    default=None,
    help="How far (seconds) a cut may move to the nearest keyframe for a lossless stream copy "
    "[default: one frame]; 0 forces an exact re-encoded cut unless the cut is on a keyframe.",
)
def trim(
    input: Path, output: Path, as_json: bool, start: str, end: str | None, tolerance: float | None, **kw: Any
) -> None:
    """Keep a time span of INPUT and sign the result, INPUT kept as parent.

    Cuts on keyframes with stream copy when that is exact enough, and
    re-encodes otherwise. Records c2pa.edited with the time range.
    """
    if tolerance is not None and tolerance < 0:
        raise UsageError("--tolerance must not be negative", hint="give seconds, e.g. 0.04")
    start_at, end_at = parse_time(start), parse_time(end) if end is not None else None
    with _common(kw) as common:
        result = edit.trim(input, output, start=start_at, end=end_at, tolerance=tolerance, **common)
    _report(result, as_json)


@click.command()
@edit_options
def remux(input: Path, output: Path, as_json: bool, **kw: Any) -> None:
    """Change INPUT's container without re-encoding and sign it, INPUT kept as parent.

    Copies the video and audio streams as they are, say WebM, MKV or MOV
    into MP4. Records c2pa.repackaged. When the streams cannot go into the output
    container as they are, use 'provenance transcode'.
    """
    with _common(kw) as common:
        result = edit.remux(input, output, **common)
    _report(result, as_json)
