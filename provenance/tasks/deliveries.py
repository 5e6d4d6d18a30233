"""Per-task records in Redis, next to the queue: how often a task was
handed out (to give up on a file that kills every worker that opens it),
and how far a ``sign`` task got (so that running it again signs and
registers once)."""

from __future__ import annotations

import json
from typing import Any

PREFIX = "provenance:task:"


def count_delivery(client: Any, task_id: str, attempt: int, *, ttl: float) -> int:
    """Count one more hand-out of attempt *attempt* (retries are attempts
    of their own) of task *task_id*; return the count so far."""
    key = f"{PREFIX}{task_id}:{attempt}:deliveries"
    with client.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, max(1, int(ttl)))
        count, _ = pipe.execute()
    return int(count)


def load_state(client: Any, task_id: str) -> dict[str, Any] | None:
    raw = client.get(f"{PREFIX}{task_id}:state")
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def save_state(client: Any, task_id: str, state: dict[str, Any], *, ttl: float) -> None:
    client.set(f"{PREFIX}{task_id}:state", json.dumps(state), ex=max(1, int(ttl)))
