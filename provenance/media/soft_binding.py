"""Check a clip's content against a signed ``c2pa.soft-binding`` assertion.

A repository answers "this content matches that signed original"; the
answer is only as good as the repository. The original's own manifest
carries, signed, the ISCC Content-Code Image of each second
(:func:`provenance.media.fingerprint.soft_binding_assertion`), so a
verifier confirms the match against what the signer committed to, not
against what the repository says: a repository that returns a genuine
manifest of other content is caught here.

:func:`confirm` slides the query's per-second codes along the signed ones
and scores the best alignment: the share of overlapping seconds whose codes
are within :data:`NEAR_BITS` of each other. Two unrelated 64-bit codes
differ in 32 bits on average and fall within 12 about once in a thousand,
so :data:`MIN_SECONDS` close seconds at :data:`CONFIRM_SHARE` are not chance.
The share is lower for an excerpt cut between seconds: its frames sit a
fraction of a second from the ones the signer coded (measured: 0.3 for a
10 s excerpt starting at 3.4 s, 0.8 or more for whole copies, 0.0 for other
scenes and for a second take of the same scene).

>>> confirm(query_fingerprint, assertion_data)  # doctest: +SKIP
Confirmation(share=0.93, seconds=14, offset=3.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NEAR_BITS = 12  # of 64: how far two codes of the same frame may drift after a re-encode
CONFIRM_SHARE = 0.25  # of the overlapping seconds
MIN_SECONDS = 3
ISCC_ALG = "io.iscc.v0"


@dataclass(frozen=True)
class Confirmation:
    """The best alignment of a query with a signed soft binding: the share
    of overlapping seconds that agree, how many overlap, and the offset (in
    seconds of the original) where the query starts."""

    share: float
    seconds: int
    offset: float

    @property
    def close(self) -> int:
        return round(self.share * self.seconds)

    @property
    def confirmed(self) -> bool:
        return self.close >= MIN_SECONDS and self.share >= CONFIRM_SHARE


def signed_codes(assertion: Mapping[str, Any] | None) -> list[tuple[float, bytes]]:
    """``(start seconds, 8-byte code)`` of each block of an ``io.iscc.v0``
    soft-binding assertion, in time order; empty for another algorithm or a
    malformed assertion (nothing to confirm with)."""
    import iscc_core

    if not isinstance(assertion, Mapping) or assertion.get("alg") != ISCC_ALG:
        return []
    out = []
    for block in assertion.get("blocks") or ():
        try:
            start = float(block["scope"]["timespan"]["start"]) / 1000
            *_, digest = iscc_core.iscc_decode(str(block["value"]))
        except (KeyError, TypeError, ValueError, IndexError):
            continue
        if isinstance(digest, bytes) and len(digest) == 8:
            out.append((start, digest))
    return sorted(out)


def confirm(query_codes: Sequence[tuple[float, bytes]], signed: Sequence[tuple[float, bytes]]) -> Confirmation:
    """The best alignment of the query's per-second codes (``(time, code)``)
    with the signed ones, by whole-second offsets."""
    best = Confirmation(0.0, 0, 0.0)
    if not query_codes or not signed:
        return best
    mine = {round(t): code for t, code in query_codes}
    theirs = {round(t): code for t, code in signed}
    for shift in range(min(theirs) - max(mine), max(theirs) - min(mine) + 1):
        pairs = [(code, theirs[t + shift]) for t, code in mine.items() if t + shift in theirs]
        if not pairs:
            continue
        close = sum(
            1 for a, b in pairs if (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count() <= NEAR_BITS
        )
        found = Confirmation(close / len(pairs), len(pairs), float(shift))
        if (found.confirmed, found.share, found.seconds) > (best.confirmed, best.share, best.seconds):
            best = found
    return best
