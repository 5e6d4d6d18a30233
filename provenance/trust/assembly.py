"""The trust one verification uses: exactly the persistent trust store (unless
the caller leaves it out) plus the files the call names. Nothing depends on
the current folder: a development root is trusted only once ``keys init``
(or the caller) has registered it as a named source.

>>> trust = assemble_trust(anchors=[Path("partner-root.pem")])  # doctest: +SKIP
>>> verify("clip.mp4", trust=trust.store)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from provenance.trust.sources import SourceEntry, TrustDirectory, default_trust_dir
from provenance.trust.store import SourceKind, TrustStore

#: The source name and title ``keys init`` registers its development root under.
DEVELOPMENT_ROOT = "development-root"
DEVELOPMENT_ROOT_TITLE = "development root"


@dataclass(frozen=True)
class AssembledTrust:
    """A trust store, and why any registered source was left out of it."""

    store: TrustStore
    problems: tuple[str, ...] = ()


def assemble_trust(
    *,
    anchors: Iterable[Path] = (),
    allowed: Iterable[Path] = (),
    tsa: Iterable[Path] = (),
    trust_dir: Path | None = None,
    use_store: bool = True,
) -> AssembledTrust:
    """Every source of the persistent trust store in *trust_dir* (default:
    ``$PROVENANCE_TRUST_DIR`` or the user config dir) unless *use_store* is
    false, then the PEM files *anchors*, *allowed* (pinned certificates) and
    *tsa* (time-stamping roots), each named after its path."""
    store = TrustStore()
    problems: tuple[str, ...] = ()
    if use_store:
        loaded = TrustDirectory(trust_dir or default_trust_dir()).load()
        store, problems = loaded.store, loaded.problems
    for kind, paths in ((SourceKind.ANCHORS, anchors), (SourceKind.ALLOWED, allowed), (SourceKind.TSA, tsa)):
        for path in paths:
            store = store.with_pem_file(path, kind=kind, name=str(path))
    return AssembledTrust(store, problems)


def register_development_root(root_cert: Path, *, trust_dir: Path | None = None) -> SourceEntry:
    """Trust the development root *root_cert* from now on, as the named
    source ``development-root`` (shown as "development root"; replaced by
    a later ``keys init``, removable with ``trust remove``)."""
    directory = TrustDirectory(trust_dir or default_trust_dir())
    return directory.add(
        DEVELOPMENT_ROOT, str(root_cert), kind=SourceKind.ANCHORS, title=DEVELOPMENT_ROOT_TITLE, replace_existing=True
    )
