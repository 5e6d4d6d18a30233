"""A real PostgreSQL server for the repository tests (and the benchmark):
Debian's postgresql binaries, ``initdb`` + ``pg_ctl`` in a temp folder,
listening on 127.0.0.1 only, stopped by its own pid file afterwards.

initdb refuses to run as root, so as root the cluster belongs to ``nobody``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.system import require


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian layout, or
    initdb on PATH), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_postgres(*, settings: tuple[str, ...] = ()) -> Iterator[str]:
    """Start a throwaway cluster in a temp folder of its own (directly under
    the temp root: pytest's folders are closed to ``nobody``) and yield its
    connection URL; the folder is removed afterwards."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    with tempfile.TemporaryDirectory(prefix="provenance-pg-") as tmp, _cluster(bindir, Path(tmp), settings) as url:
        yield url


@contextlib.contextmanager
def _cluster(bindir: Path, folder: Path, settings: tuple[str, ...]) -> Iterator[str]:
    data, sockets = folder / "data", folder / "sockets"
    data.mkdir(parents=True)
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        for path in (folder, data, sockets):
            shutil.chown(path, "nobody", "nogroup")
        as_user = ["runuser", "-u", "nobody", "--"]
    port = free_port()
    log = folder / "postgres.log"

    def run(*argv: str) -> None:
        result = subprocess.run([*as_user, *argv], capture_output=True, text=True, timeout=120, cwd=folder)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
    options = f"-k {sockets} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off " + " ".join(
        f"-c {s}" for s in settings
    )
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One PostgreSQL server per test session (per xdist worker); skips
    without postgresql, fails under CI=true."""
    require(postgres_bin() is not None, "PostgreSQL", hint="Debian: apt-get install postgresql")
    with running_postgres() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's server."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield postgres_server.rsplit("/", 1)[0] + "/" + name
