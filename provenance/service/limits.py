"""How many uploads may be arriving at once, in all and from one client.

An upload in progress holds a temp file and a connection but no work slot
(the work gate is entered only once the whole body is on disk), so these
bounds are what keeps slow senders from crowding out everyone else."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

# Where the HTTP protocol tells the application when a request's first byte
# came (time.monotonic()), so that its deadline covers the headers too.
REQUEST_STARTED = "provenance.request_started"


class UploadLimitError(Exception):
    """Refused before the body is read: 429 (this client) or 503 (everyone)."""

    def __init__(self, status: int, message: str, *, hint: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint


class UploadSlots:
    """At most *total* uploads arriving at once, at most *per_client* from one
    peer address (0: no per-client limit, e.g. behind a proxy whose address
    every request carries)."""

    def __init__(self, *, total: int, per_client: int) -> None:
        self.total = total
        self.per_client = per_client
        self.by_client: Counter[str] = Counter()
        self.active = 0

    @contextlib.contextmanager
    def hold(self, client: str | None) -> Iterator[None]:
        # One event loop: these counters need no lock.
        key = client or "?"
        if self.per_client and self.by_client[key] >= self.per_client:
            raise UploadLimitError(
                429,
                f"too many uploads at once from this client (limit {self.per_client})",
                hint="wait for your other uploads to finish",
            )
        if self.active >= self.total:
            raise UploadLimitError(503, "the service is busy receiving uploads", hint="retry in a moment")
        self.active += 1
        self.by_client[key] += 1
        try:
            yield
        finally:
            self.active -= 1
            self.by_client[key] -= 1
            if self.by_client[key] <= 0:
                del self.by_client[key]
