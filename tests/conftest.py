"""Shared fixtures: real clips made with PyAV, a real PKI made with
cryptography, and the third-party corpus in ../shared when present."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from provenance.cli import cli
from provenance.identity.certificates import Subject
from provenance.identity.pki import DevPKI, init_dev_pki
from provenance.identity.signer import KeySigner
from provenance.media.video import make_sample_clip
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustStore
from tests.support.system import require

if TYPE_CHECKING:
    from tests.support.static_http import StaticSite
    from tests.support.tsa import TSAIdentity, TSAServer

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PROVENANCE_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The third-party C2PA corpus; tests that need it skip in a user's clone."""
    if not CORPUS.is_dir():
        require(False, f"the third-party corpus ({CORPUS})", hint="CI has ../shared; a user's clone does not")
    return CORPUS


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPKI:
    return init_dev_pki(
        tmp_path_factory.mktemp("pki"),
        subject=Subject("Jane Doe", "Example News", "US", email="jane@example.org"),
    )


@pytest.fixture(scope="session")
def signer(pki: DevPKI) -> KeySigner:
    return KeySigner.from_files(key=pki.signer_key, chain=pki.chain)


@pytest.fixture(scope="session")
def trust(pki: DevPKI) -> TrustStore:
    return TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.ANCHORS, name="dev root")


@pytest.fixture(scope="session")
def _clip_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {}


@pytest.fixture
def make_clip(
    tmp_path: Path, _clip_cache: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Path]:
    """``make_clip("mov")`` → a fresh copy of a real PyAV-encoded clip in tmp_path."""

    def factory(ext: str = "mp4", name: str | None = None) -> Path:
        if ext not in _clip_cache:
            _clip_cache[ext] = make_sample_clip(tmp_path_factory.mktemp("clips") / f"sample.{ext}", seconds=1.0)
        dst = tmp_path / (name or f"clip.{ext}")
        shutil.copyfile(_clip_cache[ext], dst)
        return dst

    return factory


@pytest.fixture
def signed_clip(make_clip: Callable[..., Path], signer: KeySigner, tmp_path: Path) -> Path:
    src = make_clip("mp4")
    return sign(src, tmp_path / "signed.mp4", signer=signer).output


@dataclass
class CLI:
    runner: CliRunner
    env: dict[str, str]

    def __call__(self, *args: str | Path, input: str | None = None) -> Result:
        return self.runner.invoke(cli, [str(a) for a in args], env=self.env, input=input, catch_exceptions=False)


@pytest.fixture
def run(pki: DevPKI, _isolated_trust_dir: Path) -> CLI:
    """Run the CLI in-process with the test PKI as the default keys dir and
    its root in the (isolated) trust store, as ``keys init`` leaves them."""
    from provenance.trust.assembly import register_development_root

    register_development_root(pki.root_cert, trust_dir=_isolated_trust_dir)
    return CLI(CliRunner(), {"PROVENANCE_KEYS_DIR": str(pki.directory), "COLUMNS": "200"})


# --- identity & trust: an isolated trust store, a real TSA, a real HTTP server


@pytest.fixture(autouse=True)
def _isolated_trust_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the user's real trust store (~/.config/provenance);
    kept out of tmp_path, whose contents some tests list."""
    path = tmp_path_factory.mktemp("trust-store")
    monkeypatch.setenv("PROVENANCE_TRUST_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def tsa_identity() -> TSAIdentity:
    from tests.support.tsa import TSAIdentity

    return TSAIdentity.create()


@pytest.fixture
def tsa(tsa_identity: TSAIdentity) -> Iterator[TSAServer]:
    """A real RFC 3161 time-stamp authority on 127.0.0.1; set
    ``tsa.authority.gen_time`` to move its clock."""
    from tests.support.tsa import serve_tsa

    with serve_tsa(tsa_identity) as server:
        yield server


@pytest.fixture
def http_site() -> Iterator[StaticSite]:
    """A real HTTP server on 127.0.0.1 serving what the test puts on it."""
    from tests.support.static_http import serve_static

    with serve_static() as site:
        yield site


@pytest.fixture(scope="session")
def trust_lists() -> Path:
    """../shared/trust: the official trust lists (skips where absent, like corpus)."""
    path = SHARED / "trust"
    if not path.is_dir():
        require(False, f"the trust lists ({path})", hint="CI has ../shared; a user's clone does not")
    return path
