"""The persistent trust store: named trust sources kept in a folder.

Each source has a name, a kind (anchors, allowed, tsa, ekus, cawg), an origin
(an http(s) URL or a local file) and a validated local copy. ``update``
fetches every origin again, validates everything it fetched before
replacing anything, keeps the previous copy of a source whose download
failed, and records when each copy was fetched.

Layout of the folder (``$PROVENANCE_TRUST_DIR``, ``--trust-dir``, or the
user's config dir)::

    sources.json        the index: one entry per source
    lists/NAME.pem      the last good copy of each source (NAME.json for a JSON
                        list, NAME.txt for hashes and EKUs)

>>> trust_dir = TrustDirectory(default_trust_dir())  # doctest: +SKIP
>>> trust_dir.add_defaults()                          # doctest: +SKIP
>>> report = verify("clip.mp4", trust=trust_dir.load().store)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from provenance._files import atomic_write
from provenance.errors import ProvenanceError, UsageError
from provenance.trust.download import Fetcher, TrustSourceError, download, is_url
from provenance.trust.lote import looks_like_json
from provenance.trust.store import SourceKind, TrustSource, TrustStore

INDEX = "sources.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_FILE_BYTES = 8 << 20


def default_trust_dir() -> Path:
    """``$PROVENANCE_TRUST_DIR``, else ``<user config dir>/provenance/trust``."""
    env = os.environ.get("PROVENANCE_TRUST_DIR")
    if env:
        return Path(env)
    import platformdirs  # only when the store is used (not for --no-trust-store)

    return platformdirs.user_config_path("provenance") / "trust"


@dataclass(frozen=True)
class DefaultSource:
    name: str
    kind: SourceKind
    url: str
    title: str
    # other names a mirror may give the file (tried after the URL's own):
    # the JSON form of the C2PA lists, the verify site's repository names
    # (static/trust/), and the copies in this project's shared data
    also_named: tuple[str, ...] = ()

    @property
    def mirror_names(self) -> tuple[str, ...]:
        return (self.url.rsplit("/", 1)[1], *self.also_named)


_C2PA = "https://raw.githubusercontent.com/c2pa-org/conformance-public/refs/heads/main/trust-list"
_INTERIM = "https://contentcredentials.org/trust"

#: The lists ``trust add-defaults`` registers: the official C2PA trust list
#: and TSA trust list, and the legacy interim list of the Content
#: Credentials Verify site (anchors, pinned certificate hashes, EKUs).
DEFAULT_SOURCES: tuple[DefaultSource, ...] = (
    DefaultSource(
        "c2pa-trust-list",
        SourceKind.ANCHORS,
        f"{_C2PA}/C2PA-TRUST-LIST.pem",
        "C2PA trust list",
        ("C2PA-TRUST-LIST.json",),
    ),
    DefaultSource(
        "c2pa-tsa-trust-list",
        SourceKind.TSA,
        f"{_C2PA}/C2PA-TSA-TRUST-LIST.pem",
        "C2PA TSA trust list",
        ("C2PA-TSA-TRUST-LIST.json",),
    ),
    DefaultSource(
        "interim-anchors", SourceKind.ANCHORS, f"{_INTERIM}/anchors.pem", "interim list", ("interim-anchors.pem",)
    ),
    DefaultSource(
        "interim-allowed",
        SourceKind.ALLOWED,
        f"{_INTERIM}/allowed.sha256.txt",
        "interim list",
        ("allowed.pem", "interim-allowed.pem"),
    ),
    DefaultSource(
        "interim-ekus", SourceKind.EKUS, f"{_INTERIM}/store.cfg", "interim list EKUs", ("interim-store.cfg",)
    ),
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class SourceEntry:
    """One registered trust source, as the index records it."""

    name: str
    kind: SourceKind
    origin: str  # an http(s) URL or an absolute file path
    title: str | None = None
    fetched_at: str | None = None  # when the current copy was fetched (UTC)
    sha256: str | None = None  # of the current copy
    entries: int = 0  # certificates, hashes or OIDs in the current copy
    copy: str | None = None  # file name of the copy under lists/
    last_attempt: str | None = None
    last_error: str | None = None  # why the last update failed (the copy is older)

    @property
    def display_name(self) -> str:
        return self.title or self.name

    @property
    def is_url(self) -> bool:
        return is_url(self.origin)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "origin": self.origin,
            "title": self.title,
            "fetched_at": self.fetched_at,
            "sha256": self.sha256,
            "entries": self.entries,
            "copy": self.copy,
            "last_attempt": self.last_attempt,
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceEntry:
        return cls(
            name=str(data["name"]),
            kind=SourceKind(data["kind"]),
            origin=str(data["origin"]),
            title=data.get("title"),
            fetched_at=data.get("fetched_at"),
            sha256=data.get("sha256"),
            entries=int(data.get("entries") or 0),
            copy=data.get("copy"),
            last_attempt=data.get("last_attempt"),
            last_error=data.get("last_error"),
        )


@dataclass(frozen=True)
class UpdateOutcome:
    """What ``update`` did for one source."""

    name: str
    ok: bool
    changed: bool = False
    entries: int = 0
    error: str | None = None
    kept_previous: bool = False  # failed, and an earlier good copy is still used

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "changed": self.changed,
            "entries": self.entries,
            "error": self.error,
            "kept_previous": self.kept_previous,
        }


@dataclass(frozen=True)
class LoadedTrust:
    """The store built from a trust folder, and the sources left out."""

    store: TrustStore
    problems: tuple[str, ...] = ()


def _entry_count(source: TrustSource) -> int:
    return len(source.certificates) + len(source.fingerprints) + len(source.ekus)


class TrustDirectory:
    """A folder of named trust sources (see the module docstring).

    *fetcher* downloads a URL (default: :func:`provenance.trust.download.download`,
    bounded in size and time); inject another to add caching or a proxy.
    """

    def __init__(self, path: Path, *, fetcher: Fetcher | None = None) -> None:
        self.path = Path(path)
        self._fetch = fetcher or download

    # -- index ---------------------------------------------------------

    @property
    def index_path(self) -> Path:
        return self.path / INDEX

    def entries(self) -> list[SourceEntry]:
        """Every registered source, in the order they were added."""
        try:
            raw = self.index_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise UsageError(
                f"{self.index_path}: cannot read the trust store ({exc.strerror})",
                hint="check the folder's permissions",
            ) from None
        try:
            data = json.loads(raw)
            return [SourceEntry.from_dict(item) for item in data["sources"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{self.index_path}: the trust store index is damaged ({type(exc).__name__})",
                hint="remove it and add the sources again, or use another trust folder",
                reason="trust_index_damaged",
            ) from None

    def get(self, name: str) -> SourceEntry:
        for entry in self.entries():
            if entry.name == name:
                return entry
        raise UsageError(
            f"no trust source named {name!r} in {self.path}",
            hint="list the registered sources",
            reason="no_such_trust_source",
        )

    def _write_index(self, entries: Sequence[SourceEntry]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "sources": [e.to_dict() for e in entries]}
        atomic_write(self.index_path, (json.dumps(data, indent=2) + "\n").encode())

    # -- fetching and validating ----------------------------------------

    def _read_origin(self, origin: str) -> bytes:
        if is_url(origin):
            return self._fetch(origin)
        path = Path(origin)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise TrustSourceError(
                    f"{path}: over the {MAX_FILE_BYTES:,}-byte limit for a trust list",
                    hint="check the file: trust lists are small",
                )
            return path.read_bytes()
        except FileNotFoundError:
            raise TrustSourceError(f"{path}: trust file not found", hint="check the path") from None
        except IsADirectoryError:
            raise TrustSourceError(f"{path}: is a directory, not a trust file", hint="give a PEM file") from None
        except OSError as exc:
            raise TrustSourceError(f"{path}: cannot read ({exc.strerror})", hint="check its permissions") from None

    def _fetch_valid(self, entry: SourceEntry) -> tuple[bytes, TrustSource]:
        data = self._read_origin(entry.origin)
        try:
            source = TrustSource.from_bytes(
                data, kind=entry.kind, name=entry.name, origin=entry.origin, title=entry.title
            )
        except UsageError as exc:
            raise TrustSourceError(exc.message, hint=exc.hint) from None
        return data, source

    def _store_copy(self, entry: SourceEntry, data: bytes, source: TrustSource) -> SourceEntry:
        lists = self.path / "lists"
        lists.mkdir(parents=True, exist_ok=True)
        suffix = ".json" if looks_like_json(data) else ".pem" if source.certificates else ".txt"
        copy = f"{entry.name}{suffix}"
        atomic_write(lists / copy, data)
        if entry.copy and entry.copy != copy:
            (lists / entry.copy).unlink(missing_ok=True)
        now = _now()
        return replace(
            entry,
            fetched_at=now,
            last_attempt=now,
            last_error=None,
            copy=copy,
            sha256=hashlib.sha256(data).hexdigest(),
            entries=_entry_count(source),
        )

    # -- commands ------------------------------------------------------

    def add(
        self,
        name: str,
        origin: str,
        *,
        kind: SourceKind = SourceKind.ANCHORS,
        title: str | None = None,
        replace_existing: bool = False,
    ) -> SourceEntry:
        """Register *origin* (URL or file) as source *name* and store a
        validated copy. Nothing is registered when the fetch or the
        validation fails."""
        if not _NAME.match(name):
            raise UsageError(
                f"{name!r} is not a valid source name",
                hint="use letters, digits, '.', '_' or '-' (up to 64), starting with a letter or digit",
            )
        entries = self.entries()
        if any(e.name == name for e in entries) and not replace_existing:
            raise UsageError(
                f"a trust source named {name!r} exists",
                hint="replace it (replace_existing=True), remove it first, or choose another name",
                reason="trust_source_exists",
            )
        if not is_url(origin):
            if "://" in origin:
                raise UsageError(
                    f"{origin}: only http(s) URLs and local files are supported",
                    hint="download the list and add the file",
                )
            origin = str(Path(origin).expanduser().resolve())
        entry = SourceEntry(name=name, kind=kind, origin=origin, title=title)
        data, source = self._fetch_valid(entry)
        entry = self._store_copy(entry, data, source)
        self._write_index([e for e in entries if e.name != name] + [entry])
        return entry

    def remove(self, name: str) -> SourceEntry:
        """Forget source *name* and delete its copy."""
        entry = self.get(name)
        self._write_index([e for e in self.entries() if e.name != name])
        if entry.copy:
            (self.path / "lists" / entry.copy).unlink(missing_ok=True)
        return entry

    def update(self, names: Iterable[str] | None = None) -> list[UpdateOutcome]:
        """Fetch the sources again (all, or *names*). Every download is
        validated before any copy is replaced; a source whose download or
        validation fails keeps its previous copy, if it has one, and records
        the error."""
        return self._update(names, {})

    def _update(
        self, names: Iterable[str] | None, done: dict[str, tuple[bytes, TrustSource] | str]
    ) -> list[UpdateOutcome]:
        # *done*: sources add_defaults already looked for in a mirror: what
        # was fetched and validated, or why nothing was
        entries = self.entries()
        wanted = list(names) if names is not None else [e.name for e in entries]
        known = {e.name for e in entries}
        for name in wanted:
            if name not in known:
                raise UsageError(
                    f"no trust source named {name!r} in {self.path}",
                    hint="list the registered sources",
                    reason="no_such_trust_source",
                )
        fetched = {name: found for name, found in done.items() if not isinstance(found, str)}
        errors = {name: found for name, found in done.items() if isinstance(found, str)}
        for entry in entries:
            if entry.name not in wanted or entry.name in done:
                continue
            try:
                fetched[entry.name] = self._fetch_valid(entry)
            except ProvenanceError as exc:
                errors[entry.name] = exc.diagnostics()
        # Everything fetched is valid; only now are copies replaced.
        outcomes: list[UpdateOutcome] = []
        updated: list[SourceEntry] = []
        for entry in entries:
            if entry.name in fetched:
                data, source = fetched[entry.name]
                new = self._store_copy(entry, data, source)
                outcomes.append(
                    UpdateOutcome(entry.name, True, changed=new.sha256 != entry.sha256, entries=new.entries)
                )
                updated.append(new)
            elif entry.name in errors:
                updated.append(replace(entry, last_attempt=_now(), last_error=errors[entry.name]))
                kept = entry.copy is not None
                outcomes.append(
                    UpdateOutcome(
                        entry.name,
                        False,
                        entries=entry.entries if kept else 0,
                        error=errors[entry.name],
                        kept_previous=kept,
                    )
                )
            else:
                updated.append(entry)
        self._write_index(updated)
        return outcomes

    def add_defaults(self, *, mirror: str | None = None) -> list[UpdateOutcome]:
        """Register :data:`DEFAULT_SOURCES` and fetch them. With *mirror*
        (an http(s) base URL or a local folder), each list is taken from
        there under the first of its :attr:`~DefaultSource.mirror_names`
        that is found and valid (the official file name, then the names
        the published copies have). Sources are registered even when a
        fetch fails, so a later ``update`` can complete them."""
        folder = None
        if mirror is not None and not is_url(mirror):
            folder = Path(mirror).expanduser()
            if not folder.is_dir():
                raise UsageError(
                    f"{mirror}: the mirror must be an http(s) URL or a folder",
                    hint="e.g. https://intranet/trust/ or a folder holding copies of the lists",
                    reason="mirror_not_url",
                )
        entries = self.entries()
        names = []
        fetched: dict[str, tuple[bytes, TrustSource] | str] = {}
        for default in DEFAULT_SOURCES:
            existing = next((e for e in entries if e.name == default.name), None)
            entry = SourceEntry(name=default.name, kind=default.kind, origin=default.url, title=default.title)
            if mirror is not None:
                entry, fetched[default.name] = self._from_mirror(entry, default, mirror, folder)
            if existing is not None:
                entry = replace(existing, kind=entry.kind, origin=entry.origin, title=entry.title)
                entries[entries.index(existing)] = entry
            else:
                entries.append(entry)
            names.append(default.name)
        self._write_index(entries)
        return self._update(names, fetched)

    def _from_mirror(
        self, entry: SourceEntry, default: DefaultSource, mirror: str, folder: Path | None
    ) -> tuple[SourceEntry, tuple[bytes, TrustSource] | str]:
        """*entry* with its origin in *mirror*: the first of the default's
        names there that is found and valid, with what was fetched; when
        none is, the official name and why."""
        base = mirror.rstrip("/") + "/"
        origins = [
            str((folder / name).resolve()) if folder is not None else urllib.parse.urljoin(base, name)
            for name in default.mirror_names
        ]
        problems: list[str] = []
        for origin in origins:
            if folder is not None and not os.path.isfile(origin):
                continue
            candidate = replace(entry, origin=origin)
            try:
                return candidate, self._fetch_valid(candidate)
            except ProvenanceError as exc:
                problems.append(exc.diagnostics())  # another name may hold a valid copy
        tried = " or ".join(default.mirror_names)
        why = f"no {tried} in {mirror}" if not problems else f"{problems[0]} (tried {tried})"
        return replace(entry, origin=origins[0]), why

    def load(self) -> LoadedTrust:
        """A :class:`TrustStore` of every source that has a valid copy. A
        source without one is left out (and named in ``problems``): a
        missing list can only make fewer signers trusted, never more."""
        sources: list[TrustSource] = []
        problems: list[str] = []
        for entry in self.entries():
            if not entry.copy:
                problems.append(
                    f"trust source {entry.name!r} has never been fetched ({entry.last_error or 'no copy'}); "
                    "run 'provenance trust update'"
                )
                continue
            path = self.path / "lists" / entry.copy
            try:
                sources.append(
                    TrustSource.from_bytes(
                        path.read_bytes(), kind=entry.kind, name=entry.name, origin=str(path), title=entry.title
                    )
                )
            except (OSError, UsageError) as exc:
                reason = exc.diagnostics() if isinstance(exc, UsageError) else exc.strerror
                problems.append(f"trust source {entry.name!r} is unusable ({reason}); run 'provenance trust update'")
        return LoadedTrust(TrustStore(tuple(sources)), tuple(problems))
