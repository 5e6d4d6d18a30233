"""`mypy --strict` holds for the public modules and the examples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The modules a platform imports; internals they pull in are checked but
# reported only through these (see [tool.mypy] in pyproject.toml).
PUBLIC = [
    "provenance/__init__.py",
    "provenance/errors.py",
    "provenance/signing.py",
    "provenance/edit.py",
    "provenance/verification",
    "provenance/trust",
    "provenance/identity/signer.py",
    "provenance/identity/keys.py",
    "provenance/identity/algorithms.py",
    "provenance/identity/factories.py",
    "provenance/credentials/manifest.py",
    "provenance/batch",
    "provenance/service",
    "provenance/repository",
    "provenance/tasks",
    "examples",
]


def test_mypy_strict_on_public_modules() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *PUBLIC],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
