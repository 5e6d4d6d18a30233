"""``provenance worker``: a Celery worker that verifies, signs, registers
and looks up clips for the tasks a platform sends (see
:mod:`provenance.tasks`). Celery loads only when the command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from provenance.cli.common import build_trust, console_err, service_trust_options
from provenance.cli.signers import SERVICE_SIGNER_ENV, factory_from_options, signer_options_from_env
from provenance.errors import UsageError

ENV = "PROVENANCE_"
INSTALL_HINT = "install the extra: pip install 'provenance[celery]'"


def require_celery() -> None:
    """Refuse in one line, with the install command, when Celery is missing."""
    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"the Celery engine needs {exc.name}, which is not installed", hint=INSTALL_HINT) from None


def broker_option(f: Any) -> Any:
    return click.option(
        "--broker",
        metavar="URL",
        envvar=ENV + "BROKER",
        help="The Redis broker the tasks go through, e.g. redis://127.0.0.1:6379/0 [env PROVENANCE_BROKER].",
    )(f)


@click.command()
@broker_option
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    envvar=ENV + "CONCURRENCY",
    help="Task processes [default: one per core; env PROVENANCE_CONCURRENCY].",
)
@click.option("-n", "--name", metavar="NAME", help="Worker name, unique per broker [default: provenance-PID@HOST].")
@service_trust_options
@click.option(
    "--repo",
    "repository",
    metavar="URL|PATH",
    envvar=ENV + "REPO",
    help="The manifest repository of register and lookup tasks (a postgresql:// URL, shared by all workers) "
    "[env PROVENANCE_REPO].",
)
@click.option(
    "--output-root",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=ENV + "OUTPUT_ROOT",
    help="Folder (on shared storage) sign tasks write into; enables sign tasks with the identity the signer "
    "options name [env PROVENANCE_OUTPUT_ROOT].",
)
@signer_options_from_env(SERVICE_SIGNER_ENV)
@click.option(
    "--max-deliveries",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    envvar=ENV + "MAX_DELIVERIES",
    help="A file whose worker process died this many times is recorded as an error [env PROVENANCE_MAX_DELIVERIES].",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    envvar=ENV + "MAX_RETRIES",
    help="Retries after a transient fault (repository or file server unreachable) [env PROVENANCE_MAX_RETRIES].",
)
@click.option(
    "--retry-delay",
    type=click.FloatRange(min=0),
    default=2,
    show_default=True,
    envvar=ENV + "RETRY_DELAY",
    help="Seconds before the first retry; each further one waits twice as long [env PROVENANCE_RETRY_DELAY].",
)
@click.option(
    "--visibility-timeout",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    envvar=ENV + "VISIBILITY_TIMEOUT",
    help="Seconds before a task whose worker vanished goes to another worker; must exceed the longest task "
    "[env PROVENANCE_VISIBILITY_TIMEOUT].",
)
@click.option(
    "--restore-interval",
    type=click.FloatRange(min=0.1),
    default=10,
    show_default=True,
    envvar=ENV + "RESTORE_INTERVAL",
    help="Seconds between looks for such tasks [env PROVENANCE_RESTORE_INTERVAL].",
)
@click.option(
    "--fetch-max",
    default="2G",
    show_default=True,
    envvar=ENV + "FETCH_MAX",
    help="Largest file fetched from an http(s) location [env PROVENANCE_FETCH_MAX].",
)
@click.option(
    "--fetch-timeout",
    type=click.FloatRange(min=1),
    default=120,
    show_default=True,
    envvar=ENV + "FETCH_TIMEOUT",
    help="Seconds a fetch from an http(s) location may take [env PROVENANCE_FETCH_TIMEOUT].",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="warning",
    show_default=True,
    envvar=ENV + "LOG_LEVEL",
    help="Worker log level [env PROVENANCE_LOG_LEVEL].",
)
def worker(
    broker: str | None,
    concurrency: int | None,
    name: str | None,
    anchors: tuple[Path, ...],
    allowed: tuple[Path, ...],
    tsa: tuple[Path, ...],
    trust_dir: Path | None,
    no_trust_store: bool,
    repository: str | None,
    output_root: Path | None,
    max_deliveries: int,
    max_retries: int,
    retry_delay: float,
    visibility_timeout: float,
    restore_interval: float,
    fetch_max: str,
    fetch_timeout: float,
    log_level: str,
    **signing: Any,
) -> None:
    """Run a Celery worker for provenance tasks (verify, sign, register,
    lookup) from a Redis broker, until stopped.

    Tasks name files on storage every worker shares, or http(s) URLs the
    worker fetches. The trust store, the signing identity and the
    repository are the worker's own: a task carries none of them. Tasks are
    acknowledged when done: a worker killed mid-task hands it to another
    after --visibility-timeout.
    """
    require_celery()
    if not broker:
        raise UsageError("no broker given", hint="pass --broker redis://HOST:PORT/DB or set PROVENANCE_BROKER")
    from provenance.batch.pool import default_jobs
    from provenance.service.config import parse_size
    from provenance.tasks.app import QueueSettings, check_broker
    from provenance.tasks.runtime import WorkerSettings
    from provenance.tasks.worker import run_worker

    check_broker(broker)
    trust = build_trust(anchors=anchors, allowed=allowed, tsa=tsa, trust_dir=trust_dir, use_store=not no_trust_store)
    factory = None
    if output_root is not None:
        if not output_root.is_dir():
            raise UsageError(f"{output_root}: output folder does not exist", hint="create it or drop --output-root")
        factory = factory_from_options(signing)
        _check_identity(factory)
    if repository is not None:  # checked now: an unreachable repository stops the start, in one line
        from provenance.repository import open_repository

        open_repository(repository, create=True).close()
    settings = WorkerSettings(
        trust=trust,
        repository=repository,
        signer=factory,
        output_root=output_root,
        max_deliveries=max_deliveries,
        max_retries=max_retries,
        retry_delay=retry_delay,
        fetch_max_bytes=parse_size(fetch_max),
        fetch_timeout=fetch_timeout,
    )
    queue = QueueSettings(visibility_timeout=visibility_timeout, restore_interval=restore_interval)
    console_err.print(f"worker on {broker.rsplit('@', 1)[-1]}: Ctrl-C finishes the running tasks", highlight=False)
    code = run_worker(
        broker,
        settings=settings,
        queue=queue,
        concurrency=concurrency or default_jobs(),
        name=name,
        loglevel=log_level.upper(),
    )
    click.get_current_context().exit(code)


def _check_identity(factory: Any) -> None:
    """Open the signer once here, so that an unusable key stops the start in
    one line; each task process opens its own."""
    from provenance._sign_step import check_signer

    signer = factory()
    try:
        check_signer(signer)
    finally:
        signer.close()
