"""One error base for the whole library.

Library code only raises; front ends catch :class:`ProvenanceError` once,
print a line and exit with (or answer by) :attr:`~ProvenanceError.exit_code`.

How an error speaks (library terms; each front end adds its own hints):

- ``message`` says what is wrong, naming files and values, never a command
  line flag, a command or an HTTP part.
- ``hint`` (optional) says what to do in library terms: "allow replacing
  it", "give the certificate chain", "use one of h264, hevc".
- ``reason`` (optional) is a stable machine key for the situation,
  ``snake_case``, such as ``"output_exists"`` or ``"passphrase_missing"``.
  An error class may carry a default (``OutputExistsError.reason``). A
  reason is part of the contract: keep its meaning, add new ones freely.
- ``details`` (optional) are strings a front end's hint may quote, e.g.
  ``{"name": "clip.mp4"}``.

:meth:`ProvenanceError.diagnostics` is the library's own line: message,
then hint. The CLI turns a reason into a hint that names its flags
(``provenance.cli.hints.CLI_HINTS``, a template formatted with
``details``), the HTTP service into one that names its request parts
(``provenance.service.hints.HTTP_HINTS``); a reason a front end does not
map falls back to the library hint. So a library module never writes
"pass --force": it raises ``OutputExistsError(f"{path}: output file
exists")`` and the CLI prints "...; pass --force to replace it".

    >>> err = OutputExistsError("out.mp4: output file exists")
    >>> err.reason, err.diagnostics()
    ('output_exists', 'out.mp4: output file exists; allow replacing it (force=True)')
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in docs/reference/exit-codes.md."""

    VERIFIED = 0
    FAILED = 1  # tampered or invalid
    USAGE = 2
    UNTRUSTED = 3
    NO_CREDENTIALS = 4
    BAD_INPUT = 5  # unreadable, malformed or unsupported input
    IDENTITY = 6  # key or certificate unusable (passphrase, permissions, profile)
    WRONG_SIGNER = 7  # verified, but not by whom the caller expected
    RECOVERED = 8  # no valid credentials in the file; its content matches a signed original
    REPOSITORY = 9  # the manifest repository is unreachable, corrupt or not a repository
    BROKER = 10  # the task broker (verify --engine celery) is unreachable or restarted mid-batch
    INTERNAL = 70  # a bug in provenance


class ProvenanceError(Exception):
    """Base of every error provenance raises.

    ``str(err)`` is the one-line message; :meth:`diagnostics` adds the hint
    that says what to do. See the module docstring for ``reason`` and
    ``details``.
    """

    exit_code: ExitCode = ExitCode.USAGE
    reason: str | None = None
    default_hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        reason: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        if reason is not None:
            self.reason = reason
        self.details: Mapping[str, str] = dict(details or {})

    def diagnostics(self) -> str:
        """One line for a human: what is wrong, then what to do."""
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class UsageError(ProvenanceError):
    """The caller asked for something that cannot be done as asked."""

    exit_code = ExitCode.USAGE


class OutputExistsError(UsageError):
    """The output file exists and ``force`` was not given."""

    reason = "output_exists"
    default_hint = "allow replacing it (force=True)"


class OutputError(UsageError):
    """The output cannot be written where asked: a read-only or missing
    folder, a full disk, a quota. Exit code 2, as for any output that
    cannot be written as asked; the message names the folder and the
    system's reason (*errno*)."""

    def __init__(self, message: str, *, hint: str | None = None, errno: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.errno = errno


class InputError(ProvenanceError):
    """The input file is missing, unreadable, malformed or unsupported."""

    exit_code = ExitCode.BAD_INPUT
    reason = "bad_input"


class UnsupportedFormatError(InputError):
    """The container is one provenance cannot embed credentials in."""

    reason = "unsupported_format"


class MalformedMediaError(InputError):
    """The file claims a supported container but its structure is broken."""

    reason = "malformed_media"


class IdentityError(ProvenanceError):
    """A key or certificate cannot be used (passphrase, permissions, profile)."""

    exit_code = ExitCode.IDENTITY


class InsecureKeyError(IdentityError):
    """A private key file is readable by other users."""


class PassphraseError(IdentityError):
    """A private key passphrase is missing or wrong."""


class CredentialError(ProvenanceError):
    """The C2PA layer refused to build or sign a manifest."""

    exit_code = ExitCode.FAILED


class InvalidParentError(ProvenanceError):
    """An edit's source carries tampered or invalid credentials; editing it
    would hide that, so it is refused unless the caller allows it."""

    exit_code = ExitCode.FAILED


class BrokerError(ProvenanceError):
    """The task broker (Celery's Redis) cannot be reached, or restarted in
    the middle of a batch (tasks queued there may be gone): what finished
    is recorded, and ``--resume`` finishes the rest."""

    exit_code = ExitCode.BROKER
    reason = "broker_unavailable"


class RepositoryError(ProvenanceError):
    """The manifest repository cannot be used: unreachable, corrupt, not a
    provenance repository, or of another schema version. Never a wrong
    answer: a lookup that cannot be made fails with this."""

    exit_code = ExitCode.REPOSITORY
