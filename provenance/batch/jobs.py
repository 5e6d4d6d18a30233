"""The two batch jobs: verify each file, or sign each file into OUTDIR.

Each is set up once per worker (the trust store arrives pickled, the signer
is loaded by its factory) and then turns every file into a
:class:`BatchResult`, whatever goes wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.batch.inputs import BatchInput
from provenance.batch.outputs import output_folder, output_path
from provenance.batch.results import FAILED, SIGNED, BatchResult
from provenance.credentials.manifest import SourceType
from provenance.errors import ExitCode, ProvenanceError
from provenance.identity.signer import Signer
from provenance.trust.store import TrustStore
from provenance.verification.explain import explain
from provenance.verification.policy import Policy
from provenance.verification.report import Verdict, VerificationReport
from provenance.verification.rules import deciding_failure
from provenance.verification.verifier import verify


def _reason(report: VerificationReport) -> str | None:
    if report.error:
        return report.error
    if report.verdict is Verdict.WRONG_SIGNER and report.policy_failures:
        return "; ".join(report.policy_failures)
    decided = deciding_failure(report.status)  # the failure that decided the verdict, not the first listed
    if decided is not None:
        return f"{decided.code}: {explain(decided.code, decided.explanation)}"
    return None


@dataclass
class VerifyJob:
    """Verify each file against *trust*, and judge it by the identity
    *policy* when one is given (a verified clip that fails it is
    ``wrong_signer``, as ``verify --expect-*`` says for one file). With
    *lookup* (a repository path or URL, ``""`` for the default one), a file
    without valid credentials is looked up by its content, as ``verify
    --lookup`` does; each worker opens the repository once."""

    trust: TrustStore
    policy: Policy | None = None
    lookup: str | None = None
    _source: Any = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_source"] = None  # each worker opens its own connection
        return state

    def setup(self) -> None:
        if self.lookup is not None and self._source is None:
            from provenance.verification.recovery import open_source

            self._source = open_source(self.lookup or None)

    def close(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            source.close()

    def run(self, item: BatchInput) -> BatchResult:
        try:
            report = verify(item.path, trust=self.trust, policy=self.policy, lookup=self._source)
        except ProvenanceError as exc:  # the repository failed: this file's record says so
            report = VerificationReport(
                file=str(item.path), verdict=Verdict.ERROR, error=exc.diagnostics(), error_reason=exc.reason
            )
        except Exception as exc:  # noqa: BLE001 - one file must not stop the batch
            report = VerificationReport(
                file=str(item.path), verdict=Verdict.ERROR, error=f"internal error: {type(exc).__name__}: {exc}"
            )
        return BatchResult(
            str(item.path),
            report.verdict.value,
            report.exit_code,
            report.to_dict(),
            size=item.size,
            error=_reason(report),
        )

    def crashed(self, item: BatchInput, reason: str) -> BatchResult:
        report = VerificationReport(file=str(item.path), verdict=Verdict.ERROR, error=reason)
        return BatchResult(
            str(item.path), Verdict.ERROR.value, report.exit_code, report.to_dict(), size=item.size, error=reason
        )


SignerSource = Signer | Callable[[], Signer]


@dataclass
class SignJob:
    """Sign each file into *outdir*, keeping its layout under its root.

    *signer* is a signer, or a picklable callable that returns one (needed
    for worker processes: a private key does not cross processes; each
    worker opens it once, see :mod:`provenance.identity.factories`). A
    signer the job opened itself is closed by :meth:`close`; one it was
    given belongs to the caller. *flat_hash* and *allow_invalid_parent* as for :func:`provenance.sign`.
    *describe* words a failed file's error (a picklable function; the CLI
    passes its own, which names its flags); by default the library's
    :meth:`~provenance.errors.ProvenanceError.diagnostics`.
    """

    outdir: Path
    signer: SignerSource
    title: str | None = None
    author: str | None = None
    source: SourceType = SourceType.CAMERA
    force: bool = False
    flat_hash: bool = False
    allow_invalid_parent: bool = False
    describe: Callable[[ProvenanceError], str] = ProvenanceError.diagnostics
    register: str | None = None  # a repository path or URL ("" the default one) to register each output in
    _loaded: Signer | None = field(default=None, init=False, repr=False, compare=False)
    _repository: Any = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_loaded"] = None  # never pickle a loaded key
        state["_repository"] = None  # each worker opens its own connection
        return state

    def setup(self) -> None:
        """Open the signer and refuse, before any file, one whose signature
        validators would reject (the C2PA certificate profile)."""
        from provenance._sign_step import check_signer  # signing modules load only for a sign job

        if self._loaded is None:
            loaded = self.signer if isinstance(self.signer, Signer) else self.signer()
            try:
                check_signer(loaded)
            except BaseException:
                if loaded is not self.signer:
                    loaded.close()
                raise
            self._loaded = loaded
        if self.register is not None and self._repository is None:
            from provenance.repository import open_repository

            self._repository = open_repository(self.register or None, create=True)

    def close(self) -> None:
        """Close the signer this job opened (a token session, say), and the repository."""
        loaded, self._loaded = self._loaded, None
        if loaded is not None and loaded is not self.signer:
            loaded.close()
        repository, self._repository = self._repository, None
        if repository is not None:
            repository.close()

    def output_for(self, item: BatchInput) -> Path:
        return output_path(self.outdir, item.relative)

    def run(self, item: BatchInput) -> BatchResult:
        from provenance.signing import sign

        assert self._loaded is not None, "SignJob.setup() was not called"
        output: Path | None = None
        try:
            output = self.output_for(item)
            # The output is written through a descriptor of its folder,
            # reached from OUTDIR without following any link.
            with output_folder(self.outdir, output):
                result = sign(
                    item.path,
                    output,
                    signer=self._loaded,
                    title=self.title,
                    author=self.author,
                    source=self.source,
                    force=self.force,
                    flat_hash=self.flat_hash,
                    allow_invalid_parent=self.allow_invalid_parent,
                    register=self._repository,
                )
        except ProvenanceError as exc:
            return self.failure(item, self.describe(exc), exc.exit_code, output)
        except Exception as exc:  # noqa: BLE001 - one file must not stop the batch
            return self.failure(item, f"internal error: {type(exc).__name__}: {exc}", ExitCode.INTERNAL, output)
        return BatchResult(
            str(item.path), SIGNED, ExitCode.VERIFIED, {**result.to_dict(), "error": None}, size=item.size
        )

    def failure(self, item: BatchInput, error: str, code: ExitCode, output: Path | None = None) -> BatchResult:
        record = {
            "input": str(item.path),
            "output": str(output) if output else None,
            "error": error,
            "exit_code": int(code),
        }
        return BatchResult(str(item.path), FAILED, code, record, size=item.size, error=error)

    def crashed(self, item: BatchInput, reason: str) -> BatchResult:
        return self.failure(item, reason, ExitCode.INTERNAL)
