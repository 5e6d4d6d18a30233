"""Registering a signed clip, and looking a clip up: what ``repo add`` and
``repo lookup`` (and the service) do with files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.errors import InputError, ProvenanceError
from provenance.repository.records import Candidate, Registration, SignerInfo
from provenance.repository.repository import DEFAULT_MAX_RESULTS, Repository

if TYPE_CHECKING:
    from provenance.media.fingerprint import Fingerprint
    from provenance.trust.store import TrustStore

# Registering a clip whose credentials do not validate would hand its
# manifest to every later lookup: refused. Untrusted is fine (a lookup
# validates against the verifier's own trust).
_REFUSED = {"tampered", "invalid", "no_credentials", "error"}


@dataclass(frozen=True)
class ClipFingerprint:
    """A clip's fingerprint, or why it has none (too short, too uniform)."""

    fingerprint: Fingerprint | None
    reason: str | None = None


def fingerprint_clip(path: Path, *, dense: bool = False) -> ClipFingerprint:
    """Compute *path*'s fingerprint (*dense*: the four-a-second query kind,
    for a lookup); a clip that cannot be fingerprinted (the fingerprint
    module's FingerprintError) gives the reason instead."""
    from provenance.media import fingerprint as fp

    try:
        return ClipFingerprint(fp.compute(path, dense=dense))
    except fp.FingerprintError as exc:
        return ClipFingerprint(None, exc.message if isinstance(exc, ProvenanceError) else str(exc))


def register_clip(
    repo: Repository,
    path: Path,
    *,
    trust: TrustStore | None = None,
    sidecar: Path | None = None,
    fingerprint: ClipFingerprint | None = None,
) -> Registration:
    """Register the signed clip *path* (or its *sidecar* store): verify it,
    read its raw manifest store, fingerprint its content and store both.
    Tampered, invalid or unsigned clips are refused (InputError). A clip too
    short or uniform to fingerprint is registered without a fingerprint,
    and the registration says why."""
    from provenance.credentials.bridge import raw_manifest_store
    from provenance.verification.verifier import verify

    report = verify(path, trust=trust, manifest=sidecar, find_sidecar=sidecar is not None)
    if report.verdict.value in _REFUSED:
        if report.verdict.value == "no_credentials":
            state = "it carries no content credentials"
        else:
            why = report.error or report.chain_summary
            state = f"its credentials are {report.verdict.value}" + (f" ({why})" if why else "")
        raise InputError(
            f"{path}: not registered: {state}",
            hint="register clips whose credentials verify (a signed, unmodified clip)",
        )
    sidecar_bytes = _read(sidecar) if sidecar is not None else None
    found = raw_manifest_store(path, manifest_data=sidecar_bytes)
    if found is None:
        raise InputError(f"{path}: no manifest store to register", hint="sign the clip first")
    store, label = found
    if report.manifest_id and report.manifest_id != label:
        raise InputError(f"{path}: the manifest store read does not hold the verified manifest")
    fingerprint = fingerprint or fingerprint_clip(path)
    signer = report.signer
    info = SignerInfo(
        name=signer.common_name if signer else None,
        organization=signer.organization if signer else None,
        issuer=signer.issuer if signer else None,
        signed_at=report.signed_at,
    )
    return repo.register(
        store,
        manifest_id=label,
        signer=info,
        title=report.title,
        fingerprint=fingerprint.fingerprint,
        no_fingerprint=fingerprint.reason,
    )


def lookup_clip(
    repo: Repository, path: Path, *, max_results: int = DEFAULT_MAX_RESULTS, threshold: float | None = None
) -> list[Candidate]:
    """The registered clips whose content *path* matches, best first; a
    clip that cannot be fingerprinted is an InputError (no answer is better
    than a wrong one)."""
    computed = fingerprint_clip(path, dense=True)
    if computed.fingerprint is None:
        raise InputError(
            f"{path}: cannot be looked up: {computed.reason}",
            hint="a lookup needs a clip of a few seconds with visible content",
        )
    return repo.lookup(computed.fingerprint, max_results=max_results, threshold=threshold)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})", hint="check the path and permissions") from None
