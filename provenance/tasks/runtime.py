"""What a worker holds itself, never sent over the broker: the trust
store, the signer factory, the repository location, where signed files
go, and the bounds on fetching and retrying. Each worker process opens
the signer and the repository once, on first use."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.errors import UsageError
from provenance.identity.factories import SignerFactory
from provenance.trust.store import TrustStore

DEFAULT_FETCH_MAX = 2 * 1024**3
DEFAULT_FETCH_TIMEOUT = 120.0


@dataclass(frozen=True)
class WorkerSettings:
    """A worker's configuration (``provenance worker`` options and their
    ``PROVENANCE_*`` variables).

    *repository*: where ``register`` and ``lookup`` tasks (and ``verify``
    with ``lookup``) go; shared by all workers, so a PostgreSQL URL.
    *signer*: a factory (:mod:`provenance.identity.factories`) each worker
    process calls once; without one, ``sign`` tasks fail. *output_root*:
    ``sign`` writes only under it. *max_deliveries*: a task handed out more
    often (its worker died each time) ends as an ``error`` record.
    *max_retries*: tries again after a transient fault (the repository or
    the file's server unreachable), *retry_delay* seconds apart, doubling.
    """

    trust: TrustStore = field(default_factory=TrustStore)
    repository: str | None = None
    signer: SignerFactory | None = None
    output_root: Path | None = None
    max_deliveries: int = 3
    max_retries: int = 3
    retry_delay: float = 2.0
    fetch_max_bytes: int = DEFAULT_FETCH_MAX
    fetch_timeout: float = DEFAULT_FETCH_TIMEOUT


class _Process:
    """This process's settings and what it opened from them."""

    def __init__(self) -> None:
        self.settings = WorkerSettings()
        self.pid = os.getpid()
        self._signer: Any = None
        self._repository: Any = None
        self._source: Any = None

    def configure(self, settings: WorkerSettings) -> None:
        self.close()
        self.settings = settings

    def _forked(self) -> None:
        # A connection or token session opened before a fork belongs to the
        # parent; the child opens its own.
        if self.pid != os.getpid():
            self.pid = os.getpid()
            self._signer = None
            self._repository = None
            self._source = None

    def signer(self) -> Any:
        self._forked()
        if self._signer is None:
            factory = self.settings.signer
            if factory is None:
                raise UsageError(
                    "this worker has no signing identity",
                    hint="start the worker with a signing key (PROVENANCE_SIGNING_KEY and PROVENANCE_SIGNING_CERT)",
                    reason="worker_without_signer",
                )
            from provenance._sign_step import check_signer

            loaded = factory()
            try:
                check_signer(loaded)
            except BaseException:
                loaded.close()
                raise
            self._signer = loaded
        return self._signer

    def repository(self) -> Any:
        self._forked()
        if self._repository is None:
            from provenance.repository import open_repository

            self._repository = open_repository(self.settings.repository, create=True)
        return self._repository

    def lookup_source(self) -> Any:
        """What ``verify`` with ``lookup`` asks: the repository, or the
        resolution service it names."""
        self._forked()
        if self._source is None:
            from provenance.verification.recovery import open_source

            self._source = open_source(self.settings.repository)
        return self._source

    def drop_repository(self) -> None:
        """Forget repository connections after a failure (the next task reconnects)."""
        for name in ("_repository", "_source"):
            opened = getattr(self, name)
            setattr(self, name, None)
            if opened is not None:
                with contextlib.suppress(Exception):  # it is broken already
                    opened.close()

    def close(self) -> None:
        self._forked()
        signer, self._signer = self._signer, None
        if signer is not None:
            signer.close()
        self.drop_repository()


current = _Process()
