"""Small helpers shared by the pipelines tests (not fixtures)."""

from __future__ import annotations

import shutil
from pathlib import Path

from provenance.media import boxes
from provenance.trust.assembly import register_development_root


def tampered_copy(signed: Path, dest: Path) -> Path:
    """A copy of *signed* with one byte of its media data flipped."""
    shutil.copyfile(signed, dest)
    boxes.flip_media_byte(dest)
    return dest


# --- a real `provenance serve` in a subprocess, on a loopback port -----------

import contextlib  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    tmp_dir: Path
    log: Path

    def peak_rss_kib(self) -> int:
        """VmHWM of the server process: its peak resident memory."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def leftovers(self) -> list[Path]:
        return sorted(self.tmp_dir.iterdir())


@contextlib.contextmanager
def running_server(
    workdir: Path, *args: str | Path, env: dict[str, str] | None = None, trusted_root: Path | None = None
) -> Iterator[Server]:
    """Start `provenance serve --port 0` with its uploads in workdir/tmp, wait
    for the address it prints, and stop it (by its own pid) afterwards.
    *trusted_root* is registered in the server's trust store first, as
    ``keys init`` registers a development root."""
    tmp_dir = workdir / "tmp"
    tmp_dir.mkdir(parents=True)
    log = workdir / "server.log"
    command = [
        sys.executable,
        "-c",
        "from provenance.cli import main; raise SystemExit(main())",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--tmp-dir",
        str(tmp_dir),
        "--log-level",
        "warning",
        *map(str, args),
    ]
    with open(log, "wb") as out:
        # Its own empty trust store, never the user's (a module-scoped server
        # starts before the autouse fixture that isolates the tests' store).
        isolated = {"PROVENANCE_TRUST_DIR": str(workdir / "trust-store")}
        if trusted_root is not None:
            register_development_root(trusted_root, trust_dir=workdir / "trust-store")
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **isolated, **(env or {})}
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            match = _LISTENING.search(log.read_text(errors="replace"))
            if match:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        yield Server(match.group(1), process, tmp_dir, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
