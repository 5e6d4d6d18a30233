"""One error base for the whole library.

Library code only raises; front ends catch :class:`ProvenanceError` once,
print :meth:`ProvenanceError.diagnostics` and exit with :attr:`exit_code`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    VERIFIED = 0
    FAILED = 1  # tampered or invalid
    USAGE = 2
    UNTRUSTED = 3
    NO_CREDENTIALS = 4
    BAD_INPUT = 5  # unreadable, malformed or unsupported input
    IDENTITY = 6  # key or certificate unusable (passphrase, permissions, profile)
    WRONG_SIGNER = 7  # verified, but not by whom the caller expected
    REPOSITORY = 9  # the manifest repository is unreachable, corrupt or not a repository
    INTERNAL = 70  # a bug in provenance


class ProvenanceError(Exception):
    """Base of every error provenance raises.

    ``str(err)`` is the one-line message; :meth:`diagnostics` adds the hint
    that says what to do.
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

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


class InputError(ProvenanceError):
    """The input file is missing, unreadable, malformed or unsupported."""

    exit_code = ExitCode.BAD_INPUT


class UnsupportedFormatError(InputError):
    """The container is one provenance cannot embed credentials in."""


class MalformedMediaError(InputError):
    """The file claims a supported container but its structure is broken."""


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


class RepositoryError(ProvenanceError):
    """The manifest repository cannot be used: unreachable, corrupt, not a
    provenance repository, or of another schema version. Never a wrong
    answer: a lookup that cannot be made fails with this."""

    exit_code = ExitCode.REPOSITORY
