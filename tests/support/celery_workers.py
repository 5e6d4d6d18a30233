"""Real ``provenance worker`` processes for the Celery tests, each in a
session of its own so that a test can SIGKILL one whole worker (its main
process and its task processes, as a machine that vanishes) and teardown
leaves no process behind.

``python tests/support/celery_workers.py ARGS...`` runs ``provenance worker
ARGS...`` with fault hooks inside the verifier of each task process, set
by environment variables: ``PROVENANCE_TEST_CRASH`` (a file name prefix: the
task process dies on the spot, as a native crash would, on every
delivery), ``PROVENANCE_TEST_HOLD`` (prefix, seconds, folder: on a first
delivery the task process writes ``folder/NAME.pid`` with its worker's
pid and waits that long before working) and ``PROVENANCE_TEST_SLOW``
(prefix, seconds: each such task waits that long)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Short enough that a task of a killed worker returns within seconds; longer
# than any task of these tests (a task past it would be handed out twice).
TEST_QUEUE_OPTIONS = ("--visibility-timeout", "4", "--restore-interval", "0.5")


@dataclass
class Workers:
    broker: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, count: int, *, folder: Path, args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        for _ in range(count):
            index = len(self.processes)
            log = folder / f"worker-{index}.log"
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--broker",
                self.broker,
                "--concurrency",
                "1",
                "--name",
                f"test-{index}-{os.getpid()}@localhost",
                *TEST_QUEUE_OPTIONS,
                *args,
            ]
            with open(log, "wb") as out:
                self.processes.append(
                    subprocess.Popen(
                        command,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own process group: killed whole
                        env={**os.environ, **(env or {})},
                        cwd=folder,
                    )
                )
            self.logs.append(log)

    def wait_ready(self, *, timeout: float = 60.0) -> None:
        """Until every worker answers a ping on the broker."""
        import redis.exceptions

        from provenance.tasks import make_app

        app = make_app(self.broker)
        deadline = time.monotonic() + timeout
        alive = [p for p in self.processes if p.poll() is None]
        while time.monotonic() < deadline:
            dead = [i for i, p in enumerate(self.processes) if p.poll() is not None]
            if dead:
                raise RuntimeError(f"worker {dead[0]} exited: {self.log(dead[0])}")
            try:
                if len(app.control.ping(timeout=0.5) or []) >= len(alive):
                    return
            except (ConnectionError, OSError, redis.exceptions.ConnectionError):
                time.sleep(0.2)  # a broker that just restarted
        raise RuntimeError(f"workers not ready in {timeout} s: {self.log(0)}")

    def kill(self, index: int) -> None:
        """SIGKILL worker *index* with its task processes."""
        process = self.processes[index]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def index_of(self, pid: int) -> int:
        return next(i for i, p in enumerate(self.processes) if p.pid == pid)

    def stop(self) -> None:
        for index in range(len(self.processes)):
            self.kill(index)

    def log(self, index: int) -> str:
        return self.logs[index].read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def running_workers(
    broker: str, count: int, *, folder: Path, args: Sequence[str] = (), env: dict[str, str] | None = None
) -> Iterator[Workers]:
    workers = Workers(broker)
    try:
        workers.start(count, folder=folder, args=args, env=env)
        workers.wait_ready()
        yield workers
    finally:
        workers.stop()


def _install_fault_hooks() -> None:
    """In each task process, wrap the verifier: the faults happen inside a
    task, where a native crash in c2pa or PyAV would."""
    from celery.signals import worker_process_init

    crash = os.environ.get("PROVENANCE_TEST_CRASH")
    hold = os.environ.get("PROVENANCE_TEST_HOLD")
    slow = os.environ.get("PROVENANCE_TEST_SLOW")

    @worker_process_init.connect(weak=False)
    def install(**_: object) -> None:
        from provenance.verification import verifier

        real = verifier.verify

        def verify(path: object, **kwargs: object) -> object:
            name = os.path.basename(str(path))
            if crash and name.startswith(crash):
                os._exit(11)  # as a native crash would: no cleanup, no result
            if hold:
                prefix, seconds, folder = hold.split(",", 2)
                marker = Path(folder) / f"{name}.pid"
                if name.startswith(prefix) and not marker.exists():
                    marker.write_text(str(os.getppid()))  # the worker's main process: what the test kills
                    time.sleep(float(seconds))
            if slow:
                prefix, seconds = slow.split(",", 1)
                if name.startswith(prefix):
                    time.sleep(float(seconds))
            return real(path, **kwargs)  # type: ignore[arg-type]

        verifier.verify = verify  # type: ignore[assignment]


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    _install_fault_hooks()
    from provenance.cli import main

    sys.exit(main(["worker", *sys.argv[1:]]))
