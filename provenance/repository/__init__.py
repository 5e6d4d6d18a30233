"""The manifest repository: signed clips' manifest stores with their
fingerprints, answering "which signed clips does this content match?"
(C2PA soft-binding resolution). SQLite by default, PostgreSQL at scale.

>>> with open_repository(create=True) as repo:  # doctest: +SKIP
...     repo.register(store, manifest_id=label, fingerprint=compute(clip))
...     repo.lookup(compute(copy))
"""

from __future__ import annotations

from provenance.repository.records import Candidate, Registration, RepositoryStats, SignerInfo, StoredManifest
from provenance.repository.repository import Repository, default_repository_path, open_repository

__all__ = [
    "Candidate",
    "Registration",
    "Repository",
    "RepositoryStats",
    "SignerInfo",
    "StoredManifest",
    "default_repository_path",
    "open_repository",
]
