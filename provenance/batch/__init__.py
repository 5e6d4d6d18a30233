"""Batch work over many files: walk the inputs, run a job on each in N
worker processes, record each result as it finishes.

    >>> from provenance.batch import collect_inputs, verify_batch
    >>> found = collect_inputs(["uploads/"])  # doctest: +SKIP
    >>> for result in verify_batch(found.inputs, trust=store, jobs=4):  # doctest: +SKIP
    ...     print(result.path, result.outcome)

The command line (``provenance verify PATH...``, ``provenance sign PATH...
-o OUTDIR``) is a thin layer over these functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.batch.inputs import STDIN, VIDEO_EXTENSIONS, BatchInput, InputSet, SkippedInput, collect_inputs
from provenance.batch.outputs import output_path, prepare_parent
from provenance.batch.results import FAILED, SIGNED, BatchResult, BatchSummary, JsonlLog
from provenance.credentials.manifest import SourceType
from provenance.errors import ExitCode, ProvenanceError, UsageError

if TYPE_CHECKING:
    from provenance.batch.jobs import SignerSource, SignJob, VerifyJob
    from provenance.batch.pool import Job, default_jobs, run_job
    from provenance.trust.store import TrustStore
    from provenance.verification.policy import Policy

# The worker pool (multiprocessing) and the jobs (c2pa) load when a batch
# runs, not when `provenance verify` of one file imports this package.
_LAZY = {
    "SignerSource": "provenance.batch.jobs",
    "SignJob": "provenance.batch.jobs",
    "VerifyJob": "provenance.batch.jobs",
    "Job": "provenance.batch.pool",
    "default_jobs": "provenance.batch.pool",
    "run_job": "provenance.batch.pool",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def verify_batch(
    inputs: Sequence[BatchInput],
    *,
    trust: TrustStore,
    policy: Policy | None = None,
    jobs: int | None = None,
    lookup: str | None = None,
) -> Iterator[BatchResult]:
    """Verify every input; yield results as files finish. *jobs* worker
    processes (default: one per core), each given the trust store once.
    *policy* (see :mod:`provenance.verification.policy`) judges every file: a
    verified clip that fails it is ``wrong_signer``. *lookup* (a repository
    path or URL; ``""`` the default one) looks files without valid
    credentials up by their content (:mod:`provenance.verification.recovery`)."""
    from provenance.batch.jobs import VerifyJob
    from provenance.batch.pool import run_job

    return run_job(inputs, VerifyJob(trust, policy, lookup), jobs=jobs)


def sign_batch(
    inputs: Sequence[BatchInput],
    *,
    outdir: Path,
    signer: SignerSource,
    title: str | None = None,
    author: str | None = None,
    source: SourceType = SourceType.CAMERA,
    force: bool = False,
    flat_hash: bool = False,
    jobs: int | None = None,
) -> Iterator[BatchResult]:
    """Sign every input into *outdir*, keeping each file's layout under its
    root; yield results as files finish.

    With more than one job, *signer* must be a picklable callable returning
    a signer (a factory of :mod:`provenance.identity.factories`, such as
    ``KeyFileSignerFactory(key=..., chain=...)``, or
    ``functools.partial(KeySigner.from_files, key=..., chain=...)``): each
    worker calls it once. Two inputs that would write the same output
    are refused (the second fails); nothing is written outside *outdir*.
    """
    from provenance.batch.jobs import SignJob

    job = SignJob(
        outdir=outdir, signer=signer, title=title, author=author, source=source, force=force, flat_hash=flat_hash
    )
    return run_sign_job(inputs, job, jobs=jobs)


def run_sign_job(inputs: Sequence[BatchInput], job: SignJob, jobs: int | None = None) -> Iterator[BatchResult]:
    """:func:`sign_batch` for a ready :class:`SignJob`."""
    from provenance.batch.pool import run_job

    try:
        job.outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{job.outdir}: cannot create the output folder ({exc.strerror})", hint="choose another"
        ) from None
    claimed: dict[Path, BatchInput] = {}
    runnable: list[BatchInput] = []
    refused: list[BatchResult] = []
    for item in inputs:
        try:
            out = job.output_for(item)
        except ProvenanceError as exc:
            refused.append(job.failure(item, job.describe(exc), exc.exit_code))
            continue
        first = claimed.setdefault(out, item)
        if first is not item:
            refused.append(
                job.failure(
                    item, f"{out}: output already claimed by {first.path}; rename one of them", ExitCode.USAGE, out
                )
            )
            continue
        runnable.append(item)
    yield from refused
    yield from run_job(runnable, job, jobs=jobs)


__all__ = [
    "STDIN",
    "VIDEO_EXTENSIONS",
    "BatchInput",
    "BatchResult",
    "BatchSummary",
    "FAILED",
    "InputSet",
    "Job",
    "JsonlLog",
    "SIGNED",
    "SignJob",
    "SignerSource",
    "SkippedInput",
    "VerifyJob",
    "collect_inputs",
    "default_jobs",
    "output_path",
    "prepare_parent",
    "run_job",
    "run_sign_job",
    "sign_batch",
    "verify_batch",
]
