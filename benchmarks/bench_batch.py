"""Batch throughput: files/s and MB/s for 1 and N worker processes.

    python benchmarks/bench_batch.py [--clips 16] [--seconds 4] [--jobs N]

Makes a folder of 720p clips with PyAV (encoded losslessly, so each is a
few MB like a real upload rather than a few hundred KB of synthetic
gradient) and a development PKI in a temporary folder, then times `sign_batch` (unsigned clips into an output folder) and
`verify_batch` (the signed clips) with one job and with N jobs (default:
one per core). Forking the workers and handing them the job is included;
starting the fork server (once per process) is not. Prints
a table and writes benchmarks/out/bench_batch.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

from provenance import KeyFileSignerFactory, SourceKind, TrustStore
from provenance.batch import collect_inputs, default_jobs, sign_batch, verify_batch
from provenance.identity.certificates import Subject
from provenance.identity.pki import init_dev_pki
from provenance.media.video import make_sample_clip, reencode

OUT = Path(__file__).resolve().parent / "out"


def timed(run: object) -> float:
    start = time.perf_counter()
    results = list(run)  # type: ignore[call-overload]
    elapsed = time.perf_counter() - start
    bad = [r for r in results if r.outcome not in ("signed", "verified")]
    if bad:
        raise SystemExit(f"benchmark run failed: {bad[0].path}: {bad[0].error}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        pki = init_dev_pki(work / "keys", subject=Subject("Bench", "Bench Newsroom", "US"))
        trust = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.ANCHORS, name="bench root")
        signer = KeyFileSignerFactory(key=pki.signer_key, chain=pki.chain)
        src = work / "clips"
        src.mkdir()
        sample = make_sample_clip(work / "sample.mp4", seconds=args.seconds, width=1280, height=720)
        first = reencode(sample, src / "clip000.mp4", crf=0)
        for i in range(1, args.clips):
            shutil.copyfile(first, src / f"clip{i:03d}.mp4")
        inputs = collect_inputs([src]).inputs
        megabytes = sum(i.size for i in inputs) / 1e6

        # Start the worker fork server before timing: a process pays it once
        # (about a second: one import of provenance), not per batch.
        list(verify_batch(inputs[:2], trust=trust, jobs=2))

        rows = []
        for jobs in sorted({1, args.jobs}):
            out = work / f"signed-{jobs}"
            sign_s = timed(sign_batch(inputs, outdir=out, signer=signer, jobs=jobs))
            signed = collect_inputs([out]).inputs
            verify_s = timed(verify_batch(signed, trust=trust, jobs=jobs))
            signed_mb = sum(i.size for i in signed) / 1e6
            rows.append(
                {
                    "jobs": jobs,
                    "sign_files_per_s": round(len(inputs) / sign_s, 2),
                    "sign_mb_per_s": round(megabytes / sign_s, 2),
                    "verify_files_per_s": round(len(signed) / verify_s, 2),
                    "verify_mb_per_s": round(signed_mb / verify_s, 2),
                }
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base, best = rows[0], rows[-1]
    result = {
        "clips": args.clips,
        "clip_mb": round(megabytes / args.clips, 2),
        "cores": default_jobs(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "runs": rows,
        "scaling": {
            "sign": round(best["sign_files_per_s"] / base["sign_files_per_s"], 2),
            "verify": round(best["verify_files_per_s"] / base["verify_files_per_s"], 2),
        },
    }
    print(f"{args.clips} clips of {result['clip_mb']} MB, {result['cores']} cores")
    print(f"{'jobs':>4}  {'sign files/s':>12}  {'sign MB/s':>9}  {'verify files/s':>14}  {'verify MB/s':>11}")
    for row in rows:
        print(
            f"{row['jobs']:>4}  {row['sign_files_per_s']:>12}  {row['sign_mb_per_s']:>9}  "
            f"{row['verify_files_per_s']:>14}  {row['verify_mb_per_s']:>11}"
        )
    print(f"scaling {best['jobs']} jobs vs 1: sign ×{result['scaling']['sign']}, verify ×{result['scaling']['verify']}")
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_batch.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
