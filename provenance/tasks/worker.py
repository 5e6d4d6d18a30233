"""Run a worker: Celery's own worker, with this process's settings
handed to every task process it forks."""

from __future__ import annotations

import os
import socket

from provenance.tasks import runtime
from provenance.tasks.app import QUEUE, QueueSettings, make_app
from provenance.tasks.runtime import WorkerSettings


def run_worker(
    broker: str,
    *,
    settings: WorkerSettings,
    queue: QueueSettings | None = None,
    concurrency: int = 1,
    name: str | None = None,
    loglevel: str = "WARNING",
) -> int:
    """Take tasks from *broker* until stopped (SIGTERM: finish the running
    tasks; a second one, or SIGQUIT: stop at once, their tasks go back to
    the queue). *concurrency* task processes, each forked from this one
    (and replaced when one dies). Returns the worker's exit code."""
    runtime.current.configure(settings)
    app = make_app(broker, queue=queue)
    worker = app.Worker(
        hostname=name or f"provenance-{os.getpid()}@{socket.gethostname()}",
        concurrency=concurrency,
        pool_cls="prefork",
        loglevel=loglevel,
        queues=[QUEUE],
        quiet=True,
        without_gossip=True,  # workers need not know each other: fewer messages on the broker
        without_mingle=True,
        without_heartbeat=True,
    )
    worker.start()
    return int(worker.exitcode or 0)
