"""The four tasks: verify, sign, register, look up. Each turns every
outcome into the JSON the command line prints with ``--json`` (a tampered
clip is a result, not an error); only transient faults (the repository or
the file's server unreachable) are retried, a bounded number of times."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from celery import Celery, Task

from provenance.errors import ExitCode, ProvenanceError, UsageError
from provenance.tasks import runtime
from provenance.tasks.app import LOOKUP, REGISTER, SIGN, VERIFY
from provenance.tasks.deliveries import count_delivery, load_state, save_state
from provenance.tasks.fetch import FetchUnavailable, local_file

Record = dict[str, Any]
Failure = Callable[[str, str, ExitCode, "str | None"], Record]
TRANSIENT_REASONS = frozenset({"repository_unreachable", FetchUnavailable.reason})


def _run(task: Task, location: str, work: Callable[[Path], Record], failure: Failure) -> Record:
    """Run *work* on *location*'s file, or give up on a file whose worker
    died too often, or try again later after a transient fault."""
    settings = runtime.current.settings
    request = task.request
    client = task.app.backend.client
    ttl = task.app.conf.result_expires or 86400
    deliveries = count_delivery(client, request.id, request.retries, ttl=ttl)
    if deliveries > settings.max_deliveries:
        return failure(
            location,
            f"{location}: the worker process died each of the {deliveries - 1} times it handled this file; given up",
            ExitCode.BAD_INPUT,
            "worker_died",
        )
    try:
        with local_file(location, max_bytes=settings.fetch_max_bytes, timeout=settings.fetch_timeout) as path:
            return work(path)
    except ProvenanceError as exc:
        if exc.reason in TRANSIENT_REASONS:
            runtime.current.drop_repository()
            if request.retries < settings.max_retries:
                raise task.retry(
                    countdown=settings.retry_delay * 2**request.retries, max_retries=settings.max_retries
                ) from None
        return failure(location, exc.diagnostics(), exc.exit_code, exc.reason)
    except Exception as exc:  # noqa: BLE001 - one file must not fail the task: its record says what happened
        return failure(location, f"internal error: {type(exc).__name__}: {exc}", ExitCode.INTERNAL, None)


# -- verify


def verify_failure(location: str, error: str, code: ExitCode, reason: str | None) -> Record:
    from provenance.verification.report import Verdict, VerificationReport

    return VerificationReport(file=location, verdict=Verdict.ERROR, error=error, error_reason=reason).to_dict()


def verify_clip(
    location: str,
    *,
    expect_signer: str | None = None,
    expect_org: str | None = None,
    expect_issuer: str | None = None,
    require_timestamp: bool = False,
    lookup: bool = False,
) -> Callable[[Path], Record]:
    def work(path: Path) -> Record:
        from provenance.verification.policy import identity_policy
        from provenance.verification.verifier import verify

        policy = identity_policy(
            signer=expect_signer, org=expect_org, issuer=expect_issuer, require_timestamp=require_timestamp
        )
        source = runtime.current.lookup_source() if lookup else None
        report = verify(path, trust=runtime.current.settings.trust, policy=policy, lookup=source).to_dict()
        return _as_location(report, path, location, "file")

    return work


def _as_location(record: Record, path: Path, location: str, key: str) -> Record:
    """A downloaded file's record names its URL, not the temporary copy."""
    if str(path) != location:
        record[key] = location
        if isinstance(record.get("error"), str):
            record["error"] = record["error"].replace(str(path), location)
    return record


# -- sign


def sign_failure(location: str, error: str, code: ExitCode, reason: str | None, output: str | None = None) -> Record:
    return {"input": location, "output": output, "error": error, "exit_code": int(code)}


