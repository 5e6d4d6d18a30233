#!/usr/bin/env python3
"""Speed and memory of `provenance sign` and `verify` against the physical
limit: one SHA-256 pass over the file and a plain copy, measured in the same
run on the same (page-cached) file.

    python benchmarks/bench_sign_verify.py                 # 100 MB and 1 GB, 3 runs each
    python benchmarks/bench_sign_verify.py --sizes 100 2000 --runs 5 --json out.json

Each timed operation runs in a fresh subprocess so that its peak RSS
(ru_maxrss) is its own; the time is measured inside the child around the
library call only (interpreter start-up and imports excluded). The start-up
rows time the `provenance` command itself, wall clock from the outside:
`provenance --help`, `provenance verify` of a ~1 MB signed clip, and
`provenance verify` of each size against one SHA-256 pass ("cli/sha", the
median of --runs CLI runs over the median SHA-256 pass).

The package's bytecode is compiled first, as `pip install` does: a checkout
run with PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module of
provenance on each start (~60 ms), which no installed copy pays.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
op, src, dst, keys = sys.argv[1:5]
from provenance.identity.signer import KeySigner
from provenance.identity.pki import DevPKI
from provenance.trust.store import TrustStore, SourceKind
pki = DevPKI(Path(keys))
if op in ("sign", "sign-flat"):
    from provenance.signing import sign
    signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain)
    t = time.perf_counter(); sign(src, dst, signer=signer, force=True, flat_hash=op == "sign-flat"); elapsed = time.perf_counter() - t
elif op == "verify":
    from provenance.verification.verifier import verify
    trust = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.ANCHORS)
    t = time.perf_counter(); report = verify(src, trust=trust); elapsed = time.perf_counter() - t
    assert report.verdict.value == "verified", report.verdict
print(json.dumps({"seconds": elapsed, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BASELINE_CHILD = r"""
import json, resource, sys
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def sha256_pass(path: Path) -> float:
    t = time.perf_counter()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return time.perf_counter() - t


def plain_copy(path: Path, dst: Path) -> float:
    t = time.perf_counter()
    shutil.copyfile(path, dst)
    with open(dst, "rb+") as fh:
        os.fsync(fh.fileno())
    elapsed = time.perf_counter() - t
    dst.unlink()
    return elapsed


def child(op: str, src: Path, dst: Path, keys: Path) -> dict[str, float]:
    if op.startswith("sign"):
        # into a new file, as the plain copy does: replacing the last run's
        # output would add the time to free a gigabyte of blocks to the sign
        dst.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, op, str(src), str(dst), str(keys)], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"{op} {src.name} failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# A small launcher times the command: a child forked from this (large)
# process would inherit its peak RSS in ru_maxrss.
LAUNCHER = r"""
import os, sys, time
t = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=[
    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - t, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))
"""


def run_cli(args: list[str], *, cwd: Path) -> tuple[float, float, int]:
    """``(wall seconds, peak RSS in MB, exit code)`` of one `provenance`
    command in a fresh process, start-up and imports included."""
    exe = Path(sys.executable).with_name("provenance")
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", LAUNCHER, str(exe), *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def cli_verify_args(signed: Path, keys: Path) -> list[str]:
    # Exactly the trust named here: no trust store, no development root.
    return ["verify", str(signed), "--trust", str(keys / "root-ca.pem"), "--no-trust-store", "--json"]


