"""The repository library on both backends: register, look up, idempotence,
and the errors of a repository that cannot be used."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.errors import ExitCode, RepositoryError, UsageError
from provenance.media.fingerprint import MATCH_THRESHOLD, Fingerprint
from provenance.repository import Repository, SignerInfo, open_repository
from provenance.repository.bands import BAND_BITS, BANDS, band_values
from tests.repository.conftest import perturbed
from tests.support.postgres import free_port

JANE = SignerInfo(
    name="Jane Doe", organization="Example News", issuer="Example News Root", signed_at="2026-11-30T12:00:00Z"
)


def test_band_values_cover_the_hash_in_order() -> None:
    digest = bytes(range(32))
    value = int.from_bytes(digest, "big")
    bands = band_values(digest)
    assert len(bands) == BANDS
    # Re-assembling the bands gives the top BANDS*BAND_BITS bits of the hash.
    joined = 0
    for b in bands:
        assert 0 <= b < 1 << BAND_BITS
        joined = (joined << BAND_BITS) | b
    assert joined == value >> (256 - BANDS * BAND_BITS)
    with pytest.raises(ValueError):
        band_values(b"\x00" * 31)


def test_register_then_lookup_round_trip(
    repo: Repository, synthetic: Callable[..., Fingerprint], rng: random.Random
) -> None:
    fp = synthetic()
    reg = repo.register(b"JUMBF-store-bytes", manifest_id="urn:c2pa:1111", signer=JANE, title="Harbour", fingerprint=fp)
    assert (reg.created, reg.fingerprinted, reg.hashes) == (True, True, 60)
    stored = repo.manifest("urn:c2pa:1111")
    assert stored is not None and stored.store == b"JUMBF-store-bytes"
    assert stored.signer == JANE and stored.title == "Harbour" and stored.algorithm == fp.algorithm
    assert repo.manifest("urn:c2pa:none") is None

    found = repo.lookup(fp)
    assert [c.manifest_id for c in found] == ["urn:c2pa:1111"]
    assert found[0].score == pytest.approx(1.0) and found[0].signer == JANE and found[0].title == "Harbour"
    assert found[0].similarity == 100
    assert found[0].end > found[0].start

    stats = repo.stats()
    assert (stats.manifests, stats.fingerprinted, stats.hashes) == (1, 1, 60)
    assert stats.bytes_stored == len(b"JUMBF-store-bytes") and stats.algorithms == (fp.algorithm,)


def test_registering_twice_is_idempotent(repo: Repository, synthetic: Callable[..., Fingerprint]) -> None:
    fp = synthetic()
    first = repo.register(b"store", manifest_id="urn:c2pa:a", signer=JANE, fingerprint=fp)
    again = repo.register(b"store", manifest_id="urn:c2pa:a", signer=JANE, fingerprint=fp)
    assert first.created and not again.created and again.fingerprinted and again.hashes == 60
    stats = repo.stats()
    assert (stats.manifests, stats.hashes) == (1, 60)  # no duplicate rows
    assert len(repo.lookup(fp)) == 1
    # The same label with other bytes is a conflict, not an overwrite.
    with pytest.raises(RepositoryError, match="another manifest store"):
        repo.register(b"forged", manifest_id="urn:c2pa:a", fingerprint=fp)
    stored = repo.manifest("urn:c2pa:a")
    assert stored is not None and stored.store == b"store"


def test_without_fingerprint_is_registered_and_says_why(
    repo: Repository, synthetic: Callable[..., Fingerprint]
) -> None:
    reg = repo.register(b"store", manifest_id="urn:c2pa:short", no_fingerprint="too short to fingerprint (1.0 s)")
    assert reg.created and not reg.fingerprinted and reg.reason == "too short to fingerprint (1.0 s)"
    again = repo.register(b"store", manifest_id="urn:c2pa:short")
    assert not again.created and not again.fingerprinted and again.reason == "too short to fingerprint (1.0 s)"
    assert repo.manifest("urn:c2pa:short") is not None
    stats = repo.stats()
    assert (stats.manifests, stats.fingerprinted, stats.hashes) == (1, 0, 0)
    # A later registration with a fingerprint completes it.
    fp = synthetic()
    done = repo.register(b"store", manifest_id="urn:c2pa:short", fingerprint=fp)
    assert done.fingerprinted and done.hashes == 60
    assert [c.manifest_id for c in repo.lookup(fp)] == ["urn:c2pa:short"]


def test_lookup_finds_the_right_clip_among_many(
    repo: Repository, synthetic: Callable[..., Fingerprint], rng: random.Random
) -> None:
    clips = {f"urn:c2pa:{i:04d}": synthetic() for i in range(300)}
    for label, fp in clips.items():
        repo.register(label.encode(), manifest_id=label, fingerprint=fp)
    for label in ("urn:c2pa:0000", "urn:c2pa:0137", "urn:c2pa:0299"):
        # a re-encoded excerpt: 15 s from second 20, 20 of 256 bits flipped in every hash
        query = perturbed(clips[label], rng, bits=20, start=20, seconds=15)
        found = repo.lookup(query)
        assert found and found[0].manifest_id == label, label
        assert found[0].score >= MATCH_THRESHOLD
        assert found[0].start == pytest.approx(20, abs=1) and found[0].end == pytest.approx(35, abs=1.5)
        assert all(c.manifest_id == label for c in found)  # no other clip scores as a match


def test_unrelated_content_matches_nothing(repo: Repository, synthetic: Callable[..., Fingerprint]) -> None:
    for i in range(50):
        repo.register(b"s%d" % i, manifest_id=f"urn:c2pa:{i}", fingerprint=synthetic())
    assert repo.lookup(synthetic()) == []
    assert repo.lookup(synthetic(12)) == []


def test_a_query_sharing_one_chance_band_is_not_a_match(
    repo: Repository, synthetic: Callable[..., Fingerprint], rng: random.Random
) -> None:
    original = synthetic()
    repo.register(b"s", manifest_id="urn:c2pa:orig", fingerprint=original)
    # One second copied exactly into otherwise unrelated content: a band hit,
    # but no aligned run of seconds, so it is not even scored.
    other = synthetic()
    mixed = Fingerprint(
        algorithm=other.algorithm, hashes=(original.hashes[5], *other.hashes[1:]), duration=other.duration
    )
    assert repo.lookup(mixed) == []


def test_lookup_limits_and_threshold(
    repo: Repository, synthetic: Callable[..., Fingerprint], rng: random.Random
) -> None:
    fp = synthetic()
    # the same content registered under three manifests (three signings)
    for i in range(3):
        repo.register(b"s%d" % i, manifest_id=f"urn:c2pa:copy{i}", fingerprint=fp)
    assert len(repo.lookup(fp)) == 3
    assert len(repo.lookup(fp, max_results=2)) == 2
    with pytest.raises(UsageError):
        repo.lookup(fp, max_results=0)
    noisy = perturbed(fp, rng, bits=20)
    best = repo.lookup(noisy)[0].score
    assert repo.lookup(noisy, threshold=best + 0.01) == []
    assert len(repo.lookup(noisy, threshold=best)) == 3


def test_reopened_repository_keeps_its_content(repo_location: str, synthetic: Callable[..., Fingerprint]) -> None:
    fp = synthetic()
    with open_repository(repo_location, create=True) as repo:
        repo.register(b"s", manifest_id="urn:c2pa:kept", fingerprint=fp)
    with open_repository(repo_location) as repo:
        assert [c.manifest_id for c in repo.lookup(fp)] == ["urn:c2pa:kept"]


def test_missing_repository_is_not_created_by_a_lookup(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    with pytest.raises(RepositoryError, match="no repository here") as info:
        open_repository(str(path))
    assert info.value.exit_code == ExitCode.REPOSITORY
    assert not path.exists()


def test_sqlite_repository_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    open_repository(str(path), create=True).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_location_is_the_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with open_repository(None, create=True) as repo:
        assert repo.location == str(tmp_path / "data" / "provenance" / "repository.sqlite")
    assert (tmp_path / "data" / "provenance" / "repository.sqlite").is_file()


@pytest.mark.parametrize("content", [b"this is not a database, only text\n" * 50, b""])
def test_a_file_that_is_not_a_repository_is_one_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(content)
    with pytest.raises(RepositoryError) as info:
        open_repository(str(path))
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert path.read_bytes() == content  # never modified


def test_corrupt_sqlite_repository_is_one_error_not_a_wrong_answer(
    tmp_path: Path, synthetic: Callable[..., Fingerprint]
) -> None:
    path = tmp_path / "r.sqlite"
    fp = synthetic()
    with open_repository(str(path), create=True) as repo:
        for i in range(40):
            repo.register(b"x" * 2000, manifest_id=f"urn:c2pa:{i}", fingerprint=synthetic() if i else fp)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 2, len(data), 4096):  # every page but the schema's
        data[offset + 8 : offset + 200] = b"\xff" * 192
    path.write_bytes(bytes(data))
    with pytest.raises(RepositoryError, match="corrupt|repository error") as info, open_repository(str(path)) as repo:
        repo.lookup(fp)
    assert "\n" not in info.value.diagnostics()


def test_sqlite_repository_of_another_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    open_repository(str(path), create=True).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE provenance_meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(RepositoryError, match="another version"):
        open_repository(str(path))


def test_unreachable_postgres_is_one_error_quickly() -> None:
    port = free_port()  # nothing listens there
    start = time.monotonic()
    with pytest.raises(RepositoryError, match="cannot reach the repository") as info:
        open_repository(f"postgresql://someone:s3cret@127.0.0.1:{port}/provenance")
    assert time.monotonic() - start < 10
    assert "s3cret" not in info.value.diagnostics()  # never the password
    assert "\n" not in info.value.diagnostics()


def test_unroutable_postgres_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    # 192.0.2.0/24 is TEST-NET-1: packets go nowhere, so only the connect
    # timeout ends the attempt.
    start = time.monotonic()
    with pytest.raises(RepositoryError, match="cannot reach"):
        open_repository("postgresql://u@192.0.2.1:5432/db?connect_timeout=1")
    assert time.monotonic() - start < 8


def test_postgres_database_without_repository_tables(postgres_url: str) -> None:
    with pytest.raises(RepositoryError, match="not a provenance repository"):
        open_repository(postgres_url)


def test_bad_locations_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="not a repository location"):
        open_repository("ftp://example.org/repo")
    with pytest.raises(RepositoryError, match="not a valid PostgreSQL URL"):
        open_repository("postgresql://u@h:notaport/db x=")


def test_bulk_import_rebuilds_the_band_indexes(repo: Repository, synthetic: Callable[..., Fingerprint]) -> None:
    fps = [synthetic() for _ in range(20)]
    with repo.bulk(), repo.batch():
        for i, fp in enumerate(fps):
            repo.register(b"s%d" % i, manifest_id=f"urn:c2pa:bulk{i}", fingerprint=fp)
    assert [c.manifest_id for c in repo.lookup(fps[7])] == ["urn:c2pa:bulk7"]
    assert _band_indexes(repo) == 12
    # an import that fails part-way rolls its batch back and still rebuilds them
    with pytest.raises(RepositoryError), repo.bulk(), repo.batch():
        repo.register(b"new", manifest_id="urn:c2pa:new", fingerprint=synthetic())
        repo.register(b"forged", manifest_id="urn:c2pa:bulk3", fingerprint=synthetic())
    assert repo.manifest("urn:c2pa:new") is None
    assert _band_indexes(repo) == 12


def _band_indexes(repo: Repository) -> int:
    conn = repo.backend.connection()
    if repo.backend.dialect == "sqlite":
        sql = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'hashes_b%'"
    else:
        sql = "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'hashes' AND indexname LIKE 'hashes_b%'"
    return int(conn.execute(sql).fetchone()[0])


def test_concurrent_registrations_of_one_manifest_store_it_once(
    repo_location: str, synthetic: Callable[..., Fingerprint]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fp = synthetic()
    with open_repository(repo_location, create=True) as repo:
        with ThreadPoolExecutor(4) as pool:  # one repository, a connection per thread
            results = list(
                pool.map(lambda _: repo.register(b"same", manifest_id="urn:c2pa:race", fingerprint=fp), range(8))
            )
        assert sum(r.created for r in results) == 1
        stats = repo.stats()
        assert (stats.manifests, stats.hashes) == (1, 60)
        with ThreadPoolExecutor(4) as pool:
            found = list(pool.map(lambda _: repo.lookup(fp), range(8)))
        assert all([c.manifest_id for c in f] == ["urn:c2pa:race"] for f in found)
