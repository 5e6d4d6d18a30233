"""Batch mode of ``verify`` and ``sign``: the shared options, the progress
bar and the summary. The work itself is :mod:`provenance.batch`."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from provenance.cli.common import console, console_err, real_console
from provenance.errors import ExitCode, UsageError
from provenance.text import MESSAGE_LIMIT, inert

# The batch machinery and rich's tables load when a batch runs, not for
# `provenance verify` of one clip (start-up time).
if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.text import Text

    from provenance.batch import BatchInput, BatchResult, BatchSummary, InputSet

F = TypeVar("F", bound=Callable[..., Any])

# provenance.batch.STDIN (tests keep them equal): importing it here would load
# the batch package for every single-file verify.
STDIN = "-"

MAX_FAILURES_SHOWN = 50


@dataclass(frozen=True)
class BatchOptions:
    """The options that turn ``verify``/``sign`` into a batch."""

    jobs: int | None = None
    jsonl: str | None = None
    resume: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    quiet: bool = False

    @property
    def given(self) -> bool:
        return bool(self.jobs or self.jsonl or self.resume or self.include or self.exclude or self.quiet)


def batch_options(f: F) -> F:
    """Add the batch options to a command; it receives them as ``batch``."""

    @functools.wraps(f)
    def wrapper(
        *args: Any,
        jobs: int | None,
        jsonl: str | None,
        resume: bool,
        include: tuple[str, ...],
        exclude: tuple[str, ...],
        quiet: bool,
        **kwargs: Any,
    ) -> Any:
        return f(*args, batch=BatchOptions(jobs, jsonl, resume, include, exclude, quiet), **kwargs)

    options = [
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(min=1),
            default=None,
            help="Worker processes for a batch [default: one per core].",
        ),
        click.option(
            "--jsonl",
            metavar="FILE",
            help="Write one JSON report per file to FILE ('-' for stdout) as each file finishes.",
        ),
        click.option("--resume", is_flag=True, help="Skip files already recorded in the --jsonl FILE."),
        click.option(
            "--include",
            multiple=True,
            metavar="GLOB",
            help="In folders, take only files matching GLOB (name, or path with '/'). Repeatable. "
            "[default: *.mp4 *.mov *.m4v *.avi *.qt]",
        ),
        click.option(
            "--exclude", multiple=True, metavar="GLOB", help="In folders, skip files matching GLOB. Repeatable."
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
    ]
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def is_batch(paths: Sequence[Path], options: BatchOptions) -> bool:
    """Batch mode: several paths, a folder, ``-``, or any batch option.
    One plain file keeps the single-file behaviour (card, exit code)."""
    return len(paths) != 1 or options.given or str(paths[0]) == STDIN or paths[0].is_dir()


def _progress(*, quiet: bool, files: int, total: int) -> Progress:
    # rich.progress loads only when a batch runs, not for one file
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]}/{task.fields[files]} files"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=real_console(console_err),
        transient=True,
        # Only for a person watching: never into a pipe, a log or a CI transcript.
        disable=quiet or not console_err.is_terminal,
    )


def _outcome_label(outcome: str) -> Text:
    from rich.text import Text

    from provenance.batch.results import SIGNED
    from provenance.cli.render import BADGES
    from provenance.verification.report import Verdict

    if outcome == SIGNED:
        return Text("✔ signed", style="bold green")
    badge, style = BADGES[Verdict(outcome)]
    return Text(badge.lower(), style=style)


def summary_renderables(
    summary: BatchSummary, found: InputSet, *, seconds: float, jobs: int, engine: str | None = None
) -> list[Any]:
    """The end-of-batch summary: counts per outcome, failures, skipped files.
    *engine* names where the work ran when not in local processes."""
    from rich.table import Table
    from rich.text import Text

    from provenance.batch.results import SIGNED
    from provenance.verification.report import Verdict

    ran = summary.files - summary.resumed
    rate = f"{ran / seconds:.1f} files/s, {summary.bytes / seconds / 1e6:.1f} MB/s" if seconds > 0 and ran else "-"
    where = engine or f"{jobs} jobs"
    head = Text(f"{summary.files} files, {summary.bytes / 1e6:.1f} MB in {seconds:.1f} s ({rate}), {where}")
    if summary.resumed:
        head.append(f"; {summary.resumed} already done in an earlier run")
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    table.add_column("outcome")
    table.add_column("files", justify="right")
    # Best first, worst last (a failed signing is "error", as an unreadable file).
    order = [SIGNED] + [v.value for v in sorted(Verdict, key=lambda v: v.severity)]
    for outcome in sorted(summary.counts, key=lambda o: order.index(o) if o in order else len(order)):
        table.add_row(_outcome_label(outcome), str(summary.counts[outcome]))
    parts: list[Any] = [head, table]
    if summary.failures:
        parts.append(Text(f"Failures ({len(summary.failures)})", style="bold red"))
        for result in summary.failures[:MAX_FAILURES_SHOWN]:
            reason = (result.error or "").removeprefix(f"{result.path}: ")
            parts.append(
                Text.assemble(
                    "  ",
                    _outcome_label(result.outcome),
                    f"  {inert(result.path)}: {inert(reason, limit=MESSAGE_LIMIT)}",
                )
            )
        if len(summary.failures) > MAX_FAILURES_SHOWN:
            parts.append(Text(f"… and {len(summary.failures) - MAX_FAILURES_SHOWN} more (see the --jsonl log)"))
    if found.skipped:
        parts.append(Text(f"Skipped ({len(found.skipped)})", style="bold yellow"))
        for skip in found.skipped[:MAX_FAILURES_SHOWN]:
            parts.append(Text(f"  {inert(skip.path)}: {inert(skip.reason, limit=MESSAGE_LIMIT)}"))
    return parts


def run_batch(
    paths: Sequence[Path],
    options: BatchOptions,
    *,
    start: Callable[[Sequence[BatchInput], int | None], Iterator[BatchResult]],
    json_stdout: bool = False,
    avoid: Sequence[Path] = (),
    verb: str = "checking",
    engine: str | None = None,
) -> ExitCode:
    """Collect the inputs, run *start* over those not done yet, log and
    count each result, show progress and the summary; return the exit code
    of the worst outcome."""
    from provenance.batch import BatchSummary, JsonlLog, collect_inputs

    if options.resume and not options.jsonl:
        raise UsageError("--resume needs --jsonl FILE", hint="it skips the files recorded in that file")
    jsonl = options.jsonl or ("-" if json_stdout else None)
    found = collect_inputs(paths, include=options.include, exclude=options.exclude, stdin=sys.stdin, avoid=avoid)
    if not found.inputs:
        where = ", ".join(str(p) for p in paths)
        raise UsageError(f"no files to process in {where}", hint="check the paths and the --include/--exclude globs")
    summary = BatchSummary()
    log = JsonlLog(jsonl, resume=options.resume) if jsonl else None
    out: Console = console_err if jsonl == "-" else console
    started = time.monotonic()
    try:
        todo: list[BatchInput] = []
        for item in found.inputs:
            previous = log.already_done(item.path) if log else None
            if previous is not None:
                summary.add(previous, resumed=True)
            else:
                todo.append(item)
        total = sum(i.size for i in todo)
        with _progress(quiet=options.quiet, files=len(todo), total=total) as progress:
            task = progress.add_task(verb, total=total or None, done=0, files=len(todo))
            for done, result in enumerate(start(todo, options.jobs), 1):
                if log:
                    log.write(result.record)
                summary.add(result)
                progress.update(task, advance=result.size, done=done)
    finally:
        if log:
            log.close()
    from provenance.batch import default_jobs

    jobs = min(options.jobs or default_jobs(), max(1, len(todo)))
    for part in summary_renderables(summary, found, seconds=time.monotonic() - started, jobs=jobs, engine=engine):
        out.print(part, soft_wrap=True)
    return summary.exit_code