def startup(work: Path, keys: Path, runs: int) -> dict[str, float]:
    """Medians of *runs* fresh `provenance --help` and `provenance verify`
    (of a ~1 MB signed clip) processes: wall seconds and peak RSS."""
    from provenance.media.video import make_large_clip

    clip, signed = work / "startup-1MB.mp4", work / "startup-1MB.signed.mp4"
    if not clip.exists():
        make_large_clip(clip, size_bytes=1_000_000)
    child("sign", clip, signed, keys)
    helps = [run_cli(["--help"], cwd=work) for _ in range(runs)]
    verifies = [run_cli(cli_verify_args(signed, keys), cwd=work) for _ in range(runs)]
    if any(code != 0 for *_, code in helps + verifies):
        raise SystemExit("provenance --help or verify failed in the start-up rows")
    return {
        "help_s": statistics.median(r[0] for r in helps),
        "help_rss_mb": statistics.median(r[1] for r in helps),
        "verify_1mb_s": statistics.median(r[0] for r in verifies),
        "verify_1mb_rss_mb": statistics.median(r[1] for r in verifies),
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="file sizes in MB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp folder)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--startup-runs", type=int, default=5, help="fresh processes per start-up row")
    args = parser.parse_args()

    import provenance
    from provenance.identity.certificates import Subject
    from provenance.identity.pki import init_dev_pki
    from provenance.media.video import make_large_clip

    compileall.compile_dir(Path(provenance.__file__).parent, quiet=1)
    work = args.dir or Path(tempfile.mkdtemp(prefix="provenance-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    keys = work / "keys"
    if not (keys / "chain.pem").exists():
        init_dev_pki(keys, subject=Subject("Bench Signer", "Bench", "US"))
    base_rss = json.loads(
        subprocess.run(
            [sys.executable, "-c", "import provenance.signing, provenance.verification.verifier;" + BASELINE_CHILD],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )["peak_rss_mb"]
    rows = []
    try:
        start = startup(work, keys, args.startup_runs)
        for mb in args.sizes:
            src = work / f"bench-{mb}MB.mp4"
            if not src.exists():
                print(f"making {src.name} ...", file=sys.stderr)
                make_large_clip(src, size_bytes=mb * 1_000_000)
            signed = work / f"bench-{mb}MB.signed.mp4"
            size = src.stat().st_size
            sha = statistics.median(sha256_pass(src) for _ in range(args.runs))
            cp = statistics.median(plain_copy(src, work / "copy.tmp") for _ in range(args.runs))
            for mode, sign_op in (("merkle", "sign"), ("flat", "sign-flat")):
                signs = [child(sign_op, src, signed, keys) for _ in range(args.runs)]
                verifies = [child("verify", signed, signed, keys) for _ in range(args.runs)]
                clis = [run_cli(cli_verify_args(signed, keys), cwd=work) for _ in range(args.runs)]
                if any(code != 0 for *_, code in clis):
                    raise SystemExit(f"provenance verify {signed.name} failed")
                cli_s = statistics.median(r[0] for r in clis)
                sign_s = statistics.median(r["seconds"] for r in signs)
                verify_s = statistics.median(r["seconds"] for r in verifies)
                rows.append(
                    {
                        "size_mb": round(size / 1e6, 1),
                        "hash": mode,
                        "sha256_s": sha,
                        "copy_s": cp,
                        "sign_s": sign_s,
                        "verify_s": verify_s,
                        "sign_peak_rss_mb": max(r["peak_rss_mb"] for r in signs),
                        "verify_peak_rss_mb": max(r["peak_rss_mb"] for r in verifies),
                        "import_baseline_rss_mb": base_rss,
                        "verify_over_sha256": verify_s / sha,
                        "cli_verify_s": cli_s,
                        "cli_verify_over_sha256": cli_s / sha,
                        "sign_over_copy_plus_sha256": sign_s / (cp + sha),
                        "runs": args.runs,
                    }
                )
                signed.unlink(missing_ok=True)
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)

    print(
        f"{'size':>8} {'hash':>6} {'sha256':>8} {'copy':>8} {'sign':>8} {'verify':>8} {'verify/sha':>10} {'sign/(cp+sha)':>13} {'sign RSS':>9} {'verify RSS':>10} {'cli/sha':>8}"
    )
    for r in rows:
        print(
            f"{r['size_mb']:>6.0f}MB {r['hash']:>6} {r['sha256_s']:>7.2f}s {r['copy_s']:>7.2f}s {r['sign_s']:>7.2f}s {r['verify_s']:>7.2f}s "
            f"{r['verify_over_sha256']:>9.2f}x {r['sign_over_copy_plus_sha256']:>12.2f}x {r['sign_peak_rss_mb']:>7.0f}MB {r['verify_peak_rss_mb']:>8.0f}MB "
            f"{r['cli_verify_over_sha256']:>7.2f}x"
        )
    print(
        f"start-up (medians of {start['runs']} fresh processes): provenance --help {start['help_s']:.2f}s "
        f"{start['help_rss_mb']:.0f}MB; provenance verify of a 1 MB clip {start['verify_1mb_s']:.2f}s "
        f"{start['verify_1mb_rss_mb']:.0f}MB"
    )
    print(
        f"(medians of {args.runs} runs; RSS is the peak of the child process; importing provenance alone costs {base_rss:.0f} MB)"
    )
    if args.json:
        args.json.write_text(json.dumps({"startup": start, "sizes": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
