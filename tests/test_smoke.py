from pathlib import Path

from provenance.verify.report import Verdict
from provenance.verify.verifier import verify


def test_signed_clip_verifies_with_its_root(signed_clip: Path, trust) -> None:
    report = verify(signed_clip, trust=trust)
    assert report.verdict is Verdict.VERIFIED
    assert report.signer is not None and report.signer.common_name == "Jane Doe"
