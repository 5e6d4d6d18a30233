"""The two places a repository lives: an SQLite file (embedded, the
default) and a PostgreSQL server (a ``postgresql://`` URL). Both run the
same SQL (written with ``?`` placeholders); a backend supplies connections
(one per thread), transactions, bulk inserts and the translation of its
driver's errors into one-line :class:`RepositoryError`\\ s."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from provenance.errors import RepositoryError
from provenance.repository.schema import HASH_COLUMNS

CONNECT_TIMEOUT = 5  # seconds; an unreachable server is an error, not a hang


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


class Backend:
    """Per-thread connections to one repository."""

    dialect = ""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    location = ""

    def connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self.errors():
                conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()

    def sql(self, statement: str) -> str:
        return statement

    def _connect(self) -> Any:
        raise NotImplementedError

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        raise NotImplementedError
        yield

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def insert_hashes(self, conn: Any, rows: Iterable[Sequence[int]]) -> None:
        raise NotImplementedError


class SqliteBackend(Backend):
    dialect = "sqlite"

    def __init__(self, path: Path, *, create: bool) -> None:
        super().__init__()
        self.path = path
        self.location = str(path)
        self.create = create
        if path.is_dir():
            raise RepositoryError(f"{path}: is a folder, not a repository file", hint="give the repository file's path")
        if not path.exists():
            if not create:
                raise RepositoryError(
                    f"{path}: no repository here",
                    hint="create it first (open it with create=True), or register a clip",
                    reason="no_repository",
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RepositoryError(
                    f"{path.parent}: cannot create the repository folder ({exc.strerror})",
                    hint="check the path and permissions",
                ) from None

    def _connect(self) -> sqlite3.Connection:
        # Autocommit; writes take BEGIN IMMEDIATE (see transaction).
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        if self.create:  # WAL is recorded in the file; a lookup never writes to what it opens
            conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
        conn.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; WAL keeps it consistent
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: the band indexes' upper pages stay in memory
        conn.execute("PRAGMA mmap_size=1073741824")  # lookups read the indexes without copying
        return conn

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            detail = _first_line(exc)
            if "not a database" in detail:
                raise RepositoryError(
                    f"{self.path}: not a provenance repository (not an SQLite database)",
                    hint="give the repository file, or another path for a new one",
                ) from None
            if "malformed" in detail or isinstance(exc, sqlite3.DatabaseError) and "corrupt" in detail:
                raise RepositoryError(
                    f"{self.path}: the repository is corrupt ({detail})", hint="restore it from a backup"
                ) from None
            raise RepositoryError(
                f"{self.path}: repository error ({detail})", hint="check the file, its permissions and the free space"
            ) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.connection()
        with self.errors():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def insert_hashes(self, conn: sqlite3.Connection, rows: Iterable[Sequence[int]]) -> None:
        marks = ", ".join("?" for _ in HASH_COLUMNS)
        conn.executemany(f"INSERT INTO hashes ({', '.join(HASH_COLUMNS)}) VALUES ({marks})", rows)


class PostgresBackend(Backend):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg.conninfo

        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise RepositoryError(
                f"not a valid PostgreSQL URL ({_first_line(exc)})",
                hint="use postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME",
            ) from None
        self.url = url
        self.params = params
        user = f"{params['user']}@" if params.get("user") else ""
        port = f":{params['port']}" if params.get("port") else ""
        # Shown in messages and stats: never the password.
        self.location = f"postgresql://{user}{params.get('host', 'localhost')}{port}/{params.get('dbname', '')}"

    def _connect(self) -> Any:
        import psycopg

        # No server-side prepared statements: a generic plan of the band
        # query (values unknown) would scan whole tables.
        extra: dict[str, Any] = {"application_name": "provenance", "prepare_threshold": None}
        if "connect_timeout" not in self.params:
            extra["connect_timeout"] = CONNECT_TIMEOUT
        try:
            return psycopg.connect(self.url, autocommit=True, **extra)
        except psycopg.OperationalError as exc:
            raise RepositoryError(
                f"cannot reach the repository at {self.location} ({_first_line(exc)})",
                hint="check the URL, that the server runs, and the credentials",
                reason="repository_unreachable",
            ) from None

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.OperationalError as exc:
            self._forget()
            raise RepositoryError(
                f"{self.location}: the repository connection failed ({_first_line(exc)})",
                hint="check that the server runs; then retry",
                reason="repository_unreachable",
            ) from None
        except psycopg.Error as exc:
            raise RepositoryError(
                f"{self.location}: repository error ({_first_line(exc)})", hint="check the database and its permissions"
            ) from None

    def _forget(self) -> None:
        """Drop this thread's broken connection; the next call reconnects."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        conn = self.connection()
        with self.errors(), conn.transaction():
            yield conn

    def insert_hashes(self, conn: Any, rows: Iterable[Sequence[int]]) -> None:
        with conn.cursor().copy(f"COPY hashes ({', '.join(HASH_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
