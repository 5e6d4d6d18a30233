"""Fixtures of the repository tests: a repository on each backend (an SQLite
file, and a fresh database on a real PostgreSQL server the tests start),
and synthetic fingerprints (random 256-bit hashes, one a second)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provenance.media.fingerprint import Fingerprint
from provenance.repository import Repository, open_repository
from tests.support.postgres import postgres_server, postgres_url  # noqa: F401 - fixtures

ALG = "org.example.synthetic.1"


@pytest.fixture(params=["sqlite", "postgresql"])
def repo_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "repo" / "repository.sqlite")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def repo(repo_location: str) -> Iterator[Repository]:
    with open_repository(repo_location, create=True) as repository:
        yield repository


def random_fingerprint(rng: random.Random, seconds: int = 60) -> Fingerprint:
    return Fingerprint(
        algorithm=ALG, hashes=tuple((float(t), rng.randbytes(32)) for t in range(seconds)), duration=float(seconds)
    )


def perturbed(
    fp: Fingerprint, rng: random.Random, *, bits: int, start: int = 0, seconds: int | None = None
) -> Fingerprint:
    """An excerpt of *fp* from second *start*, times restarting at 0 (a cut
    copy), with *bits* random bits flipped in every hash (a re-encode)."""
    out = []
    chosen = fp.hashes[start : start + seconds if seconds else None]
    for i, (_, digest) in enumerate(chosen):
        value = int.from_bytes(digest, "big")
        for bit in rng.sample(range(256), bits):
            value ^= 1 << bit
        out.append((float(i), value.to_bytes(32, "big")))
    return Fingerprint(algorithm=fp.algorithm, hashes=tuple(out), duration=float(len(out)))


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20261130)


@pytest.fixture
def synthetic(rng: random.Random) -> Callable[..., Fingerprint]:
    return lambda seconds=60: random_fingerprint(rng, seconds)
