"""Run the real CLI in a child process whose clock is shifted with
libfaketime (Debian's ``faketime`` package, which .ci/run installs).

c2pa-rs reads the system clock when it signs (it refuses a certificate
that is not valid *now*) and when it verifies without a trusted
time-stamp, with no setting to choose another time. To test "signed while
the certificate was valid, verified after it expired" without sleeping,
the signing runs in a child process living N days in the past.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.system import require

_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
)


def libfaketime() -> str:
    """Path of libfaketime; skips the test where it is missing (fails in CI,
    which must install it)."""
    for path in _CANDIDATES:
        if Path(path).exists():
            return path
    require(False, "libfaketime", hint="apt-get install faketime; .ci/run does it")
    raise AssertionError("unreachable")


def run_cli_at(
    days_offset: int, *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``provenance ARGS`` in a child process whose wall clock is shifted by
    *days_offset* days (negative: the past). Monotonic clocks are left alone."""
    child_env = dict(os.environ, **(env or {}))
    child_env.update(
        LD_PRELOAD=libfaketime(),
        FAKETIME=f"{days_offset:+d}d",
        FAKETIME_DONT_FAKE_MONOTONIC="1",
        FAKETIME_DONT_RESET="1",
    )
    code = "import sys; from provenance.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], env=child_env, capture_output=True, text=True, timeout=120
    )
