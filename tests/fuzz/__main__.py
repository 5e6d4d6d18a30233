"""``python -m tests.fuzz``: fuzz provenance for a while (``make fuzz``), or
replay one recipe.

    python -m tests.fuzz --seconds 600 --jobs 1 --findings fuzz-findings
    python -m tests.fuzz --replay '{"seed": "mp4", "recipe": {"ops": [...]}}'

Each failure class gets a folder in --findings (up to 3 cases each: the
mutated file, recipe.json with the replay command, and what the commands
printed). Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.fuzz import harness, seeds


def _job(args: tuple[seeds.Seeds, str, float, str, int, str | None, float]) -> harness.Summary:
    built, work, seconds, mode, run_seed, findings, transcode = args
    Path(work).mkdir(parents=True, exist_ok=True)
    summary = harness.campaign(
        built,
        Path(work),
        seconds=seconds,
        mode=mode,
        run_seed=run_seed,
        findings=Path(findings) if findings else None,
        transcode=transcode,
        log=lambda line: print(f"[{mode} {run_seed}]{line}", flush=True),
    )
    for result, _ in summary.examples.values():
        result.mutated = b""  # the findings folder has them; keep the pickle small
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=600, help="total time budget [600]")
    parser.add_argument(
        "--cli-share",
        type=float,
        default=0.5,
        help="share of the time for CLI cases (subprocesses); the rest runs in-process [0.5]",
    )
    parser.add_argument("--jobs", type=int, default=1, help="parallel campaigns, each with its own seed [1]")
    parser.add_argument("--seed", type=int, default=None, help="run seed [random, printed]")
    parser.add_argument(
        "--findings", type=Path, default=Path("fuzz-findings"), help="folder for failures [fuzz-findings]"
    )
    parser.add_argument("--transcode", type=float, default=0.1, help="share of CLI cases that also run transcode [0.1]")
    parser.add_argument(
        "--replay", metavar="JSON", help='run one case: \'{"seed": ..., "recipe": ...}\' or a recipe.json file'
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="provenance-fuzz-") as tmp:
        built = seeds.build(Path(tmp) / "seeds")
        if args.replay:
            return _replay(built, Path(tmp) / "work", args.replay)
        run_seed = args.seed if args.seed is not None else random.SystemRandom().getrandbits(32)
        print(
            f"fuzz: seed {run_seed}, {args.seconds:.0f} s, {args.jobs} job(s), findings in {args.findings}", flush=True
        )
        plan = []
        for job in range(args.jobs):
            for mode, share in (("cli", args.cli_share), ("fast", 1 - args.cli_share)):
                if share > 0:
                    plan.append((mode, share * args.seconds / args.jobs, run_seed + job))
        total = {mode: harness.Summary(run_seed, mode) for mode in ("cli", "fast")}
        work = Path(tmp) / "work"
        # the fast mode runs in-process (SIGALRM needs the main thread of its own process)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [
                (
                    mode,
                    pool.submit(
                        _job,
                        (built, str(work / f"{mode}-{seed}"), seconds, mode, seed, str(args.findings), args.transcode),
                    ),
                )
                for mode, seconds, seed in plan
            ]
            for mode, future in futures:
                total[mode].merge(future.result())
        failed = False
        for summary in total.values():
            if summary.cases:
                print(summary.report(), flush=True)
                failed = failed or bool(summary.classes)
        return 1 if failed else 0


def _replay(built: seeds.Seeds, work: Path, text: str) -> int:
    spec = json.loads(Path(text).read_text() if Path(text).is_file() else text)
    case = harness.Case(spec["seed"], spec["recipe"], spec.get("case_seed"))
    applied = harness.replay(built, case)
    print(
        f"replay: {harness.mutations.describe(case.recipe)} on the {case.seed} seed; "
        f"must not verify: {applied.must_not_verify} {applied.why}"
    )
    work.mkdir(parents=True, exist_ok=True)
    failures = []
    for mode in ("fast", "cli"):
        check = harness.check_cli if mode == "cli" else harness.check_fast
        # run every command: show/sign/transcode in both modes
        result = check(
            built, case, applied, work, rng=harness.Always(), **({"transcode": 1.0} if mode == "cli" else {})
        )
        print(f"{mode}: {result.outcome}")
        for failure in result.failures:
            print(f"  FAILURE {failure.cls}: {failure.message}\n{failure.detail}")
        failures += result.failures
        if mode == "cli":
            print(result.output)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
