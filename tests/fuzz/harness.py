"""Run mutated clips through provenance and check the properties every
hostile file must keep (README "Exit codes", issue 11):

- no exit 70 and no exit code outside the documented set; no traceback,
  and an error is one line on stderr;
- no hang past a timeout, peak RSS under a bound;
- never "verified" when the mutation changed bytes the hard binding hashes
  or the active claim signs;
- the input is never modified; a failed sign/transcode leaves nothing at
  ``-o`` nor beside it.

Two modes: ``fast`` calls the library in-process (``verify()`` is documented
never to raise for bad input; ``inspect()`` and ``sign()`` may raise only
provenance errors), many cases per second; ``cli`` runs the real
``provenance`` command in subprocesses (verify --json, show --json, sign,
sometimes transcode) and measures each one's time and peak RSS.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fuzz import mutations
from tests.fuzz.seeds import Seeds
from tests.fuzz.structure import parse

DOCUMENTED_EXITS = {0, 1, 2, 3, 4, 5, 6, 7}
VERIFY_EXITS = {"verified": 0, "tampered": 1, "invalid": 1, "untrusted": 3, "no_credentials": 4, "error": 5}
TIMEOUT = float(os.environ.get("FUZZ_TIMEOUT", "30"))  # seconds per command (a small clip takes < 2 s)
PEAK_RSS_MB = float(os.environ.get("FUZZ_PEAK_RSS_MB", "256"))  # measured over ~300 commands: max 113 MB
ADDRESS_SPACE = 4 << 30  # a hard stop for a runaway allocation (RLIMIT_AS)
PROVENANCE_BIN = Path(sys.executable).with_name("provenance")
_FRAME = re.compile(r'File "([^"]*/provenance/[^"]+)", line (\d+), in (\S+)')


@dataclass(frozen=True)
class Case:
    seed: str  # which seed clip
    recipe: dict[str, Any]
    case_seed: int | None = None

    def to_json(self) -> str:
        return json.dumps({"seed": self.seed, "recipe": self.recipe, "case_seed": self.case_seed}, sort_keys=True)


@dataclass(frozen=True)
class Failure:
    cls: str  # stable name of the failure class: what broke, and where
    message: str
    detail: str = ""


@dataclass
class Result:
    case: Case
    must_not_verify: bool
    why: str
    outcome: str  # e.g. "verify=tampered sign=5"
    failures: list[Failure] = field(default_factory=list)
    mutated: bytes = b""
    output: str = ""  # what the commands printed, for the findings folder


# --- cases


def make_case(seeds: Seeds, case_seed: int) -> tuple[Case, mutations.Applied]:
    """The mutation *case_seed* draws (one op, sometimes two), applied."""
    rng = random.Random(case_seed)
    while True:
        name = rng.choice(sorted(seeds.files))
        data = seeds.files[name].read_bytes()
        ops = []
        current = data
        try:
            for _ in range(2 if rng.random() < 0.2 else 1):
                op = mutations.generate(parse(current), rng)
                current = mutations.apply(current, op).data
                ops.append(op)
            recipe = {"ops": ops}
            applied = mutations.apply(data, recipe)
        except mutations.Skip:
            continue
        except Exception as exc:  # noqa: BLE001 - a mutator bug must not end the run; counted and shown
            MUTATOR_ERRORS[f"{type(exc).__name__} in {where_any(traceback.format_exc())}"] += 1
            continue
        if applied.data != data:
            return Case(name, recipe, case_seed), applied


MUTATOR_ERRORS: collections.Counter[str] = collections.Counter()


def where_any(text: str) -> str:
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', text)
    return f"{Path(frames[-1][0]).name}:{frames[-1][1]}" if frames else "?"


def replay(seeds: Seeds, case: Case) -> mutations.Applied:
    return mutations.apply(seeds.files[case.seed].read_bytes(), case.recipe)


# --- helpers


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def where(text: str) -> str:
    """``file:function`` of the innermost provenance frame of a traceback."""
    frames = [m for m in _FRAME.finditer(text) if "site-packages" not in m.group(1) and "/tests/" not in m.group(1)]
    if not frames:
        return "?"
    path, line, func = frames[-1].groups()
    return f"{path[path.rindex('/provenance/') + 1 :]}:{func}"


def _exception_name(text: str) -> str:
    last = [line for line in text.strip().splitlines() if line and not line.startswith(" ")]
    return last[-1].split(":", 1)[0].rsplit(".", 1)[-1] if last else "?"


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise _Timeout in this (main) thread after *seconds*: catches a hang
    in Python code; a hang in native code shows as a stuck run instead."""

    def fire(signum: int, frame: object) -> None:
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _leftovers(outdir: Path) -> list[str]:
    return sorted(p.name for p in outdir.iterdir())


