"""The worker pool and the batch jobs: results per file, worker deaths
contained, the JSON-lines log and the summary."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

from provenance.batch import (
    BatchInput,
    BatchResult,
    BatchSummary,
    JsonlLog,
    collect_inputs,
    run_job,
    sign_batch,
    verify_batch,
)
from provenance.errors import ExitCode, UsageError
from provenance.identity.pki import DevPKI
from provenance.identity.signer import KeySigner
from provenance.trust.store import TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.helpers import tampered_copy


def item(name: str) -> BatchInput:
    return BatchInput(Path(name), PurePosixPath(name), 1)


@dataclass(frozen=True)
class PoisonJob:
    """Echoes each file; the worker handling ``poison`` dies on the spot."""

    def setup(self) -> None:
        pass

    def run(self, item: BatchInput) -> BatchResult:
        if item.path.name == "poison":
            os._exit(13)  # as a native crash would
        return BatchResult(str(item.path), "verified", ExitCode.VERIFIED, {"file": str(item.path)}, size=item.size)

    def crashed(self, item: BatchInput, reason: str) -> BatchResult:
        return BatchResult(str(item.path), "error", ExitCode.BAD_INPUT, {"file": str(item.path)}, error=reason)


def test_a_worker_that_dies_costs_only_its_own_file() -> None:
    names = [f"f{i}" for i in range(6)] + ["poison"] + [f"g{i}" for i in range(6)]
    results = {r.path: r for r in run_job([item(n) for n in names], PoisonJob(), jobs=2)}
    assert set(results) == set(names)
    assert results["poison"].outcome == "error"
    assert results["poison"].error == "the worker process died while handling this file"
    assert all(results[n].outcome == "verified" for n in names if n != "poison")


def test_a_job_that_cannot_reach_workers_is_refused_before_any_work(signer: KeySigner, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot be sent to worker processes"):
        list(sign_batch([item("a.mp4"), item("b.mp4")], outdir=tmp_path, signer=signer, jobs=2))


def test_verify_batch_in_processes_matches_single_calls(
    make_clip, signed_clip: Path, trust: TrustStore, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    signed_clip.rename(folder / "signed.mp4")
    tampered_copy(folder / "signed.mp4", folder / "tampered.mp4")
    make_clip("mov").rename(folder / "plain.mov")
    (folder / "junk.mp4").write_bytes(b"not a video at all")
    found = collect_inputs([folder])
    results = {Path(r.path).name: r for r in verify_batch(found.inputs, trust=trust, jobs=2)}
    assert {n: r.outcome for n, r in results.items()} == {
        "signed.mp4": "verified",
        "tampered.mp4": "tampered",
        "plain.mov": "no_credentials",
        "junk.mp4": "error",
    }
    for name, result in results.items():
        assert result.record == verify(folder / name, trust=trust).to_dict()  # the verify --json schema
    assert results["tampered.mp4"].error and results["tampered.mp4"].error.startswith("assertion.")
    summary = BatchSummary()
    summary.extend(results.values())
    assert summary.exit_code is ExitCode.BAD_INPUT  # the worst verdict: error
    assert {Path(f.path).name for f in summary.failures} == {"tampered.mp4", "junk.mp4"}


def test_sign_batch_keeps_the_layout_and_loads_the_key_once_per_worker(
    make_clip, pki: DevPKI, trust: TrustStore, tmp_path: Path
) -> None:
    root = tmp_path / "in"
    (root / "day1").mkdir(parents=True)
    make_clip("mp4").rename(root / "a.mp4")
    make_clip("mov").rename(root / "day1" / "b.mov")
    factory = functools.partial(KeySigner.from_files, key=pki.signer_key, chain=pki.chain)
    out = tmp_path / "out"
    results = list(sign_batch(collect_inputs([root]).inputs, outdir=out, signer=factory, jobs=2, title="Batch"))
    assert sorted(r.outcome for r in results) == ["signed", "signed"]
    for rel in ("a.mp4", "day1/b.mov"):
        report = verify(out / rel, trust=trust)
        assert (report.verdict, report.title) == (Verdict.VERIFIED, "Batch")
    assert all(r.record["error"] is None and r.record["output"].startswith(str(out)) for r in results)


def test_sign_batch_refuses_two_inputs_with_one_output(make_clip, signer: KeySigner, tmp_path: Path) -> None:
    first, second = tmp_path / "x" / "clip.mp4", tmp_path / "y" / "clip.mp4"
    for p in (first, second):
        p.parent.mkdir()
        make_clip().rename(p)
    results = list(sign_batch(collect_inputs([first, second]).inputs, outdir=tmp_path / "out", signer=signer, jobs=1))
    by_path = {r.path: r for r in results}
    assert by_path[str(first)].outcome == "signed"
    assert by_path[str(second)].outcome == "error" and "already claimed by" in (by_path[str(second)].error or "")


def test_jsonl_log_resumes_after_a_line_cut_short(tmp_path: Path) -> None:
    log_path = tmp_path / "log.jsonl"
    with JsonlLog(log_path) as log:
        log.write({"file": "a.mp4", "verdict": "verified"})
        log.write({"file": "b.mp4", "verdict": "tampered", "error": "x"})
    with open(log_path, "a") as fh:
        fh.write('{"file": "c.mp4", "verd')  # the run was killed mid-line
    with JsonlLog(log_path, resume=True) as log:
        assert log.already_done("a.mp4") is not None
        assert log.already_done(os.path.abspath("b.mp4")).outcome == "tampered"  # type: ignore[union-attr]
        assert log.already_done("c.mp4") is None
        log.write({"file": "c.mp4", "verdict": "verified"})
    lines = log_path.read_text().splitlines()
    assert json.loads(lines[-1]) == {"file": "c.mp4", "verdict": "verified"}
    assert sum(1 for line in lines if line.startswith("{") and line.endswith("}")) == 3


def test_summary_exit_code_is_the_worst_outcome() -> None:
    def result(outcome: str, code: ExitCode) -> BatchResult:
        return BatchResult("f", outcome, code, {})

    summary = BatchSummary()
    summary.extend(
        [
            result("verified", ExitCode.VERIFIED),
            result("no_credentials", ExitCode.NO_CREDENTIALS),
            result("untrusted", ExitCode.UNTRUSTED),
        ]
    )
    assert summary.exit_code is ExitCode.NO_CREDENTIALS and not summary.failures
    summary.add(result("tampered", ExitCode.FAILED))
    assert summary.exit_code is ExitCode.FAILED and len(summary.failures) == 1
    assert BatchSummary().exit_code is ExitCode.VERIFIED
