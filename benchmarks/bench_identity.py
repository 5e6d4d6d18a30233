#!/usr/bin/env python3
"""What a CAWG identity assertion costs at signing (`sign --identity-key`),
against the physical limit measured in the same run on the same
(page-cached) file: one SHA-256 pass and a plain copy.

    python benchmarks/bench_identity.py                   # 1 MB and 100 MB, 5 runs each
    python benchmarks/bench_identity.py --sizes 1 100 1000 --runs 7 --json out.json

Rows per size (median of --runs, in-process, around the library call only):
``plain`` is `sign` as it runs by default (one-pass for a flat MP4),
``plain/c2pa-rs`` the same through c2pa-rs's Builder (PROVENANCE_ONE_PASS=0),
``identity`` with a CAWG X.509 identity (always c2pa-rs's Builder: the
identity assertion is added while it writes). The ratios say what the
identity costs in all (identity/plain) and what the identity signature
itself costs (identity/plain-c2pa-rs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sha256_pass(path: Path) -> float:
    def run() -> None:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)

    return _timed(run)


def measure(src: Path, work: Path, *, signer, identity, runs: int) -> dict[str, float]:
    """The medians of one size (see the module docstring)."""
    from provenance.signing import sign

    out = work / "out.mp4"

    def once(**kw) -> float:
        return _timed(lambda: sign(src, out, signer=signer, force=True, **kw))

    def median(fn) -> float:
        fn()  # warm-up: page cache, first c2pa call
        return statistics.median(fn() for _ in range(runs))

    sha = median(lambda: sha256_pass(src))
    copy = median(lambda: _timed(lambda: shutil.copyfile(src, work / "copy.tmp")))
    plain = median(once)
    os.environ["PROVENANCE_ONE_PASS"] = "0"
    try:
        plain_c2pa = median(once)
    finally:
        del os.environ["PROVENANCE_ONE_PASS"]
    with_identity = median(lambda: once(identity=identity))
    return {
        "size_mb": round(src.stat().st_size / 1e6, 1),
        "sha256_s": round(sha, 4),
        "copy_s": round(copy, 4),
        "plain_s": round(plain, 4),
        "plain_c2pa_rs_s": round(plain_c2pa, 4),
        "identity_s": round(with_identity, 4),
        "identity_over_plain": round(with_identity / plain, 2),
        "identity_over_plain_c2pa_rs": round(with_identity / plain_c2pa, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100], help="file sizes in MB")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    from provenance.identity.cawg import CawgIdentity
    from provenance.identity.certificates import Subject
    from provenance.identity.pki import init_dev_pki
    from provenance.identity.signer import KeySigner
    from provenance.media.video import make_large_clip

    work = Path(tempfile.mkdtemp(prefix="provenance-bench-identity-"))
    rows = []
    try:
        pki = init_dev_pki(work / "keys", subject=Subject("Bench Signer", "Bench", "US"))
        who = init_dev_pki(work / "identity", subject=Subject("Bench Person", "Bench", "US"))
        signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain)
        identity = CawgIdentity.from_files(key=who.signer_key, cert=who.chain)
        for mb in args.sizes:
            src = work / f"bench-{mb}MB.mp4"
            make_large_clip(src, size_bytes=mb * 1_000_000)
            rows.append(measure(src, work, signer=signer, identity=identity, runs=args.runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"{'size':>8} {'sha256':>8} {'copy':>8} {'plain':>8} {'c2pa-rs':>8} {'identity':>9} {'id/plain':>9} {'id/c2pa-rs':>10}"
    )
    for r in rows:
        print(
            f"{r['size_mb']:>6.1f}MB {r['sha256_s']:>7.3f}s {r['copy_s']:>7.3f}s {r['plain_s']:>7.3f}s "
            f"{r['plain_c2pa_rs_s']:>7.3f}s {r['identity_s']:>8.3f}s {r['identity_over_plain']:>8.2f}x "
            f"{r['identity_over_plain_c2pa_rs']:>9.2f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
