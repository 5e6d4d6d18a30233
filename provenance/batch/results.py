"""What a batch produces: one result per file, the JSON-lines log that
records them as they finish, and the summary at the end."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from provenance.errors import ExitCode, UsageError
from provenance.text import json_inert
from provenance.verification.report import Verdict

SIGNED = "signed"
FAILED = "error"
# Verdicts a batch lists as failures: the clip changed, is broken or
# unreadable, or is not from whom the caller's policy expects.
FAILING_VERDICTS = frozenset({Verdict.TAMPERED, Verdict.INVALID, Verdict.ERROR, Verdict.WRONG_SIGNER})


@dataclass(frozen=True)
class BatchResult:
    """The outcome for one file.

    *record* is the JSON-lines record: for verify, exactly the ``verify
    --json`` report; for sign, the ``sign --json`` result plus ``error``.
    *outcome* is the verdict value (verify) or ``signed``/``error`` (sign).
    """

    path: str
    outcome: str
    exit_code: ExitCode
    record: Mapping[str, Any]
    size: int = 0
    error: str | None = None

    @property
    def failed(self) -> bool:
        """Tampered, invalid, unreadable or from the wrong signer (verify),
        or not signed (sign)."""
        if self.outcome == SIGNED:
            return False
        if self.outcome == FAILED:
            return True
        return Verdict(self.outcome) in FAILING_VERDICTS

    @property
    def severity(self) -> int:
        if self.outcome == SIGNED:
            return 0
        if self.outcome == FAILED:
            return Verdict.ERROR.severity
        return Verdict(self.outcome).severity


def record_key(record: Mapping[str, Any]) -> str | None:
    """The input a JSON-lines record is about (``file`` of a report,
    ``input`` of a sign result), as an absolute path."""
    value = record.get("file", record.get("input"))
    return os.path.abspath(value) if isinstance(value, str) else None


def result_from_record(record: Mapping[str, Any]) -> BatchResult | None:
    """Rebuild a result from a record written by an earlier run."""
    key = record.get("file", record.get("input"))
    if not isinstance(key, str):
        return None
    if "verdict" in record:
        try:
            verdict = Verdict(record["verdict"])
        except ValueError:
            return None
        return BatchResult(key, verdict.value, verdict.exit_code, record, error=record.get("error"))
    if record.get("error"):
        code = record.get("exit_code", int(ExitCode.FAILED))
        exit_code = ExitCode(code) if code in ExitCode._value2member_map_ else ExitCode.FAILED
        return BatchResult(key, FAILED, exit_code, record, error=str(record["error"]))
    return BatchResult(key, SIGNED, ExitCode.VERIFIED, record)


class JsonlLog:
    """Appends one JSON record per line and flushes it at once, so a batch
    that is stopped leaves every finished file recorded (and ``--resume``
    can skip them).

    *path* ``-`` writes to standard output.
    """

    def __init__(self, path: Path | str, *, resume: bool = False) -> None:
        self.path = str(path)
        self.previous: dict[str, BatchResult] = {}
        self._out: IO[str]
        if self.path == "-":
            if resume:
                raise UsageError(
                    "--resume needs a --jsonl file, not standard output",
                    hint="give a JSONL file",
                    reason="resume_needs_log",
                )
            self._out = sys.stdout
            self._close = False
            return
        target = Path(self.path)
        if resume and target.exists():
            self.previous = self._read(target)
        try:
            self._out = open(target, "a" if resume else "w", encoding="utf-8")  # noqa: SIM115 - kept open for the batch, closed by close()
        except OSError as exc:
            raise UsageError(
                f"{target}: cannot write the JSON-lines log ({exc.strerror})", hint="check the path"
            ) from None
        self._close = True
        if resume and self._out.tell() > 0 and not self._ends_with_newline(target):
            self._out.write("\n")  # the last run stopped mid-line; start clean

    @staticmethod
    def _ends_with_newline(path: Path) -> bool:
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    @staticmethod
    def _read(path: Path) -> dict[str, BatchResult]:
        done: dict[str, BatchResult] = {}
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a stop
                if not isinstance(record, dict):
                    continue
                key = record_key(record)
                result = result_from_record(record)
                if key and result:
                    done[key] = result
        return done

    def already_done(self, path: Path | str) -> BatchResult | None:
        return self.previous.get(os.path.abspath(path))

    def write(self, record: Mapping[str, Any]) -> None:
        # Readable UTF-8, but bidi, zero-width and line-separator characters
        # from files as \u escapes: the same values, inert on a terminal.
        self._out.write(json_inert(json.dumps(record, ensure_ascii=False)) + "\n")
        self._out.flush()

    def close(self) -> None:
        if self._close:
            self._out.close()

    def __enter__(self) -> JsonlLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class BatchSummary:
    """Counts per outcome, the failures, and the files not taken."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: list[BatchResult] = field(default_factory=list)
    resumed: int = 0
    files: int = 0
    bytes: int = 0
    worst: BatchResult | None = None

    def add(self, result: BatchResult, *, resumed: bool = False) -> None:
        self.counts[result.outcome] += 1
        self.files += 1
        self.bytes += result.size
        self.resumed += int(resumed)
        if result.failed:
            self.failures.append(result)
        if (
            self.worst is None
            or result.severity > self.worst.severity
            or (result.severity == self.worst.severity and result.exit_code > self.worst.exit_code)
        ):
            self.worst = result

    def extend(self, results: Iterable[BatchResult]) -> None:
        for result in results:
            self.add(result)

    @property
    def exit_code(self) -> ExitCode:
        """The exit code of the worst outcome (0 for an empty batch)."""
        return self.worst.exit_code if self.worst else ExitCode.VERIFIED
