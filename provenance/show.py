"""Look inside a clip's credentials: the chain of manifests, numbered, and
the thumbnails they carry.

Entry 0 is the active manifest; ingredients follow depth first, newest
first, numbered 1, 2, … as ``provenance show`` prints them.

>>> extract_thumbnail(Path("clip.mp4"), Path("original.jpg"), index=2).title  # doctest: +SKIP
'clip.signed.mp4'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance._files import atomic_write
from provenance.credentials import bridge
from provenance.errors import InputError, OutputExistsError, UsageError
from provenance.trust.store import TrustStore
from provenance.verification.report import Ingredient, VerificationReport
from provenance.verification.verifier import Credentials, load_credentials, report_from_store


@dataclass(frozen=True)
class ChainEntry:
    """One manifest or ingredient of the chain, as ``show`` lists it."""

    index: int
    depth: int
    title: str | None
    relationship: str | None  # None for the active manifest
    manifest_id: str | None
    thumbnail_id: str | None  # resource identifier in the store, if any
    thumbnail_format: str | None
    node: Ingredient | None  # the verified node (None for entry 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "depth": self.depth,
            "title": self.title,
            "relationship": self.relationship,
            "manifest_id": self.manifest_id,
            "thumbnail": self.thumbnail_id is not None,
            "thumbnail_format": self.thumbnail_format,
            "verdict": self.node.verdict.value if self.node else None,
        }


@dataclass(frozen=True)
class Inspection:
    """A clip's credentials: the verification report and the numbered chain."""

    report: VerificationReport
    entries: tuple[ChainEntry, ...]
    credentials: Credentials

    def to_dict(self) -> dict[str, Any]:
        return {"report": self.report.to_dict(), "entries": [e.to_dict() for e in self.entries]}


def _node_at(nodes: tuple[Ingredient, ...], path: tuple[int, ...]) -> Ingredient:
    """The report's node at *path*: the report's ingredient tree is built
    from the model's, so the same indices lead to the same ingredient."""
    node = nodes[path[0]]
    for index in path[1:]:
        node = node.ingredients[index]
    return node


def inspect(path: Path | str, *, trust: TrustStore | None = None, manifest: Path | None = None) -> Inspection:
    """Read *path*'s credentials (embedded or sidecar) and number its chain.
    Raises :class:`InputError` when the clip cannot be read or has none."""
    path = Path(path)
    trust = trust or TrustStore()
    credentials = load_credentials(path, trust=trust, manifest=manifest)
    store = credentials.store
    if store is None:
        raise InputError(f"{path}: has no content credentials", hint="nothing to show; sign it first")
    report = report_from_store(path, credentials, trust=trust)
    active = store.active
    thumb_format = active.thumbnail.mime_type if active and active.thumbnail else None
    entries = [
        ChainEntry(
            0, 0, report.title, None, store.active_label, active.thumbnail_id if active else None, thumb_format, None
        )
    ]
    for node in store.walk():
        link = node.link
        entries.append(
            ChainEntry(
                len(entries),
                node.depth + 1,
                link.title,
                link.relationship,
                link.manifest_label,
                link.thumbnail_id,
                link.thumbnail_format,
                _node_at(report.ingredients, node.path),
            )
        )
    return Inspection(report, tuple(entries), credentials)


@dataclass(frozen=True)
class ThumbnailResult:
    """A thumbnail written by :func:`extract_thumbnail`."""

    output: Path
    index: int
    title: str | None
    format: str | None
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "index": self.index,
            "title": self.title,
            "format": self.format,
            "size": self.size,
        }


def extract_thumbnail(
    path: Path | str,
    output: Path | str,
    *,
    index: int = 0,
    manifest: Path | None = None,
    force: bool = False,
) -> ThumbnailResult:
    """Write the thumbnail of chain entry *index* (0: the active manifest's
    claim thumbnail; 1…: an ingredient's, as numbered by :func:`inspect`) to
    *output*, atomically."""
    path, output = Path(path), Path(output)
    if output.exists() and not force:
        raise OutputExistsError(f"{output}: output file exists")
    found = inspect(path, manifest=manifest)
    if not 0 <= index < len(found.entries):
        last = len(found.entries) - 1
        raise UsageError(
            f"--ingredient {index}: no such entry",
            hint=f"give 0 (the active manifest) to {last}",
            reason="no_such_entry",
            details={"last": str(last)},
        )
    entry = found.entries[index]
    if entry.thumbnail_id is None:
        what = "the active manifest" if index == 0 else f"ingredient {index} ({entry.title})"
        raise InputError(f"{path}: {what} has no thumbnail", hint="list the chain (inspect())", reason="no_thumbnail")
    data = bridge.read_resource(
        path,
        mime_type=found.credentials.format.mime_type,
        identifier=entry.thumbnail_id,
        manifest_data=found.credentials.sidecar_store,
    )
    atomic_write(output, data)
    return ThumbnailResult(output, index, entry.title, entry.thumbnail_format, len(data))
