"""Look inside a clip's credentials: the chain of manifests, numbered, and
the thumbnails they carry.

Entry 0 is the active manifest; ingredients follow depth first, newest
first, numbered 1, 2, … as ``provenance show`` prints them.

>>> extract_thumbnail(Path("clip.mp4"), Path("original.jpg"), index=2).title  # doctest: +SKIP
'clip.signed.mp4'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance._files import atomic_write
from provenance.credentials import bridge
from provenance.errors import InputError, OutputExistsError, UsageError
from provenance.trust.store import TrustStore
from provenance.verify.report import Ingredient, VerificationReport
from provenance.verify.verifier import Credentials, load_credentials, report_from_store

_MAX_DEPTH = 32


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


def _walk(
    manifests: Mapping[str, Any], label: str, nodes: tuple[Ingredient, ...], depth: int, seen: frozenset[str]
) -> Iterator[tuple[int, Mapping[str, Any], Ingredient]]:
    # Mirrors the verifier's recursion, so each JSON ingredient meets its node.
    for ing, node in zip((manifests.get(label) or {}).get("ingredients") or [], nodes):
        yield depth, ing, node
        child = ing.get("active_manifest")
        if child and child in manifests and child not in seen and depth < _MAX_DEPTH:
            yield from _walk(manifests, child, node.ingredients, depth + 1, seen | {child})


def inspect(path: Path | str, *, trust: TrustStore | None = None, manifest: Path | None = None) -> Inspection:
    """Read *path*'s credentials (embedded or sidecar) and number its chain.
    Raises :class:`InputError` when the clip cannot be read or has none."""
    path = Path(path)
    trust = trust or TrustStore()
    credentials = load_credentials(path, trust=trust, manifest=manifest)
    if credentials.data is None:
        raise InputError(f"{path}: has no content credentials", hint="nothing to show; sign it first")
    report = report_from_store(path, credentials, trust=trust)
    store = credentials.data.store
    manifests: Mapping[str, Any] = store.get("manifests") or {}
    active = store.get("active_manifest") or ""
    thumb = (manifests.get(active) or {}).get("thumbnail") or {}
    entries = [ChainEntry(0, 0, report.title, None, active or None, thumb.get("identifier"), thumb.get("format"), None)]
    for depth, ing, node in _walk(manifests, active, report.ingredients, 0, frozenset({active})):
        thumb = ing.get("thumbnail") or {}
        entries.append(ChainEntry(len(entries), depth + 1, ing.get("title"), ing.get("relationship"),
                                  ing.get("active_manifest"), thumb.get("identifier"), thumb.get("format"), node))
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
        return {"output": str(self.output), "index": self.index, "title": self.title, "format": self.format, "size": self.size}


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
        raise OutputExistsError(f"{output}: output file exists", hint="pass --force to replace it")
    found = inspect(path, manifest=manifest)
    if not 0 <= index < len(found.entries):
        last = len(found.entries) - 1
        raise UsageError(f"--ingredient {index}: no such entry", hint=f"give 0 (the active manifest) to {last}; see 'provenance show'")
    entry = found.entries[index]
    if entry.thumbnail_id is None:
        what = "the active manifest" if index == 0 else f"ingredient {index} ({entry.title})"
        raise InputError(f"{path}: {what} has no thumbnail", hint="list the chain with 'provenance show FILE'")
    data = bridge.read_resource(
        path, mime_type=found.credentials.format.mime_type, identifier=entry.thumbnail_id,
        manifest_data=found.credentials.sidecar_store,
    )
    atomic_write(output, data)
    return ThumbnailResult(output, index, entry.title, entry.thumbnail_format, len(data))
