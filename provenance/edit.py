"""Edits that keep the chain: transcode, trim and remux a clip, then sign
the result with the operator's identity, the source recorded as its
``parentOf`` ingredient.

Whoever changes a clip says what they did (the actions, with their
parameters) and signs it; the source's credentials travel inside the new
manifest store, so a verifier sees creator → editor → platform.

>>> from provenance.edit import transcode
>>> transcode("clip.signed.mp4", "clip.720p.mp4", signer=platform, height=720).manifest_id  # doctest: +SKIP
'urn:c2pa:…'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance._sign_step import check_signer, embeddable_output, scratch_file, sign_with_parent, signer_name
from provenance.credentials.manifest import action
from provenance.identity.signer import Signer
from provenance.media import formats
from provenance.media import transcode as media
from provenance.parent import Parent, read_parent
from provenance.trust.store import TrustStore

if TYPE_CHECKING:
    from provenance.repository import Repository


@dataclass(frozen=True)
class EditResult:
    """What an edit wrote and recorded."""

    operation: str  # "transcode", "trim" or "remux"
    input: Path
    output: Path
    manifest_id: str
    format: str
    signer: str
    parent_verdict: str  # the source's credentials: verified, untrusted, no_credentials, tampered, invalid
    parent_credentials: str | None  # "embedded", "sidecar", or None when the source was not signed
    actions: tuple[Mapping[str, Any], ...]  # the actions recorded after c2pa.opened
    timestamped_at: str | None = None  # the RFC 3161 time-stamp's time, with --tsa
    timestamp_authority: str | None = None  # the TSA that stamped it
    registered_in: str | None = None  # the repository the new manifest was registered in
    soft_binding: bool = False  # the manifest records the content fingerprint (with a repository)
    registration_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "input": str(self.input),
            "output": str(self.output),
            "manifest_id": self.manifest_id,
            "format": self.format,
            "signer": self.signer,
            "parent_verdict": self.parent_verdict,
            "parent_credentials": self.parent_credentials,
            "actions": [dict(a) for a in self.actions],
            "timestamped_at": self.timestamped_at,
            "timestamp_authority": self.timestamp_authority,
            "registered_in": self.registered_in,
            "soft_binding": self.soft_binding,
            "registration_note": self.registration_note,
        }


def sign_edit(
    *,
    operation: str,
    parent: Parent,
    media_file: Path,
    output: Path,
    fmt: formats.MediaFormat,
    signer: Signer,
    trust: TrustStore,
    actions: list[dict[str, Any]],
    title: str | None = None,
    when: dt.datetime,
    flat_hash: bool = False,
    force: bool = True,
    register: Repository | None = None,
) -> EditResult:
    """Sign *media_file* (the edited media) into *output*: ``c2pa.opened``
    of *parent*, then *actions*, with a claim thumbnail of the result.
    MP4/MOV media is bound by 1 MiB Merkle leaves unless *flat_hash*."""
    done = sign_with_parent(
        parent=parent,
        media_file=media_file,
        output=output,
        fmt=fmt,
        signer=signer,
        trust=trust,
        actions=actions,
        title=title,
        when=when,
        flat_hash=flat_hash,
        force=force,
        register=register,
    )
    return EditResult(
        operation=operation,
        input=parent.path,
        output=output,
        manifest_id=done.manifest_id,
        format=fmt.name,
        signer=signer_name(signer),
        parent_verdict=parent.verdict.value,
        parent_credentials=parent.report.credentials_source if parent.signed else None,
        actions=tuple(actions),
        timestamped_at=done.timestamped_at,
        timestamp_authority=done.timestamp_authority,
        registered_in=register.location if register is not None else None,
        soft_binding=done.soft_binding,
        registration_note=done.registration_note,
    )


def _edit(
    operation: str,
    input: Path | str,
    output: Path | str,
    *,
    signer: Signer,
    trust: TrustStore | None,
    manifest: Path | None,
    allow_invalid_parent: bool,
    force: bool,
    title: str | None,
    flat_hash: bool,
    register: Repository | None = None,
    produce: Callable[[Path, formats.MediaFormat, Parent, dt.datetime], list[dict[str, Any]]],
) -> EditResult:
    src, dst = Path(input), Path(output)
    trust = trust or TrustStore()
    formats.detect_any(src)  # a missing or empty input fails here, before any work
    fmt = embeddable_output(src, dst, force=force)
    check_signer(signer)  # before any decoding: refuse a chain validators would reject
    parent = read_parent(src, trust=trust, manifest=manifest)
    parent.require_valid(allow_invalid=allow_invalid_parent)
    when = dt.datetime.now(dt.UTC)
    with scratch_file(dst) as scratch:
        actions = produce(scratch, fmt, parent, when)
        return sign_edit(
            operation=operation,
            parent=parent,
            media_file=scratch,
            output=dst,
            fmt=fmt,
            signer=signer,
            trust=trust,
            actions=actions,
            title=title,
            when=when,
            flat_hash=flat_hash,
            force=force,
            register=register,
        )


def transcode(
    input: Path | str,
    output: Path | str,
    *,
    signer: Signer,
    trust: TrustStore | None = None,
    video_codec: str | None = None,
    crf: int | None = None,
    bitrate: int | None = None,
    height: int | None = None,
    fps: Fraction | None = None,
    audio: str = "copy",
    manifest: Path | None = None,
    allow_invalid_parent: bool = False,
    force: bool = False,
    title: str | None = None,
    flat_hash: bool = False,
    register: Repository | None = None,
) -> EditResult:
    """Re-encode *input* into *output* (container by extension) and sign it.

    Records ``c2pa.transcoded`` with the codec, quality, frame rate, audio
    and container, and ``c2pa.resized`` when the picture size changed.
    *input*'s credentials (embedded, or the sidecar *manifest*, or one found
    next to it) become the parent ingredient; tampered or invalid ones are
    refused unless *allow_invalid_parent*. MP4/MOV output is bound by 1 MiB
    Merkle leaves, or one flat hash with *flat_hash* (as :func:`provenance.sign`).
    *input* is never modified; *output* appears complete or not at all.

    >>> transcode("in.mp4", "out.mp4", signer=platform, height=480, crf=28)  # doctest: +SKIP
    """

    def produce(scratch: Path, fmt: formats.MediaFormat, parent: Parent, when: dt.datetime) -> list[dict[str, Any]]:
        outcome = media.transcode_media(
            parent.path,
            scratch,
            muxer=media.container_for(fmt.name),
            video_codec=video_codec,
            crf=crf,
            bitrate=bitrate,
            height=height,
            fps=fps,
            audio=audio,
        )
        params: dict[str, Any] = {
            "container": fmt.name,
            "videoCodec": outcome.video_codec,
            "frameRate": _rate(outcome.fps),
            "audio": outcome.audio,
        }
        if outcome.crf is not None:
            params["crf"] = outcome.crf
        if outcome.bitrate is not None:
            params["bitrate"] = outcome.bitrate
        if outcome.source.video_codec:
            params["sourceVideoCodec"] = outcome.source.video_codec
        actions = [action("c2pa.transcoded", when=when, parameters=params)]
        if outcome.resized:
            actions.append(
                action(
                    "c2pa.resized",
                    when=when,
                    parameters={"from": outcome.source.size, "to": f"{outcome.width}x{outcome.height}"},
                )
            )
        return actions

    return _edit(
        "transcode",
        input,
        output,
        signer=signer,
        trust=trust,
        manifest=manifest,
        allow_invalid_parent=allow_invalid_parent,
        force=force,
        title=title,
        flat_hash=flat_hash,
        register=register,
        produce=produce,
    )


def trim(
    input: Path | str,
    output: Path | str,
    *,
    signer: Signer,
    start: float = 0.0,
    end: float | None = None,
    trust: TrustStore | None = None,
    tolerance: float | None = None,
    manifest: Path | None = None,
    allow_invalid_parent: bool = False,
    force: bool = False,
    title: str | None = None,
    flat_hash: bool = False,
    register: Repository | None = None,
) -> EditResult:
    """Keep [*start*, *end*) seconds of *input* in *output* and sign it.

    Cuts on keyframes with stream copy when both cut points are within
    *tolerance* (default one frame) of a keyframe and the container stays
    the same; re-encodes and cuts exactly otherwise. Records ``c2pa.edited``
    with the requested and actual time range and the method. The C2PA
    action list has no trimming action, so ``c2pa.edited`` (changes to the
    editorial content) is the one that fits.

    >>> trim("in.mp4", "out.mp4", signer=editor, start=1.0, end=3.0)  # doctest: +SKIP
    """

    def produce(scratch: Path, fmt: formats.MediaFormat, parent: Parent, when: dt.datetime) -> list[dict[str, Any]]:
        outcome = media.trim_media(
            parent.path,
            scratch,
            muxer=media.container_for(fmt.name),
            start=start,
            end=end,
            tolerance=tolerance,
            same_container=parent.format.name == fmt.name or {parent.format.name, fmt.name} <= {"MP4", "M4V"},
        )
        params: dict[str, Any] = {
            "description": "trimmed",
            "start": round(outcome.start, 6),
            "end": round(outcome.end, 6),
            "method": outcome.method,
        }
        if (outcome.start, outcome.end) != (outcome.requested_start, outcome.requested_end):
            params["requestedStart"] = round(float(outcome.requested_start), 6)
            params["requestedEnd"] = round(float(outcome.requested_end), 6)
        return [action("c2pa.edited", when=when, parameters=params)]

    return _edit(
        "trim",
        input,
        output,
        signer=signer,
        trust=trust,
        manifest=manifest,
        allow_invalid_parent=allow_invalid_parent,
        force=force,
        title=title,
        flat_hash=flat_hash,
        register=register,
        produce=produce,
    )


def remux(
    input: Path | str,
    output: Path | str,
    *,
    signer: Signer,
    trust: TrustStore | None = None,
    manifest: Path | None = None,
    allow_invalid_parent: bool = False,
    force: bool = False,
    title: str | None = None,
    flat_hash: bool = False,
    register: Repository | None = None,
) -> EditResult:
    """Copy the streams of *input* into the container of *output* (e.g.
    WebM, MKV or MOV → MP4) without re-encoding, and sign it. Records
    ``c2pa.repackaged`` ("a conversion of one packaging or container format
    to another") with both container names and the streams copied.

    >>> remux("clip.webm", "clip.mp4", signer=platform)  # doctest: +SKIP
    """

    def produce(scratch: Path, fmt: formats.MediaFormat, parent: Parent, when: dt.datetime) -> list[dict[str, Any]]:
        outcome = media.remux_media(parent.path, scratch, muxer=media.container_for(fmt.name))
        return [
            action(
                "c2pa.repackaged",
                when=when,
                parameters={"from": parent.format.name, "to": fmt.name, "streams": ", ".join(outcome.streams)},
            )
        ]

    return _edit(
        "remux",
        input,
        output,
        signer=signer,
        trust=trust,
        manifest=manifest,
        allow_invalid_parent=allow_invalid_parent,
        force=force,
        title=title,
        flat_hash=flat_hash,
        register=register,
        produce=produce,
    )


def _rate(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{float(rate):.3f}"
