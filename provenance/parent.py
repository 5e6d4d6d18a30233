"""The source of an edit, as the edit records it: the ``parentOf``
ingredient, with the source's manifest store, the validation result of its
credentials and a thumbnail.

c2pa-rs reads an embedded store from the source itself and records what it
finds. A sidecar store (a WebM's, say) it cannot find on its own, so the
store and the validation result are handed to it with the ingredient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.credentials.sidecar import SIDECAR_MIME
from provenance.errors import InputError, InvalidParentError
from provenance.media import formats, video
from provenance.trust.store import TrustStore
from provenance.verification.report import Verdict, VerificationReport
from provenance.verification.rules import deciding_failure
from provenance.verification.verifier import load_credentials, report_from_store

INGREDIENT_THUMBNAIL_ID = "ingredient-thumbnail.jpg"
PARENT_STORE_ID = "parent-manifest.c2pa"


@dataclass(frozen=True)
class Parent:
    """An edit's source file and what its credentials say."""

    path: Path
    format: formats.MediaFormat
    report: VerificationReport  # Verdict.NO_CREDENTIALS when unsigned
    sidecar_store: bytes | None = None  # the store, when it came from a sidecar
    validation_results: Mapping[str, Any] | None = None
    claim_thumbnail: bytes | None = None  # the source's own claim thumbnail

    @property
    def signed(self) -> bool:
        return self.report.verdict is not Verdict.NO_CREDENTIALS

    @property
    def verdict(self) -> Verdict:
        return self.report.verdict

    def require_valid(self, *, allow_invalid: bool) -> None:
        """Refuse a source whose credentials are tampered or invalid, unless
        *allow_invalid* (the failure is then recorded in the ingredient)."""
        if self.verdict in (Verdict.TAMPERED, Verdict.INVALID) and not allow_invalid:
            decided = deciding_failure(self.report.failures)  # the failure behind the verdict, not the first listed
            failure = decided.code if decided is not None else self.verdict.value
            raise InvalidParentError(
                f"{self.path}: its content credentials are {self.verdict.value} ({failure}); "
                "editing it would pass that on unseen",
                hint="use an intact source, or allow recording the failure in the new manifest (allow_invalid_parent=True)",
                reason="invalid_parent",
            )

    def ingredient(self, *, label: str) -> tuple[dict[str, Any], dict[str, bytes]]:
        """The ingredient JSON for c2pa's Builder, and the resources it
        names (thumbnail, sidecar store)."""
        ingredient: dict[str, Any] = {"title": self.path.name, "relationship": "parentOf", "label": label}
        resources: dict[str, bytes] = {}
        # The source's own claim thumbnail when it has one, else a keyframe.
        thumbnail = self.claim_thumbnail or video.thumbnail_jpeg(self.path)
        if thumbnail:
            ingredient["thumbnail"] = {"format": "image/jpeg", "identifier": INGREDIENT_THUMBNAIL_ID}
            resources[INGREDIENT_THUMBNAIL_ID] = thumbnail
        if self.sidecar_store is not None:
            ingredient["manifest_data"] = {"format": SIDECAR_MIME, "identifier": PARENT_STORE_ID}
            ingredient["validation_results"] = dict(self.validation_results or {})
            resources[PARENT_STORE_ID] = self.sidecar_store
        return ingredient, resources


def read_parent(path: Path, *, trust: TrustStore, manifest: Path | None = None) -> Parent:
    """Read and judge the credentials of an edit's source *path* (embedded,
    the sidecar *manifest*, or a sidecar found next to it)."""
    credentials = load_credentials(path, trust=trust, manifest=manifest, any_format=True)
    report = report_from_store(path, credentials, trust=trust)
    if report.verdict is Verdict.ERROR:
        raise InputError(report.error or f"{path}: cannot be read", hint="check the file")
    store = credentials.store
    active = store.active if store is not None else None
    thumbnail = active.thumbnail.data if active is not None and active.thumbnail is not None else None
    results = store.raw_validation_results if store is not None else None
    return Parent(
        path=path,
        format=credentials.format,
        report=report,
        sidecar_store=credentials.sidecar_store,
        validation_results=results,
        claim_thumbnail=thumbnail,
    )
