"""Verify a fragmented MP4 (DASH/CMAF): an init segment and its media
segments, one verdict per segment.

The init segment carries the manifest; its BMFF hash covers every media
segment (each segment carries a Merkle proof of its own), so the init
segment alone does not verify. Each segment is validated with the init
segment (c2pa-python ``Reader.with_fragment``); sequence numbers (``mfhd``)
show segments missing between the ones given.
"""

from __future__ import annotations

import glob as globbing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.credentials import bridge
from provenance.errors import InputError, UsageError
from provenance.media import formats, fragments
from provenance.trust.store import TrustStore
from provenance.verification.policy import Policy
from provenance.verification.report import Status, Verdict, VerificationReport
from provenance.verification.rules import apply_policy, fragmented_verdict
from provenance.verification.verifier import Credentials, report_from_store

SCHEMA = "provenance.verify.fragments/1"


@dataclass(frozen=True)
class SegmentResult:
    """The verdict for one media segment, validated with the init segment."""

    file: str
    verdict: Verdict
    sequence_number: int | None
    failures: tuple[Status, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "verdict": self.verdict.value,
            "sequence_number": self.sequence_number,
            "failures": [s.to_dict() for s in self.failures],
            "error": self.error,
        }


@dataclass(frozen=True)
class FragmentedReport:
    """The outcome of verifying an init segment with its media segments.

    ``verdict`` is the worst segment verdict, and ``tampered`` when
    segments are missing; ``manifest`` is the credential report (signer,
    actions, chain) as read with the first segment.
    """

    init: str
    verdict: Verdict
    manifest: VerificationReport
    segments: tuple[SegmentResult, ...]
    missing: tuple[int, ...]  # sequence numbers absent between the segments given

    @property
    def exit_code(self) -> int:
        return int(self.verdict.exit_code)

    @property
    def summary(self) -> str:
        intact = [s for s in self.segments if s.verdict in (Verdict.VERIFIED, Verdict.UNTRUSTED)]
        bad = [s for s in self.segments if s not in intact]
        parts = [f"{len(intact)} of {len(self.segments)} segment{'s' if len(self.segments) != 1 else ''} intact"]
        if bad:
            parts.append("tampered or unreadable: " + ", ".join(Path(s.file).name for s in bad))
        if self.missing:
            parts.append("missing: sequence " + ", ".join(str(n) for n in self.missing))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "init": self.init,
            "verdict": self.verdict.value,
            "summary": self.summary,
            "segments": [s.to_dict() for s in self.segments],
            "missing": list(self.missing),
            "manifest": self.manifest.to_dict(),
        }


def find_segments(pattern: str, *, init: Path) -> list[Path]:
    """Files matching *pattern*: as given (relative to the current folder),
    or, when that matches nothing, relative to *init*'s folder (as c2pa-rs
    does), without the init segment itself."""
    matches = [Path(p) for p in globbing.glob(pattern)]
    if not matches and not Path(pattern).is_absolute():
        matches = [Path(p) for p in globbing.glob(str(init.parent / pattern))]
    return sorted(p for p in matches if p.is_file() and p.resolve() != init.resolve())


def verify_fragments(
    init: Path | str, segments: Sequence[Path], *, trust: TrustStore | None = None, policy: Policy | None = None
) -> FragmentedReport:
    """Verify the init segment *init* with each media segment in *segments*.

    *policy* is the identity policy of :func:`provenance.verification.verify`: a
    verified segment signed by someone else gets ``wrong_signer``.

    Raises :class:`UsageError` when *segments* is empty and
    :class:`InputError` when *init* is not a readable fragmented MP4 with
    credentials.

    >>> verify_fragments(Path("dashinit.mp4"), [Path("dash1.m4s")], trust=store).summary  # doctest: +SKIP
    '1 of 1 segment intact'
    """
    init = Path(init)
    trust = trust or TrustStore()
    if not segments:
        raise UsageError("no media segments given", hint="give the media segments (.m4s files)", reason="no_segments")
    fmt = formats.detect(init)
    if not fragments.is_init_segment(init):
        raise InputError(
            f"{init}: not the init segment of a fragmented MP4 (no 'mvex' box)",
            hint="verify it as a single file",
            reason="not_init_segment",
        )
    ordered = sorted(
        segments, key=lambda p: (fragments.sequence_number(p) is None, fragments.sequence_number(p) or 0, p.name)
    )
    results: list[SegmentResult] = []
    manifest: VerificationReport | None = None
    for segment in ordered:
        number = fragments.sequence_number(segment)
        try:
            data = bridge.read_fragment(init, segment, trust=trust)
        except InputError as exc:
            results.append(SegmentResult(str(segment), Verdict.ERROR, number, error=exc.diagnostics()))
            continue
        if data is None:
            raise InputError(f"{init}: has no content credentials", hint="sign the fragmented MP4 first")
        report = report_from_store(init, Credentials(fmt, data, "embedded"), trust=trust)
        if policy is not None:
            report = apply_policy(report, policy)
        manifest = manifest or report
        results.append(SegmentResult(str(segment), report.verdict, number, report.failures))
    if manifest is None:
        manifest = VerificationReport(file=str(init), verdict=Verdict.ERROR, error="no segment could be read")
    numbers = sorted({r.sequence_number for r in results if r.sequence_number is not None})
    missing = tuple(n for n in range(numbers[0], numbers[-1] + 1) if n not in numbers) if numbers else ()
    verdict = fragmented_verdict([r.verdict for r in results], missing=bool(missing))
    return FragmentedReport(str(init), verdict, manifest, tuple(results), missing)
