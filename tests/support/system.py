"""System components the tests start themselves (Chromium, SoftHSM2,
libfaketime, the ../shared corpus): a user's machine may lack them, and then
the test skips with the install hint; CI must have them (.ci/run installs
them), so there a missing one fails instead of skipping silently."""

from __future__ import annotations

import os

import pytest


def require(available: bool, what: str, *, hint: str) -> None:
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: {hint}")
    pytest.skip(f"{what} is not available ({hint})")
