"""Repository lookup latency: p50/p95 of `Repository.lookup` at 1k, 10k and
100k registered clips, on SQLite and on PostgreSQL.

    python benchmarks/bench_repository.py [--sizes 1000 10000 100000] [--queries 200]
                                          [--backends sqlite postgresql] [--postgres URL]

Each registered clip has a synthetic fingerprint: 60 random 256-bit hashes,
one a second (the band index sees what it would see from real clips whose
hashes are spread out; real hashes cluster more, so this is the best case
for chance band hits and the typical case for the index work). A query is a
15 s excerpt of a registered clip from a random second with 16 of 256 bits
flipped in every hash (a re-encoded, cut copy); a lookup is timed from the
call to the ranked answer, scoring with the fingerprint's compare()
included. Clips are added in batches inside Repository.bulk() (band indexes built
once at the end of each size); sizes grow in one repository. The
PostgreSQL server is started in a temp folder (Debian's postgresql, as the
tests do) unless --postgres names one; its database must be empty. Prints a
table and writes benchmarks/out/bench_repository.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provenance.media.fingerprint import Fingerprint  # noqa: E402
from provenance.repository import Repository, SignerInfo, open_repository  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
HASHES = 60
SIGNER = SignerInfo("Jane Doe", "Example News", "Example News Root", "2026-11-30T12:00:00Z")


def clip_fingerprint(index: int) -> Fingerprint:
    rng = random.Random(index)
    return Fingerprint(
        algorithm="org.example.synthetic.1",
        hashes=tuple((float(t), rng.randbytes(32)) for t in range(HASHES)),
        duration=float(HASHES),
    )


def excerpt(fp: Fingerprint, rng: random.Random, *, seconds: int = 15, bits: int = 16) -> Fingerprint:
    start = rng.randrange(0, len(fp.hashes) - seconds)
    out = []
    for i, (_, digest) in enumerate(fp.hashes[start : start + seconds]):
        value = int.from_bytes(digest, "big")
        for bit in rng.sample(range(256), bits):
            value ^= 1 << bit
        out.append((float(i), value.to_bytes(32, "big")))
    return Fingerprint(algorithm=fp.algorithm, hashes=tuple(out), duration=float(seconds))


def fill(repo: Repository, start: int, stop: int, *, chunk: int = 2000) -> float:
    began = time.perf_counter()
    with repo.bulk():
        for base in range(start, stop, chunk):
            with repo.batch():
                for i in range(base, min(stop, base + chunk)):
                    repo.register(
                        b"manifest-store-%08d" % i + bytes(480),
                        manifest_id=f"urn:c2pa:bench-{i:08d}",
                        signer=SIGNER,
                        title=f"clip {i}",
                        fingerprint=clip_fingerprint(i),
                    )
    repo.analyze()
    return time.perf_counter() - began


def measure(repo: Repository, size: int, queries: int, rng: random.Random) -> dict[str, float]:
    times, hits, false = [], 0, 0
    for q in range(queries):
        if q % 5 == 4:  # one in five: content that was never registered
            query, want = clip_fingerprint(10**9 + q), None
        else:
            target = rng.randrange(size)
            query, want = excerpt(clip_fingerprint(target), rng), f"urn:c2pa:bench-{target:08d}"
        began = time.perf_counter()
        found = repo.lookup(query)
        times.append((time.perf_counter() - began) * 1000)
        if want is None:
            false += bool(found)
        else:
            hits += bool(found) and found[0].manifest_id == want
    registered = queries - queries // 5
    cuts = statistics.quantiles(times, n=100)
    return {
        "p50_ms": round(cuts[49], 2),
        "p95_ms": round(cuts[94], 2),
        "max_ms": round(max(times), 2),
        "top1": round(hits / registered, 4),
        "false_matches": false,
    }


@contextlib.contextmanager
def location(backend: str, folder: Path, postgres: str | None) -> Iterator[str]:
    if backend == "sqlite":
        yield str(folder / "repository.sqlite")
    elif postgres:
        yield postgres
    else:
        from tests.support.postgres import running_postgres

        with running_postgres(
            settings=("shared_buffers=512MB", "max_wal_size=4GB", "maintenance_work_mem=512MB")
        ) as url:
            yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres", help="an empty PostgreSQL database to use instead of a temporary server")
    args = parser.parse_args()
    results = []
    for backend in args.backends:
        with (
            tempfile.TemporaryDirectory(prefix="bench-repo-") as tmp,
            location(backend, Path(tmp), args.postgres) as url,
            open_repository(url, create=True) as repo,
        ):
            have = 0
            for size in sorted(args.sizes):
                load = fill(repo, have, size)
                have = size
                row = {
                    "backend": backend,
                    "clips": size,
                    "hashes": size * HASHES,
                    "load_s": round(load, 1),
                    **measure(repo, size, args.queries, random.Random(size)),
                }
                results.append(row)
                print(
                    f"{backend:10} {size:>7} clips  p50 {row['p50_ms']:7.2f} ms  p95 {row['p95_ms']:7.2f} ms  "
                    f"max {row['max_ms']:7.2f} ms  top-1 {row['top1']:.3f}  false {row['false_matches']}  "
                    f"(loaded in {row['load_s']} s)",
                    flush=True,
                )
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_repository.json").write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "queries": args.queries,
                "hashes_per_clip": HASHES,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