def sign_clip(
    task: Task,
    location: str,
    output: str,
    *,
    title: str | None,
    author: str | None,
    source: str,
    register: bool,
    force: bool,
    flat_hash: bool,
) -> Callable[[Path], Record]:
    def work(path: Path) -> Record:
        from provenance.batch.outputs import output_folder, output_path
        from provenance.credentials.manifest import SourceType
        from provenance.signing import sign

        settings = runtime.current.settings
        if settings.output_root is None:
            raise UsageError(
                "this worker has no output folder for signed clips",
                hint="start the worker with an output folder on shared storage (PROVENANCE_OUTPUT_ROOT)",
                reason="worker_without_output",
            )
        target = output_path(settings.output_root, PurePosixPath(output))
        client = task.app.backend.client
        ttl = task.app.conf.result_expires or 86400
        state = load_state(client, task.request.id)
        if state is not None and isinstance(state.get("signed"), dict):
            # An earlier delivery of this task signed already (and its
            # worker died after): the same result, not a second signature.
            result: Record = dict(state["signed"])
        else:
            # A first delivery; or one whose predecessor died while signing:
            # an output there now is that predecessor's, replaced.
            if state is None and not force and os.path.lexists(target):
                raise UsageError(f"{target}: output file exists", reason="output_exists")
            save_state(client, task.request.id, {"started": True}, ttl=ttl)
            # With register, sign fingerprints the clip once for both the
            # soft binding and the repository (as `sign --register` does).
            repository = runtime.current.repository() if register else None
            with output_folder(settings.output_root, target):
                done = sign(
                    path,
                    target,
                    signer=runtime.current.signer(),
                    title=title,
                    author=author,
                    source=SourceType(source),
                    force=True,
                    flat_hash=flat_hash,
                    soft_binding=register,
                    register=repository,
                )
            result = _as_location(done.to_dict(), path, location, "input")
            save_state(client, task.request.id, {"signed": result}, ttl=ttl)
            return {**result, "error": None}
        if register:
            from provenance.repository.clips import register_clip

            repository = runtime.current.repository()
            # A redelivery after signing: its predecessor may have died
            # before registering. Registering the same manifest again
            # changes nothing, so the clip is registered once.
            registration = register_clip(repository, target, trust=settings.trust)
            result["registered_in"] = repository.location
            result["registration_note"] = registration.reason
        return {**result, "error": None}

    return work


# -- register and lookup


def file_failure(location: str, error: str, code: ExitCode, reason: str | None) -> Record:
    return {"file": location, "error": error, "exit_code": int(code)}


def register_file(location: str) -> Callable[[Path], Record]:
    def work(path: Path) -> Record:
        from provenance.repository.clips import register_clip

        repository = runtime.current.repository()
        registration = register_clip(repository, path, trust=runtime.current.settings.trust)
        return {"repository": repository.location, "file": location, **registration.to_dict()}

    return work


def lookup_file(location: str, max_results: int) -> Callable[[Path], Record]:
    def work(path: Path) -> Record:
        from provenance.repository.clips import lookup_clip

        repository = runtime.current.repository()
        candidates = lookup_clip(repository, path, max_results=max_results)
        return {"repository": repository.location, "file": location, "candidates": [c.to_dict() for c in candidates]}

    return work


def verify_task(
    self: Task,
    location: str,
    expect_signer: str | None = None,
    expect_org: str | None = None,
    expect_issuer: str | None = None,
    require_timestamp: bool = False,
    lookup: bool = False,
) -> Record:
    """``verify --json`` of the file at *location*, judged by the
    worker's trust store and the ``expect_*`` policy; with *lookup*,
    a file without valid credentials is looked up in the worker's
    repository."""
    work = verify_clip(
        location,
        expect_signer=expect_signer,
        expect_org=expect_org,
        expect_issuer=expect_issuer,
        require_timestamp=require_timestamp,
        lookup=lookup,
    )
    return _run(self, location, work, verify_failure)


def sign_task(
    self: Task,
    location: str,
    output: str,
    title: str | None = None,
    author: str | None = None,
    source: str = "camera",
    register: bool = False,
    force: bool = False,
    flat_hash: bool = False,
) -> Record:
    """``sign --json`` of the file at *location*, signed with the
    worker's identity into *output* (a path under the worker's output
    folder); with *register*, registered in the worker's repository."""

    def failed(loc: str, error: str, code: ExitCode, reason: str | None) -> Record:
        return sign_failure(loc, error, code, reason, output)

    work = sign_clip(
        self,
        location,
        output,
        title=title,
        author=author,
        source=source,
        register=register,
        force=force,
        flat_hash=flat_hash,
    )
    return _run(self, location, work, failed)


def register_task(self: Task, location: str) -> Record:
    """``repo add --json`` of the signed clip at *location*."""
    return _run(self, location, register_file(location), file_failure)


def lookup_task(self: Task, location: str, max_results: int = 10) -> Record:
    """``repo lookup --json`` of the clip at *location*."""
    return _run(self, location, lookup_file(location, max_results), file_failure)


def register(app: Celery) -> None:
    """Register the tasks on *app* under their stable names."""
    for name, function in ((VERIFY, verify_task), (SIGN, sign_task), (REGISTER, register_task), (LOOKUP, lookup_task)):
        app.task(name=name, bind=True)(function)
