#!/usr/bin/env python3
"""What attaching the signer's OCSP status costs at signing: the median
time of `sign` with the status fetched (`--ocsp`: one POST to the
responder, the answer checked and carried in the manifest) and without,
against the physical limit in the same run (one SHA-256 pass and a plain
copy of the clip).

    python benchmarks/bench_ocsp.py                  # a 20 s clip, 7 runs each
    python benchmarks/bench_ocsp.py --seconds 60 --runs 9 --json out.json

The responder is a real `provenance keys ocsp-serve` on 127.0.0.1 (a
loopback round trip: a remote responder adds its network latency). Runs
alternate (without, with) in one process so both see the same page cache;
the fetch is timed on its own too, and signing with the status already at
hand (what carrying it in the manifest costs, c2pa-rs checking it included).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.identity import ocsp  # noqa: E402
from provenance.identity.certificates import read_chain  # noqa: E402
from provenance.identity.signer import KeySigner  # noqa: E402
from provenance.media.video import make_sample_clip  # noqa: E402
from provenance.signing import sign  # noqa: E402
from tests.support.ocsp import issue_creator, make_org_ca, running_responder  # noqa: E402


def _sha256(path: Path) -> float:
    t = time.perf_counter()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return time.perf_counter() - t


def _copy(path: Path, dst: Path) -> float:
    t = time.perf_counter()
    shutil.copyfile(path, dst)
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the sample clip")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        authority = make_org_ca(work / "ca")
        (work / "creator").mkdir()
        creator = issue_creator(authority, work / "creator", "Bench Creator")
        clip = make_sample_clip(work / "clip.mp4", seconds=args.seconds, width=1280, height=720)
        chain = read_chain(creator.chain)
        plain: list[float] = []
        fetched: list[float] = []
        fetch_only: list[float] = []
        attached: list[float] = []
        with running_responder(authority, work / "responder.log"):
            ocsp.usable_status(chain)  # warm up: imports, first connection
            for _ in range(args.runs):
                signer = KeySigner.from_files(key=creator.key, chain=creator.chain)
                t = time.perf_counter()
                sign(clip, work / "plain.mp4", signer=signer, force=True)
                plain.append(time.perf_counter() - t)
                t = time.perf_counter()
                status = ocsp.usable_status(chain)
                fetch_only.append(time.perf_counter() - t)
                signer.ocsp_response = status.der
                sign(clip, work / "ocsp.mp4", signer=signer, force=True)
                fetched.append(time.perf_counter() - t)
                t = time.perf_counter()  # the status already at hand: what carrying it costs
                sign(clip, work / "ocsp.mp4", signer=signer, force=True)
                attached.append(time.perf_counter() - t)
        size_mb = clip.stat().st_size / 1e6
        result = {
            "clip_mb": round(size_mb, 1),
            "runs": args.runs,
            "sha256_s": round(statistics.median(_sha256(clip) for _ in range(3)), 4),
            "copy_s": round(statistics.median(_copy(clip, work / "copy.mp4") for _ in range(3)), 4),
            "sign_s": round(statistics.median(plain), 4),
            "sign_ocsp_s": round(statistics.median(fetched), 4),
            "fetch_s": round(statistics.median(fetch_only), 4),
            "sign_attached_s": round(statistics.median(attached), 4),
            "ratio": round(statistics.median(fetched) / statistics.median(plain), 3),
            "status_bytes": len(status.der),
        }
    print(f"clip {result['clip_mb']} MB, {args.runs} runs (medians)")
    print(f"  sha256 pass     {result['sha256_s']:.4f} s")
    print(f"  plain copy      {result['copy_s']:.4f} s")
    print(f"  sign            {result['sign_s']:.4f} s")
    print(f"  sign --ocsp     {result['sign_ocsp_s']:.4f} s  (x{result['ratio']})")
    print(f"  fetch + check   {result['fetch_s']:.4f} s  ({result['status_bytes']} bytes in the manifest)")
    print(f"  sign, status at hand  {result['sign_attached_s']:.4f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