# --- fast mode: the library in-process


def check_fast(seeds: Seeds, case: Case, applied: mutations.Applied, work: Path, *, rng: random.Random) -> Result:
    from provenance import ProvenanceError, Verdict, sign, verify
    from provenance.show import inspect

    ext = seeds.files[case.seed].suffix
    path = work / f"case{ext}"
    path.write_bytes(applied.data)
    before = _sha(path)
    failures: list[Failure] = []
    outcome = []
    trust = seeds.trust

    def call(what: str, fn: Callable[[], Any], *, may_raise: bool) -> Any:
        try:
            with _alarm(TIMEOUT):
                return fn()
        except _Timeout:
            failures.append(Failure(f"{what}: hang", f"{what} took more than {TIMEOUT:.0f} s"))
        except ProvenanceError as exc:
            if not may_raise:
                failures.append(
                    Failure(
                        f"{what}: raised {type(exc).__name__}", f"{what} raised although documented never to: {exc}"
                    )
                )
            outcome.append(f"{what}=err{int(exc.exit_code)}")
        except Exception as exc:  # noqa: BLE001 - exactly what the fuzzer looks for
            text = traceback.format_exc()
            failures.append(
                Failure(
                    f"{what}: {type(exc).__name__} at {where(text)} (CLI exit 70)",
                    f"{what} raised {type(exc).__name__}: {exc}",
                    text,
                )
            )
        return None

    report = call("verify", lambda: verify(path, trust=trust), may_raise=False)
    if report is not None:
        outcome.append(f"verify={report.verdict.value}")
        try:
            json.dumps(report.to_dict())
        except Exception as exc:  # noqa: BLE001
            failures.append(
                Failure("verify: report not JSON", f"to_dict() gave no JSON: {exc}", traceback.format_exc())
            )
        if applied.must_not_verify and report.verdict is Verdict.VERIFIED:
            failures.append(
                Failure("verify: VERIFIED after protected bytes changed", f"verdict verified although {applied.why}")
            )
    if rng.random() < 0.25 and call("show", lambda: inspect(path, trust=trust), may_raise=True) is not None:
        outcome.append("show=ok")
    if rng.random() < 0.25:
        outdir = work / "out"
        shutil.rmtree(outdir, ignore_errors=True)
        outdir.mkdir()
        target = outdir / f"signed{ext}"
        result = call("sign", lambda: sign(path, target, signer=seeds.signer), may_raise=True)
        if result is None and _leftovers(outdir):
            failures.append(
                Failure("sign: files left after a failure", f"left in the output folder: {_leftovers(outdir)}")
            )
        if result is not None:
            outcome.append("sign=ok")
            if not target.is_file():
                failures.append(Failure("sign: no output after success", f"{target} missing"))
            else:
                # what sign writes must verify, whatever the input held
                signed = call("verify output", lambda: verify(target, trust=trust), may_raise=False)
                if signed is not None and signed.verdict is not Verdict.VERIFIED:
                    failures.append(
                        Failure(
                            f"sign: output verifies as {signed.verdict.value}",
                            f"sign succeeded but its output is {signed.verdict.value}: "
                            f"{signed.error or [s.code for s in signed.status if s.kind.value == 'failure']}",
                        )
                    )
    if _sha(path) != before:
        failures.append(Failure("input modified", f"{path.name} changed on disk"))
    return Result(case, applied.must_not_verify, applied.why, " ".join(outcome), failures)


# --- cli mode: the real command in subprocesses


