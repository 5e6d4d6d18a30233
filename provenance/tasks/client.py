"""The client side: send one task per file and gather the records as the
workers finish them, noticing a broker that went away or restarted (its
queue, and the tasks in it, may be gone: what finished is recorded, and
``--resume`` sends the rest again)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from celery import Celery, states

from provenance.batch.inputs import BatchInput
from provenance.batch.results import BatchResult, result_from_record
from provenance.errors import BrokerError
from provenance.tasks.app import VERIFY

Record = dict[str, Any]
POLL = 0.02  # seconds between looks at the results while none is ready, growing to POLL_MAX
POLL_MAX = 0.2
WINDOW = 1000  # tasks sent and not yet read: the queue and each look at the results stay bounded
RESTART_CHECK = 0.5  # seconds between looks at the broker's identity
IDLE_PING = 30.0  # seconds without a result before asking whether any worker is left


class BrokerLost(BrokerError):
    """The broker went away, or restarted, before every result came back."""

    reason = "broker_lost"


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def _shown(app: Celery) -> str:
    return str(app.conf.broker_url).rsplit("@", 1)[-1]  # never a password


def _ping(app: Celery) -> int:
    """How many workers answer (at least one, when any does); a worker
    that just reconnected to its broker may miss the first ping."""
    for timeout in (1.0, 2.0):
        answers = len(app.control.ping(timeout=timeout, limit=1) or [])
        if answers:
            return answers
    return 0


def _no_subscription(producer: Any, task_id: str) -> None:
    pass


def gather(
    app: Celery,
    name: str,
    calls: Sequence[tuple[Sequence[Any], Mapping[str, Any]]],
    *,
    failed: Callable[[int, str], Record],
    require_workers: bool = True,
    window: int = WINDOW,
) -> Iterator[tuple[int, Record]]:
    """Send task *name* once per ``(args, kwargs)`` of *calls*; yield
    ``(index, record)`` as each finishes, in any order; at most *window*
    tasks are out at once (more are sent as results come back). A task that raised
    (a bug: tasks return records) gives ``failed(index, why)``. Raises
    :class:`BrokerLost` when the broker cannot be reached, restarted, or no
    worker answers while results are missing."""
    errors: tuple[type[BaseException], ...] = (
        *_redis_errors(),
        RuntimeError,
    )  # RuntimeError: Celery's result consumer giving up on Redis
    backend = app.backend
    # Results are read by polling their keys (below). Celery's own consumer
    # would also subscribe to each task's channel, and a subscriber nobody
    # reads from fills Redis's output buffer until it is disconnected.
    backend.on_task_call = _no_subscription
    where = _shown(app)
    done = 0
    try:
        client = backend.client
        run_id = client.info("server").get("run_id")
        if require_workers and calls and not _ping(app):
            raise BrokerLost(
                f"no worker answers on the broker at {where}",
                hint="start workers on the same broker",
                reason="no_workers",
            )
        pending: dict[str, int] = {}
        unsent = iter(enumerate(calls))
        poll = POLL
        checked = progressed = time.monotonic()
        while True:
            while len(pending) < window and (call := next(unsent, None)) is not None:
                index, (args, kwargs) = call
                pending[app.send_task(name, args=list(args), kwargs=dict(kwargs)).id] = index
            if not pending:
                break
            ids = list(pending)
            keys = [backend.get_key_for_task(i) for i in ids]
            ready = False
            for offset in range(0, len(keys), 500):
                values = client.mget(keys[offset : offset + 500])
                for task_id, key, raw in zip(
                    ids[offset : offset + 500], keys[offset : offset + 500], values, strict=True
                ):
                    if raw is None:
                        continue
                    meta = backend.decode_result(raw)
                    if meta.get("status") not in states.READY_STATES:
                        continue
                    index = pending.pop(task_id)
                    client.delete(key)  # read once; nothing is left behind in Redis
                    ready = True
                    done += 1
                    if meta["status"] == states.SUCCESS and isinstance(meta.get("result"), dict):
                        yield index, meta["result"]
                    else:
                        yield index, failed(index, f"the task failed: {meta.get('result')!r}")
            now = time.monotonic()
            if ready:
                progressed = now
            if now - checked >= RESTART_CHECK:
                checked = now
                if client.info("server").get("run_id") != run_id:
                    raise BrokerLost(
                        f"the broker at {where} restarted mid-batch ({done} of {len(calls)} files done; "
                        "the tasks it held may be lost)",
                        hint="send the files not recorded again",
                        reason="broker_restarted",
                    )
            if now - progressed >= IDLE_PING:
                progressed = now
                if not _ping(app):
                    raise BrokerLost(
                        f"no worker answers on the broker at {where} ({done} of {len(calls)} files done)",
                        hint="start workers; then send the files not recorded again",
                        reason="no_workers",
                    )
            poll = POLL if ready else min(poll * 1.5, POLL_MAX)
            if not ready:
                time.sleep(poll)
    except errors as exc:
        raise BrokerLost(
            f"lost the broker at {where} ({done} of {len(calls)} files done): {str(exc).strip().rstrip('.')}",
            hint="check that it runs; then send the files not recorded again",
            reason="broker_lost",
        ) from None


def verify_batch(
    items: Sequence[BatchInput],
    *,
    app: Celery,
    expect_signer: str | None = None,
    expect_org: str | None = None,
    expect_issuer: str | None = None,
    require_timestamp: bool = False,
    lookup: bool = False,
) -> Iterator[BatchResult]:
    """:func:`provenance.batch.verify_batch` on the Celery workers: each file
    by its absolute path (the workers must see the same path), judged by
    the workers' trust store and this policy; the records name each file
    as given here, so the JSON lines match a local batch."""
    from provenance.verification.report import Verdict, VerificationReport

    options = {
        "expect_signer": expect_signer,
        "expect_org": expect_org,
        "expect_issuer": expect_issuer,
        "require_timestamp": require_timestamp,
        "lookup": lookup,
    }
    calls = [((os.path.abspath(item.path),), options) for item in items]

    def failed(index: int, why: str) -> Record:
        return VerificationReport(file=str(items[index].path), verdict=Verdict.ERROR, error=why).to_dict()

    for index, record in gather(app, VERIFY, calls, failed=failed):
        item = items[index]
        if record.get("file") == calls[index][0][0]:
            record["file"] = str(item.path)
        rebuilt = result_from_record(record)
        if rebuilt is None:  # not a verify report: a worker of another version
            record = failed(index, "the worker answered something other than a report")
            rebuilt = result_from_record(record)
            assert rebuilt is not None
        yield BatchResult(
            rebuilt.path,
            rebuilt.outcome,
            rebuilt.exit_code,
            record,
            size=item.size,
            error=reason_of(record),
        )


def reason_of(record: Mapping[str, Any]) -> str | None:
    """Why a verify report failed, as the local batch says it."""
    from provenance.credentials.model import Status
    from provenance.verification.explain import explain
    from provenance.verification.rules import deciding_failure

    if record.get("error"):
        return str(record["error"])
    if record.get("verdict") == "wrong_signer" and record.get("policy_failures"):
        return "; ".join(str(p) for p in record["policy_failures"])
    try:
        statuses = [Status.from_dict(s) for s in record.get("status") or ()]
    except (KeyError, ValueError, TypeError):
        return None
    decided = deciding_failure(statuses)
    return f"{decided.code}: {explain(decided.code, decided.explanation)}" if decided else None
