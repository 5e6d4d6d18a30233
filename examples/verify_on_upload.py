"""Verify on upload: check every uploaded clip and reject the tampered ones.

    python examples/verify_on_upload.py --trust keys/root-ca.pem upload1.mp4 upload2.mov ...

Prints one line per clip (accepted or rejected, and why) and exits 1 when a
clip was rejected. The trust store is built once and shared by a thread pool:
it is immutable, so checking many uploads at once needs no locking. (It also
pickles, so a process pool can be given it the same way.)
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from provenance import SourceKind, TrustStore, Verdict, VerificationReport, verify

# What the upload path refuses outright. Unsigned and untrusted clips are
# accepted but labelled, as most uploads carry no credentials yet.
REJECT = frozenset({Verdict.TAMPERED, Verdict.INVALID})


@dataclass(frozen=True)
class UploadDecision:
    accepted: bool
    label: str
    report: VerificationReport


class UploadChecker:
    """Built once per worker; :meth:`check` is safe to call from many threads."""

    def __init__(self, trust: TrustStore) -> None:
        self._trust = trust

    def check(self, upload: Path) -> UploadDecision:
        report = verify(upload, trust=self._trust)
        if report.verdict in REJECT:
            reason = report.failures[0].code if report.failures else report.verdict.value
            return UploadDecision(False, f"rejected: {report.verdict.value} ({reason})", report)
        if report.verdict is Verdict.VERIFIED and report.signer is not None:
            return UploadDecision(True, f"accepted: signed by {report.signer.display()}", report)
        return UploadDecision(True, f"accepted, labelled {report.verdict.value}", report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("uploads", type=Path, nargs="+")
    parser.add_argument("--trust", type=Path, action="append", default=[], help="PEM of a trusted root CA")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)

    trust = TrustStore()
    for pem in args.trust:
        trust = trust.with_pem_file(pem, kind=SourceKind.ANCHORS, name=pem.name)
    checker = UploadChecker(trust)
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        decisions = list(pool.map(checker.check, args.uploads))
    for upload, decision in zip(args.uploads, decisions, strict=True):
        print(f"{upload}: {decision.label}")
    return 0 if all(d.accepted for d in decisions) else 1


if __name__ == "__main__":
    sys.exit(main())
