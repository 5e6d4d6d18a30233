"""Run one job over many files: in this process, or in N worker processes
that each set the job up once (trust store, signer) and then take files.

A worker that dies (a native crash on a hostile file) does not stop the
batch: the files it may have been working on are tried again one at a time
in a fresh pool, so the file that kills a worker is found and recorded as
failed, and the rest go on.
"""

from __future__ import annotations

import functools
import multiprocessing
import multiprocessing.util
import os
import pickle
import signal
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from provenance.batch.inputs import BatchInput
from provenance.batch.results import BatchResult
from provenance.errors import UsageError


class Job(Protocol):
    """What a batch does to each file. Must be picklable for ``jobs > 1``;
    :meth:`run` must not raise (it turns every problem into a result). A
    job may also have ``close()``, called once its process is done with it,
    to release what :meth:`setup` opened."""

    def setup(self) -> None:
        """Load what every file needs (once per worker)."""

    def run(self, item: BatchInput) -> BatchResult:
        """The result for one file."""

    def crashed(self, item: BatchInput, reason: str) -> BatchResult:
        """The result for a file whose worker died."""


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_worker_job: Job | None = None


def _init_worker(job: Job) -> None:
    global _worker_job
    # Ctrl-C goes to the whole process group; the parent alone decides to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job.setup()
    _worker_job = job
    # Close what setup opened when the worker exits (atexit does not run in
    # pool workers; multiprocessing's finalizers do).
    multiprocessing.util.Finalize(None, functools.partial(_close, job), exitpriority=10)


def _run_in_worker(item: BatchInput) -> BatchResult:
    assert _worker_job is not None, "worker was not initialised"
    return _worker_job.run(item)


def run_job(items: Sequence[BatchInput], job: Job, *, jobs: int | None = None) -> Iterator[BatchResult]:
    """Yield one result per item, as each finishes (not in input order).

    ``job.setup()`` runs here first, so a job that cannot start (an unusable
    key, say) raises before any file is touched.
    """
    job.setup()
    try:
        workers = min(jobs or default_jobs(), len(items))
        if workers <= 1:
            for item in items:
                yield job.run(item)
            return
        try:
            pickle.dumps(job)
        except (TypeError, pickle.PicklingError, AttributeError) as exc:
            raise UsageError(
                f"this job cannot be sent to worker processes ({exc})",
                hint="give a picklable job (for signing, a signer factory) or use one job",
            ) from None
        # The workers open what they need themselves; release this process's
        # copy (a token session, say) while they work.
        _close(job)
        yield from _Pool(job, workers).run(items)
    finally:
        _close(job)


def _close(job: Job) -> None:
    close = getattr(job, "close", None)  # optional: a job that opens nothing has none
    if close is not None:
        close()


def _context() -> multiprocessing.context.BaseContext:
    """Workers come from a fork server that has imported provenance once:
    starting a worker is then a fork of a small single-threaded process,
    not a fresh interpreter importing c2pa and PyAV (and never a fork of
    this process, which may hold native threads)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["provenance.batch.jobs"])
    return context


class _Pool:
    def __init__(self, job: Job, workers: int) -> None:
        self.job = job
        self.workers = workers
        self.context = _context()

    def _executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=self.context, initializer=_init_worker, initargs=(self.job,)
        )

    def run(self, items: Sequence[BatchInput]) -> Iterator[BatchResult]:
        pending: deque[BatchInput] = deque(items)
        suspects: deque[BatchInput] = deque()  # in flight when a worker died
        inflight: dict[Future[BatchResult], tuple[BatchInput, bool]] = {}  # future -> (item, ran alone)
        executor = self._executor()
        try:
            while pending or suspects or inflight:
                if suspects:
                    # One at a time, so that a second death names its file.
                    if not inflight:
                        item = suspects.popleft()
                        inflight[executor.submit(_run_in_worker, item)] = (item, True)
                else:
                    while pending and len(inflight) < self.workers * 2:
                        item = pending.popleft()
                        inflight[executor.submit(_run_in_worker, item)] = (item, False)
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    item, alone = inflight.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        if alone:
                            yield self.job.crashed(item, "the worker process died while handling this file")
                        else:
                            suspects.append(item)
                        continue
                    except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be unpickled
                        yield self.job.crashed(item, f"internal error: {type(exc).__name__}: {exc}")
                        continue
                    yield result
                if broken:
                    suspects.extend(item for item, _ in inflight.values())
                    inflight.clear()
                    executor.shutdown(wait=True, cancel_futures=True)
                    executor = self._executor()
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
