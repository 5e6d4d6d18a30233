"""The Celery application: a Redis broker (and result store), late
acknowledgement, and the four provenance tasks registered by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from celery import Celery

from provenance.errors import UsageError

# Task names, stable: platforms send them by name (app.send_task).
VERIFY = "provenance.verify"
SIGN = "provenance.sign"
REGISTER = "provenance.register"
LOOKUP = "provenance.lookup"
TASKS = (VERIFY, SIGN, REGISTER, LOOKUP)
QUEUE = "provenance"


@dataclass(frozen=True)
class QueueSettings:
    """How long an unacknowledged task waits before Redis hands it to
    another worker, and how often workers look for such tasks.

    *visibility_timeout* must exceed the longest task (a task still
    running past it is handed out a second time); it is also how long a
    task of a worker that vanished (a machine lost, ``SIGKILL``) waits
    before another worker takes it. *restore_interval* adds up to that.
    *result_expires*: seconds a result waits in Redis for the client.
    """

    visibility_timeout: float = 3600.0
    restore_interval: float = 10.0
    result_expires: float = 86400.0


def check_broker(url: str) -> str:
    """The broker URL, if it is one provenance works with: Redis (the
    delivery counters and the idempotency records live there too)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("redis", "rediss"):
        raise UsageError(
            f"{url.split('@')[-1] if scheme else url}: not a Redis URL",
            hint="give redis://HOST:PORT/DB (or rediss:// for TLS)",
            reason="broker_not_redis",
        )
    return url


def make_app(broker: str, *, queue: QueueSettings | None = None) -> Celery:
    """A Celery app on the Redis *broker*, which also keeps the results,
    with the provenance tasks registered. Tasks are acknowledged after they
    finish and given back when their worker process dies, so a task is
    never lost with a worker; every task is idempotent, so running one
    twice is harmless."""
    settings = queue or QueueSettings()
    app = Celery("provenance", broker=check_broker(broker), backend=broker, set_as_current=False)
    transport: dict[str, Any] = {
        "visibility_timeout": settings.visibility_timeout,
        "unacked_restore_interval": settings.restore_interval,
        "unacked_restore_throttle": 1,  # every sweep looks: the interval alone sets the pace
    }
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a task waits in the queue, not behind a busy worker
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUE,
        result_expires=settings.result_expires,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    from provenance.tasks.definitions import register

    register(app)
    return app
