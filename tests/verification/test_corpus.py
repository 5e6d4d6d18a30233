"""Files written by other C2PA implementations get the verdict their README
implies (../shared/corpus/README.md)."""

from pathlib import Path

import pytest

from provenance.trust.store import SourceKind, TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.conftest import sha256


@pytest.fixture(scope="module")
def test_roots(corpus: Path) -> TrustStore:
    return TrustStore().with_pem_file(
        corpus / "certs/c2pa-test-root-bundle.pem", kind=SourceKind.ANCHORS, name="c2pa test roots"
    )


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("signed/video1.mp4", Verdict.UNTRUSTED),
        ("signed/legacy.mp4", Verdict.UNTRUSTED),
        ("signed/100kb-signed-mismatch.mp4", Verdict.TAMPERED),
        ("unsigned/video1_no_manifest.mp4", Verdict.NO_CREDENTIALS),
        ("unsigned/c.mov", Verdict.NO_CREDENTIALS),
        ("unsigned/test.avi", Verdict.NO_CREDENTIALS),
        ("fragmented/dashinit.mp4", Verdict.TAMPERED),  # init segment alone: its media is elsewhere
        ("malformed/nested_moov_1000.mp4", Verdict.ERROR),
    ],
)
def test_corpus_verdicts_without_anchors(corpus: Path, name: str, verdict: Verdict) -> None:
    path = corpus / name
    before = sha256(path)
    report = verify(path)
    assert report.verdict is verdict, (report.failures, report.error)
    assert sha256(path) == before


def test_video1_trusted_with_its_root_and_ingredient_untrusted(corpus: Path, test_roots: TrustStore) -> None:
    report = verify(corpus / "signed/video1.mp4", trust=test_roots)
    assert report.verdict is Verdict.VERIFIED
    assert report.signer.common_name == "C2PA Signer" and report.signer.trusted_by == "c2pa test roots"
    # A DigiCert time-stamp; c2pa-rs accepts it (legacy claim), but no tsa
    # source vouches for DigiCert's TSA here, so it is not a *trusted* time.
    assert report.signed_at.startswith("2023-12-02")
    assert report.timestamp is not None and report.timestamp.authority.startswith("DigiCert Timestamp 2023")
    assert report.timestamped is False and report.time_source.value == "untrusted_timestamp"
    [parent] = report.ingredients
    assert parent.relationship == "parentOf" and parent.verdict is Verdict.UNTRUSTED
    assert parent.signer.common_name == "Bob"


def test_legacy_file_untrusted_even_with_test_roots(corpus: Path, test_roots: TrustStore) -> None:
    report = verify(corpus / "signed/legacy.mp4", trust=test_roots)
    assert report.verdict is Verdict.UNTRUSTED
    assert all(i.verdict is Verdict.UNTRUSTED for i in report.ingredients)


def test_stripped_file_says_credentials_were_stripped(corpus: Path) -> None:
    report = verify(corpus / "unsigned/video1_no_manifest.mp4")
    assert report.notes and "stripped" in report.notes[0]


def test_nested_moov_is_a_clear_error(corpus: Path) -> None:
    report = verify(corpus / "malformed/nested_moov_1000.mp4")
    assert "nested" in report.error and "\n" not in report.error