@dataclass(frozen=True)
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    timed_out: bool


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_cli(args: list[str], *, env: dict[str, str], timeout: float = TIMEOUT) -> Run:
    """Run ``provenance ARGS``; wait4 gives the child's own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            [str(PROVENANCE_BIN), *args], stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, preexec_fn=_limit
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                timed_out = True
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return Run(
            args,
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss / 1024,
            timed_out,
        )


def cli_env(seeds: Seeds, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    (work / "trust-store").mkdir(exist_ok=True)
    env.update(
        {
            "PROVENANCE_TRUST_DIR": str(work / "trust-store"),
            "PROVENANCE_KEYS_DIR": str(seeds.pki.directory),
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }
    )
    return env


def _common(what: str, run: Run, env: dict[str, str], failures: list[Failure]) -> None:
    """The properties of every command: exit code, stderr, time, memory."""
    if run.timed_out:
        failures.append(
            Failure(f"{what}: hang", f"provenance {' '.join(run.args)} still running after {TIMEOUT:.0f} s")
        )
        return
    if run.code == 70:
        debug = run_cli(run.args, env={**env, "PROVENANCE_DEBUG": "1"})
        failures.append(
            Failure(
                f"{what}: exit 70 {_exception_name(debug.stderr)} at {where(debug.stderr)}",
                f"exit 70: {run.stderr.strip()[:300]}",
                debug.stderr,
            )
        )
    elif run.code not in DOCUMENTED_EXITS:
        failures.append(
            Failure(f"{what}: undocumented exit {run.code}", f"exit {run.code}: {run.stderr.strip()[:300]}")
        )
    if "Traceback" in run.stderr:
        failures.append(Failure(f"{what}: traceback", "a traceback reached stderr", run.stderr))
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    if run.code != 0 and len(lines) > 1:
        failures.append(Failure(f"{what}: error not one line", f"{len(lines)} lines on stderr", run.stderr))
    if run.peak_mb > PEAK_RSS_MB:
        failures.append(Failure(f"{what}: peak RSS over {PEAK_RSS_MB:.0f} MB", f"peak RSS {run.peak_mb:.0f} MB"))


def check_cli(
    seeds: Seeds,
    case: Case,
    applied: mutations.Applied,
    work: Path,
    *,
    rng: random.Random,
    transcode: float = 0.1,
    stats: dict[str, list[float]] | None = None,
) -> Result:
    ext = seeds.files[case.seed].suffix
    path = work / f"case{ext}"
    path.write_bytes(applied.data)
    before = _sha(path)
    env = cli_env(seeds, work)
    failures: list[Failure] = []
    outcome = []
    transcript = []

    def record(what: str, run: Run) -> None:
        transcript.append(
            f"$ provenance {' '.join(run.args)}\nexit {run.code} in {run.seconds:.2f} s, "
            f"peak {run.peak_mb:.0f} MB\n--- stdout\n{run.stdout[:4000]}\n--- stderr\n{run.stderr[:4000]}\n"
        )
        if stats is not None:
            stats.setdefault(f"{what} seconds", []).append(run.seconds)
            stats.setdefault(f"{what} peak MB", []).append(run.peak_mb)
        _common(what, run, env, failures)

    verify = run_cli(["verify", str(path), "--json", *seeds.trust_args()], env=env)
    record("verify", verify)
    verdict = None
    if not verify.timed_out and verify.code != 70:
        try:
            verdict = json.loads(verify.stdout)["verdict"]
        except (ValueError, KeyError, TypeError):
            failures.append(Failure("verify: --json printed no report", f"stdout: {verify.stdout[:200]!r}"))
    outcome.append(f"verify={verdict or verify.code}")
    if verdict is not None:
        if VERIFY_EXITS.get(verdict) != verify.code:
            failures.append(
                Failure("verify: exit code does not match verdict", f"verdict {verdict}, exit {verify.code}")
            )
        if applied.must_not_verify and verdict == "verified":
            failures.append(
                Failure("verify: VERIFIED after protected bytes changed", f"verdict verified although {applied.why}")
            )

    show = run_cli(["show", str(path), "--json", "--trust", str(seeds.pki.root_cert)], env=env)
    record("show", show)
    outcome.append(f"show={show.code}")

    commands = [("sign", ["sign", str(path), "--json"])]
    if rng.random() < transcode:
        commands.append(("transcode", ["transcode", str(path)]))
    for what, args in commands:
        outdir = work / f"out-{what}"
        shutil.rmtree(outdir, ignore_errors=True)
        outdir.mkdir()
        target = outdir / f"{what}ed{ext if what == 'sign' else '.mp4'}"
        run = run_cli([*args, "-o", str(target)], env=env)
        record(what, run)
        outcome.append(f"{what}={run.code}")
        if run.code != 0 and not run.timed_out and _leftovers(outdir):
            failures.append(
                Failure(f"{what}: files left after a failure", f"exit {run.code}, left: {_leftovers(outdir)}")
            )
        if run.code == 0 and not target.is_file():
            failures.append(Failure(f"{what}: no output after success", f"{target.name} missing"))
    if _sha(path) != before:
        failures.append(Failure("input modified", f"{path.name} changed on disk"))
    return Result(case, applied.must_not_verify, applied.why, " ".join(outcome), failures, output="\n".join(transcript))


class Always(random.Random):
    """A random source whose every draw runs the optional commands (replays)."""

    def random(self) -> float:
        return 0.0


def check_all(seeds: Seeds, case: Case, work: Path) -> list[Failure]:
    """Every property, in both modes, for one case (a regression replay)."""
    applied = replay(seeds, case)
    failures = check_fast(seeds, case, applied, work, rng=Always()).failures
    return failures + check_cli(seeds, case, applied, work, rng=Always(), transcode=1.0).failures


# --- a campaign: cases until the time is up


@dataclass
class Summary:
    run_seed: int
    mode: str
    cases: int = 0
    seconds: float = 0.0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    protected: int = 0  # cases whose mutation changed hashed or signed bytes
    classes: collections.Counter[str] = field(default_factory=collections.Counter)
    examples: dict[str, tuple[Result, Failure]] = field(default_factory=dict)
    stats: dict[str, list[float]] = field(default_factory=dict)
    mutator_errors: collections.Counter[str] = field(default_factory=collections.Counter)

    def merge(self, other: Summary) -> None:
        self.cases += other.cases
        self.seconds = max(self.seconds, other.seconds)
        self.outcomes.update(other.outcomes)
        self.protected += other.protected
        self.classes.update(other.classes)
        self.mutator_errors.update(other.mutator_errors)
        for cls, example in other.examples.items():
            self.examples.setdefault(cls, example)
        for key, values in other.stats.items():
            self.stats.setdefault(key, []).extend(values)

    def report(self) -> str:
        rate = self.cases / self.seconds if self.seconds else 0
        lines = [
            f"fuzz {self.mode}: seed {self.run_seed}, {self.cases} cases in {self.seconds:.0f} s "
            f"({rate:.1f}/s), {self.protected} changed protected bytes"
        ]
        lines += [f"  outcome {k}: {v}" for k, v in self.outcomes.most_common(25)]
        lines += [f"  (mutator error, case skipped: {k}: {v})" for k, v in self.mutator_errors.items()]
        for key, values in sorted(self.stats.items()):
            values = sorted(values)
            lines.append(f"  {key}: median {values[len(values) // 2]:.2f}, max {values[-1]:.2f}")
        for cls, count in self.classes.most_common():
            example, failure = self.examples[cls]
            lines.append(f"  FAILURE {cls}: {count} cases; e.g. {failure.message[:200]}")
            lines.append(f"    replay: python -m tests.fuzz --replay '{example.case.to_json()}'")
        return "\n".join(lines)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80].strip("_")


def save_finding(findings: Path, result: Result, failure: Failure, *, keep: int = 3) -> None:
    folder = findings / _slug(failure.cls)
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.iterdir())
    if len(existing) >= keep:
        return
    case_dir = folder / f"case-{result.case.case_seed}"
    case_dir.mkdir(exist_ok=True)
    (case_dir / "recipe.json").write_text(
        json.dumps(
            {
                "class": failure.cls,
                "seed": result.case.seed,
                "case_seed": result.case.case_seed,
                "recipe": result.case.recipe,
                "must_not_verify": result.must_not_verify,
                "why": result.why,
                "replay": f"python -m tests.fuzz --replay '{result.case.to_json()}'",
            },
            indent=2,
        )
        + "\n"
    )
    (case_dir / "output.txt").write_text(
        "\n".join(f"{f.cls}\n{f.message}\n{f.detail}" for f in result.failures) + "\n\n" + result.output
    )
    (case_dir / f"mutated.{result.case.seed}.bin").write_bytes(result.mutated)


def campaign(
    seeds: Seeds,
    work: Path,
    *,
    seconds: float,
    mode: str,
    run_seed: int,
    findings: Path | None = None,
    max_cases: int | None = None,
    log: Callable[[str], None] | None = None,
    transcode: float = 0.1,
) -> Summary:
    """Cases drawn from *run_seed* until *seconds* pass (or *max_cases*)."""
    summary = Summary(run_seed, mode)
    rng = random.Random(run_seed)
    start = time.monotonic()
    next_log = start + 60
    while time.monotonic() - start < seconds and (max_cases is None or summary.cases < max_cases):
        case_seed = rng.getrandbits(48)
        case, applied = make_case(seeds, case_seed)
        case_rng = random.Random(case_seed ^ 0x5EED)
        if mode == "cli":
            result = check_cli(seeds, case, applied, work, rng=case_rng, transcode=transcode, stats=summary.stats)
        else:
            result = check_fast(seeds, case, applied, work, rng=case_rng)
        result.mutated = applied.data
        summary.cases += 1
        summary.protected += applied.must_not_verify
        summary.outcomes[result.outcome] += 1
        for failure in {f.cls: f for f in result.failures}.values():
            summary.classes[failure.cls] += 1
            summary.examples.setdefault(failure.cls, (result, failure))
            if findings is not None:
                save_finding(findings, result, failure)
        if log and time.monotonic() > next_log:
            next_log += 60
            log(f"  … {summary.cases} cases, {len(summary.classes)} failure classes")
    summary.seconds = time.monotonic() - start
    summary.mutator_errors.update(MUTATOR_ERRORS)
    MUTATOR_ERRORS.clear()
    return summary
