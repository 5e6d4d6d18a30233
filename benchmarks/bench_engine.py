"""Engines compared: the same batch of clips verified on the local process
pool and on 1 and 2 Celery workers on this machine, against the physical
limit measured in the same run (one SHA-256 pass over the files).

    python benchmarks/bench_engine.py [--clips 200] [--seconds 2] [--singles 30]

Makes one signed clip with PyAV and a development PKI, copies it --clips
times, starts a Redis server (Debian's redis-server, 127.0.0.1, a temp
folder) and `provenance worker` processes with the tests' helpers, then
times each engine over the whole batch (results gathered as they come, as
`verify --engine celery` does). Per task:

- in-process cost: the median time of `verify()` on one clip in this
  process (what a task does; the floor for every engine);
- overhead per task: wall time x processes / clips - the in-process
  cost, i.e. what each engine adds per clip when all its processes are busy;
- round trip: the median time from sending one task alone to reading its
  result, minus the in-process cost (1 worker, nothing else queued).

Prints a table and writes benchmarks/out/bench_engine.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provenance import KeySigner, SourceKind, TrustStore, sign, verify  # noqa: E402
from provenance.batch import collect_inputs, default_jobs, verify_batch  # noqa: E402
from provenance.identity.certificates import Subject  # noqa: E402
from provenance.identity.pki import init_dev_pki  # noqa: E402
from provenance.media.video import make_sample_clip  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def sha256_pass(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return time.perf_counter() - start


def check(results: list[object], expected: int) -> None:
    bad = [r for r in results if r.outcome != "verified"]  # type: ignore[attr-defined]
    if bad or len(results) != expected:
        raise SystemExit(f"benchmark run failed: {len(results)} results, first bad: {bad[:1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--singles", type=int, default=30, help="tasks timed one at a time for the round trip")
    args = parser.parse_args()

    from provenance.tasks import make_app
    from provenance.tasks.app import VERIFY
    from provenance.tasks.client import verify_batch as celery_verify_batch
    from tests.support.celery_workers import running_workers
    from tests.support.redis_server import running_redis

    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    rows: list[dict[str, object]] = []
    try:
        pki = init_dev_pki(work / "keys", subject=Subject("Bench", "Bench Newsroom", "US"))
        trust = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.ANCHORS, name="bench root")
        signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain)
        clips = work / "clips"
        clips.mkdir()
        sample = make_sample_clip(work / "sample.mp4", seconds=args.seconds)
        first = sign(sample, clips / "clip000.mp4", signer=signer).output
        for i in range(1, args.clips):
            shutil.copyfile(first, clips / f"clip{i:03d}.mp4")
        inputs = collect_inputs([clips]).inputs
        megabytes = sum(i.size for i in inputs) / 1e6

        hash_s = sha256_pass([i.path for i in inputs])
        one: list[float] = []
        for _ in range(args.singles):
            start = time.perf_counter()
            verify(first, trust=trust)
            one.append(time.perf_counter() - start)
        in_process = statistics.median(one)

        def row(engine: str, processes: int, seconds: float, round_trip: float | None = None) -> None:
            rows.append(
                {
                    "engine": engine,
                    "processes": processes,
                    "seconds": round(seconds, 3),
                    "files_per_s": round(len(inputs) / seconds, 1),
                    "overhead_ms": round((seconds * processes / len(inputs) - in_process) * 1000, 1),
                    "round_trip_overhead_ms": None if round_trip is None else round(round_trip * 1000, 1),
                }
            )

        list(verify_batch(inputs[:2], trust=trust, jobs=2))  # start the fork server outside the timing
        for jobs in (1, 2):
            start = time.perf_counter()
            results = list(verify_batch(inputs, trust=trust, jobs=jobs))
            check(results, len(inputs))
            row("local pool", jobs, time.perf_counter() - start)

        worker_args = ["--no-trust-store", "--trust", str(pki.root_cert)]
        with running_redis(work) as redis:
            app = make_app(redis.url)
            for count in (1, 2):
                with running_workers(redis.url, count, folder=work, args=worker_args):
                    # warm each task process (its first verify imports c2pa)
                    list(celery_verify_batch(inputs[: 2 * count], app=app))
                    round_trip = None
                    if count == 1:
                        times = []
                        for _ in range(args.singles):
                            start = time.perf_counter()
                            report = app.send_task(VERIFY, args=[str(first)]).get(timeout=60)
                            times.append(time.perf_counter() - start)
                            assert report["verdict"] == "verified", report
                        round_trip = statistics.median(times) - in_process
                    start = time.perf_counter()
                    results = list(celery_verify_batch(inputs, app=app))
                    check(results, len(inputs))
                    row("celery", count, time.perf_counter() - start, round_trip)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "clips": len(inputs),
        "clip_mb": round(megabytes / len(inputs), 3),
        "cores": default_jobs(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "sha256_files_per_s": round(len(inputs) / hash_s, 1),
        "sha256_mb_per_s": round(megabytes / hash_s, 1),
        "in_process_verify_ms": round(in_process * 1000, 1),
        "runs": rows,
    }
    print(
        f"{result['clips']} clips of {result['clip_mb']} MB, {result['cores']} cores; "
        f"physical limit (one SHA-256 pass): {result['sha256_files_per_s']} files/s "
        f"({result['sha256_mb_per_s']} MB/s); verify() in process: {result['in_process_verify_ms']} ms/clip"
    )
    print(f"{'engine':>10}  {'procs':>5}  {'files/s':>8}  {'overhead ms/task':>16}  {'round trip +ms':>14}")
    for r in rows:
        trip = "-" if r["round_trip_overhead_ms"] is None else r["round_trip_overhead_ms"]
        print(f"{r['engine']:>10}  {r['processes']:>5}  {r['files_per_s']:>8}  {r['overhead_ms']:>16}  {trip:>14}")
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_engine.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
