"""The manifest repository: signed clips' manifest stores with their
per-second fingerprints, and the lookup "which signed clips does this
content match?". One code path over SQLite or PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.errors import ProvenanceError, RepositoryError, UsageError
from provenance.repository.backends import Backend, PostgresBackend, SqliteBackend
from provenance.repository.bands import HASH_BYTES, band_values
from provenance.repository.records import (
    Candidate,
    Registration,
    RepositoryStats,
    SignerInfo,
    StoredManifest,
)
from provenance.repository.schema import BAND_COLUMNS, META, index_statements, statements

if TYPE_CHECKING:
    from provenance.media.fingerprint import Fingerprint

DEFAULT_MAX_RESULTS = 10
MAX_QUERY_HASHES = 120  # a longer query is sampled evenly: its bands already find the clip
MAX_SCORED = 16  # candidates scored with compare(), most band votes first


def default_repository_path() -> Path:
    """The embedded repository: a file in the user data dir."""
    import platformdirs

    return platformdirs.user_data_path("provenance") / "repository.sqlite"


def open_repository(url_or_path: str | Path | None = None, *, create: bool = False) -> Repository:
    """The repository at *url_or_path*: a ``postgresql://`` URL, an SQLite
    file path, or ``None`` for the default file. With *create*, a missing
    file or schema is created; without it, a missing repository is a
    :class:`RepositoryError` (a lookup never creates one)."""
    if url_or_path is None:
        backend: Backend = SqliteBackend(default_repository_path(), create=create)
    else:
        text = str(url_or_path)
        scheme = text.split("://", 1)[0].lower() if "://" in text else ""
        if scheme in ("postgresql", "postgres"):
            backend = PostgresBackend(text)
        elif scheme == "sqlite":
            backend = SqliteBackend(Path(text.split("://", 1)[1]), create=create)
        elif scheme:
            raise UsageError(
                f"{scheme}:// is not a repository location", hint="give a file path (SQLite) or a postgresql:// URL"
            )
        else:
            backend = SqliteBackend(Path(text).expanduser(), create=create)
    repo = Repository(backend)
    try:
        repo._prepare(create=create)
    except BaseException:
        repo.close()
        raise
    return repo


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class _Votes:
    """Band hits of one registered clip, grouped by time offset: a real
    match hits many query seconds at one offset; chance hits scatter."""

    by_offset: dict[int, set[int]]

    def best(self) -> int:
        return max(
            len(self.by_offset.get(o - 1, set()) | qs | self.by_offset.get(o + 1, set()))
            for o, qs in self.by_offset.items()
        )


_NO_SIGNER = SignerInfo()  # frozen: one shared default


class Repository:
    """Register manifest stores and look up content; see :func:`open_repository`."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._batch: Any = None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Register many clips in one transaction (an import, a benchmark):
        all of them, or none when an error ends the block. One thread."""
        with self.backend.transaction() as conn:
            self._batch = conn
            try:
                yield
            finally:
                self._batch = None

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Import many clips: the band indexes are dropped now and built
        again (sorted, much faster than growing them row by row) when the
        block ends, also on error. Lookups meanwhile read whole tables."""
        with self.backend.transaction() as conn:
            for column in BAND_COLUMNS:
                conn.execute(f"DROP INDEX IF EXISTS hashes_{column}")
        try:
            yield
        finally:
            with self.backend.transaction() as conn:
                for statement in index_statements():
                    conn.execute(statement)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Any]:
        if self._batch is not None:
            with self.backend.errors():
                yield self._batch
            return
        with self.backend.transaction() as conn:
            yield conn

    # -- lifecycle

    @property
    def location(self) -> str:
        return self.backend.location

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, statement: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self.backend.connection()
        with self.backend.errors():
            return list(conn.execute(self.backend.sql(statement), tuple(params)).fetchall())

    def _prepare(self, *, create: bool) -> None:
        meta = self._meta()
        if meta is None:
            if not create:
                raise RepositoryError(
                    f"{self.location}: not a provenance repository (no repository tables)",
                    hint="create it first (open it with create=True)",
                    reason="not_a_repository",
                )
            with self.backend.transaction() as conn:
                for statement in statements(self.backend.dialect):
                    conn.execute(statement)
                for key, value in META.items():
                    conn.execute(
                        self.backend.sql(
                            "INSERT INTO provenance_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
                        ),
                        (key, value),
                    )
            meta = self._meta() or {}
        wrong = {k: v for k, v in META.items() if meta.get(k) != v}
        if wrong:
            found = ", ".join(f"{k}={meta.get(k)}" for k in wrong)
            raise RepositoryError(
                f"{self.location}: a repository of another version ({found})",
                hint="use the provenance version that wrote it, or a new repository",
            )

    def _meta(self) -> dict[str, str] | None:
        conn = self.backend.connection()
        with self.backend.errors():
            if self.backend.dialect == "sqlite":
                exists = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'provenance_meta'"
                ).fetchone()
            else:
                exists = conn.execute("SELECT to_regclass('provenance_meta')").fetchone()
                exists = exists if exists and exists[0] is not None else None
            if not exists:
                return None
            return {k: v for k, v in conn.execute("SELECT key, value FROM provenance_meta").fetchall()}

    # -- registering

    def register(
        self,
        store: bytes,
        *,
        manifest_id: str,
        signer: SignerInfo = _NO_SIGNER,
        title: str | None = None,
        fingerprint: Fingerprint | None = None,
        no_fingerprint: str | None = None,
    ) -> Registration:
        """Store the manifest store *store* (raw JUMBF bytes) under its active
        manifest label *manifest_id*, with the clip's *fingerprint* (or
        without one, for *no_fingerprint*: why). Registering the same manifest
        again changes nothing (it adds a fingerprint a first registration
        lacked); the same label with other bytes is refused."""
        if not isinstance(store, bytes) or not store:
            raise UsageError("the manifest store to register is empty", hint="register a signed clip's manifest store")
        if not manifest_id:
            raise UsageError("a manifest store is registered under its active manifest label; none was given")
        rows = _hash_rows(fingerprint) if fingerprint is not None else []
        seconds = len(fingerprint.hashes) if fingerprint is not None else 0
        digest = hashlib.sha256(store).hexdigest()
        blob = fingerprint.to_bytes() if fingerprint is not None else None
        algorithm = fingerprint.algorithm if fingerprint is not None else None
        duration = fingerprint.duration if fingerprint is not None else None
        reason = None if fingerprint is not None else (no_fingerprint or "no fingerprint was given")
        with self._writing() as conn:
            q = self.backend.sql
            inserted = conn.execute(
                q(
                    "INSERT INTO manifests (manifest_id, store, store_sha256, signer, organization, issuer, signed_at, "
                    "title, algorithm, fingerprint, duration, no_fingerprint, registered_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (manifest_id) DO NOTHING RETURNING id"
                ),
                (
                    manifest_id,
                    store,
                    digest,
                    signer.name,
                    signer.organization,
                    signer.issuer,
                    signer.signed_at,
                    title,
                    algorithm,
                    blob,
                    duration,
                    reason,
                    _now(),
                ),
            ).fetchone()
            if inserted is not None:
                self.backend.insert_hashes(conn, [(inserted[0], *r) for r in rows])
                return Registration(manifest_id, created=True, fingerprinted=bool(rows), hashes=seconds, reason=reason)
            key, existing_digest, has_fp, old_reason = conn.execute(
                q(
                    "SELECT id, store_sha256, fingerprint IS NOT NULL, no_fingerprint FROM manifests "
                    "WHERE manifest_id = ?"
                ),
                (manifest_id,),
            ).fetchone()
            if existing_digest != digest:
                raise RepositoryError(
                    f"{manifest_id} is registered already with another manifest store",
                    hint="a manifest label names one manifest store; this one conflicts",
                )
            if not has_fp and rows:
                conn.execute(
                    q(
                        "UPDATE manifests SET algorithm = ?, fingerprint = ?, duration = ?, "
                        "no_fingerprint = NULL WHERE id = ?"
                    ),
                    (algorithm, blob, duration, key),
                )
                self.backend.insert_hashes(conn, [(key, *r) for r in rows])
                return Registration(manifest_id, created=False, fingerprinted=True, hashes=seconds)
            hashes = conn.execute(q("SELECT COUNT(DISTINCT at_ms) FROM hashes WHERE manifest = ?"), (key,)).fetchone()[
                0
            ]
            return Registration(
                manifest_id,
                created=False,
                fingerprinted=bool(has_fp),
                hashes=int(hashes),
                reason=None if has_fp else old_reason,
            )

    def analyze(self) -> None:
        """After a bulk import: refresh the planner's statistics, and let
        lookups read the indexes alone (PostgreSQL: VACUUM sets the
        visibility map index-only scans need; SQLite: the WAL is folded
        into the file)."""
        conn = self.backend.connection()
        with self.backend.errors():
            if self.backend.dialect == "postgresql":
                conn.execute("VACUUM ANALYZE")
            else:
                conn.execute("ANALYZE")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- reading

    def manifest(self, manifest_id: str) -> StoredManifest | None:
        """The registered manifest store *manifest_id*, or None."""
        rows = self._rows(
            "SELECT manifest_id, store, signer, organization, issuer, signed_at, title, algorithm, "
            "registered_at FROM manifests WHERE manifest_id = ?",
            (manifest_id,),
        )
        if not rows:
            return None
        mid, store, name, org, issuer, signed_at, title, algorithm, registered_at = rows[0]
        return StoredManifest(
            mid, bytes(store), SignerInfo(name, org, issuer, signed_at), title, algorithm, registered_at
        )

    def algorithms(self) -> tuple[str, ...]:
        """The fingerprint algorithms of the registered clips."""
        rows = self._rows("SELECT DISTINCT algorithm FROM manifests WHERE algorithm IS NOT NULL ORDER BY algorithm")
        return tuple(r[0] for r in rows)

    def stats(self) -> RepositoryStats:
        ((manifests, fingerprinted, size),) = self._rows(
            "SELECT COUNT(*), COUNT(fingerprint), COALESCE(SUM(LENGTH(store)), 0) FROM manifests"
        )
        ((hashes,),) = self._rows("SELECT COUNT(*) FROM hashes")
        return RepositoryStats(
            location=self.location,
            backend=self.backend.dialect,
            manifests=int(manifests),
            fingerprinted=int(fingerprinted),
            hashes=int(hashes),
            bytes_stored=int(size),
            algorithms=self.algorithms(),
        )

    # -- lookup

    def lookup(
        self, query: Fingerprint, *, max_results: int = DEFAULT_MAX_RESULTS, threshold: float | None = None
    ) -> list[Candidate]:
        """The registered clips whose content *query* matches, best first:
        candidates from the band index (sub-linear in the number of clips),
        each scored with the fingerprint's ``compare``; those at or above
        *threshold* (default: the fingerprint's ``MATCH_THRESHOLD``)."""
        from provenance.media import fingerprint as fp

        limit = fp.MATCH_THRESHOLD if threshold is None else threshold
        if max_results < 1:
            raise UsageError("max_results must be at least 1")
        sample = _sample(query.hashes, MAX_QUERY_HASHES)
        if not sample:
            return []
        votes = self._band_votes(sample)
        need = 2 if len(sample) >= 3 else 1
        ranked = sorted(((v.best(), key) for key, v in votes.items()), reverse=True)
        keys = [key for n, key in ranked[:MAX_SCORED] if n >= need]
        if not keys:
            return []
        marks = ", ".join("?" for _ in keys)
        rows = self._rows(
            "SELECT id, manifest_id, fingerprint, signer, organization, issuer, signed_at, title "
            f"FROM manifests WHERE id IN ({marks}) AND fingerprint IS NOT NULL",
            keys,
        )
        found: list[Candidate] = []
        for _, mid, blob, name, org, issuer, signed_at, title in rows:
            try:
                registered = fp.Fingerprint.from_bytes(bytes(blob))
                match = fp.compare(query, registered)
            except (ProvenanceError, ValueError, IndexError, TypeError) as exc:
                raise RepositoryError(
                    f"{self.location}: the fingerprint of {mid} is unreadable ({exc})",
                    hint="the repository is damaged; register the clip again",
                ) from None
            if match.score >= limit:
                found.append(
                    Candidate(
                        mid,
                        float(match.score),
                        float(match.start),
                        float(match.end),
                        SignerInfo(name, org, issuer, signed_at),
                        title,
                    )
                )
        found.sort(key=lambda c: (-c.score, c.manifest_id))
        return found[:max_results]

    def _band_votes(self, sample: list[tuple[int, float, bytes]]) -> dict[int, _Votes]:
        wanted: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
        for index, at, digest in sample:
            for band, value in enumerate(band_values(digest)):
                wanted[(band, value)].append((index, at))
        parts: list[str] = []
        params: list[int] = []
        for band, column in enumerate(BAND_COLUMNS):
            values = sorted({v for (b, v) in wanted if b == band})
            parts.append(
                f"SELECT manifest, at_ms, {band}, {column} FROM hashes "
                f"WHERE {column} IN ({', '.join('?' for _ in values)})"
            )
            params.extend(values)
        votes: dict[int, _Votes] = {}
        for manifest, at_ms, band, value in self._rows(" UNION ALL ".join(parts), params):
            for index, at in wanted[(band, value)]:
                offset = round(at_ms / 1000 - at)
                votes.setdefault(manifest, _Votes(defaultdict(set))).by_offset[offset].add(index)
        return votes


def _sample(hashes: tuple[tuple[float, bytes], ...], limit: int) -> list[tuple[int, float, bytes]]:
    indexed = [(i, float(t), bytes(h)) for i, (t, h) in enumerate(hashes) if len(h) == HASH_BYTES]
    if len(indexed) <= limit:
        return indexed
    step = len(indexed) / limit
    return [indexed[int(k * step)] for k in range(limit)]


def _hash_rows(fingerprint: Fingerprint) -> list[tuple[int, ...]]:
    """Index rows: each per-second hash, and its zoom hash (the frame's
    centre, what a cropped copy shows) where the fingerprint has them."""
    rows: list[tuple[int, ...]] = []
    zoom = getattr(fingerprint, "zoom_hashes", ()) or ()
    for i, (at, digest) in enumerate(fingerprint.hashes):
        for h in (digest, zoom[i]) if i < len(zoom) else (digest,):
            try:
                bands = band_values(bytes(h))
            except ValueError as exc:
                raise UsageError(f"cannot register this fingerprint: {exc}") from None
            rows.append((round(float(at) * 1000), *bands))
    return rows
