"""The chain in verify: create (creator) → trim (editor) → transcode
(platform), three identities issued by the test CA, every node verified,
the summary line, the JSON tree, and tampering with the final file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provenance.edit import transcode, trim
from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm, generate_key
from provenance.identity.certificates import Subject
from provenance.identity.keys import load_private_key
from provenance.identity.pki import DevPKI, init_dev_pki
from provenance.identity.signer import KeySigner
from provenance.media import boxes
from provenance.media.transcode import keyframe_times
from provenance.media.video import make_sample_clip
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustStore
from provenance.verification.report import Verdict
from provenance.verification.rules import parent_chain
from provenance.verification.verifier import verify


def issue(pki: DevPKI, subject: Subject) -> KeySigner:
    """A claim-signing identity issued by *pki*'s issuing CA."""
    issuing = certs.load_pem_chain(pki.issuing_cert.read_bytes())[0]
    issuing_key = load_private_key(pki.issuing_key)
    key = generate_key(SigningAlgorithm.ES256)
    leaf = certs.claim_signing_leaf(subject, key.public_key(), issuing, issuing_key)
    return KeySigner(key, chain=[leaf, issuing])


@pytest.fixture(scope="module")
def identities(pki: DevPKI) -> dict[str, KeySigner]:
    return {
        "creator": issue(pki, Subject("Jane Doe", "Example News", "US")),
        "editor": issue(pki, Subject("Ed Editor", "Example Studio", "US")),
        "platform": issue(pki, Subject("Example Platform", "Example Platform Inc", "US")),
    }


@pytest.fixture(scope="module")
def three_step(tmp_path_factory: pytest.TempPathFactory, identities: dict[str, KeySigner], trust: TrustStore) -> Path:
    work = tmp_path_factory.mktemp("chain")
    clip = make_sample_clip(work / "clip.mp4", seconds=3.0, width=160, height=120)
    created = sign(clip, work / "created.mp4", signer=identities["creator"], title="Harbour at dawn").output
    keyframes = keyframe_times(created)
    trimmed = trim(
        created, work / "trimmed.mp4", signer=identities["editor"], trust=trust, start=keyframes[1], end=keyframes[2]
    ).output
    return transcode(trimmed, work / "final.mp4", signer=identities["platform"], trust=trust, height=96, crf=30).output


def test_every_node_of_the_three_step_chain_verifies(three_step: Path, trust: TrustStore) -> None:
    report = verify(three_step, trust=trust)
    assert report.verdict is Verdict.VERIFIED
    assert report.signer is not None and report.signer.common_name == "Example Platform"
    assert [a.action for a in report.actions] == ["c2pa.opened", "c2pa.transcoded", "c2pa.resized"]
    resized = report.actions[2].parameters
    assert resized == {"from": "160x120", "to": "128x96"}
    assert report.actions[1].parameters["crf"] == 30

    line = parent_chain(report.ingredients)
    assert [n.signer.common_name for n in line if n.signer] == ["Ed Editor", "Jane Doe"]
    assert all(n.verdict is Verdict.VERIFIED for n in line)
    editor, creator = line
    assert [a.action for a in editor.actions] == ["c2pa.opened", "c2pa.edited"]
    assert 0 < editor.actions[1].parameters["start"] < editor.actions[1].parameters["end"] < 3.0
    assert editor.actions[1].parameters["method"] == "stream copy"
    assert creator.digital_source_type and creator.digital_source_type.endswith("digitalCapture")
    assert creator.title == "created.mp4" and editor.title == "trimmed.mp4"
    assert report.digital_source_type and report.digital_source_type.endswith("digitalCapture")

    assert report.chain_summary == "signed by Example Platform (trusted); original by Jane Doe (trusted)"
    assert report.chain_verdict is Verdict.VERIFIED


def test_json_carries_the_same_tree(three_step: Path, trust: TrustStore) -> None:
    data = json.loads(json.dumps(verify(three_step, trust=trust).to_dict()))
    assert data["chain_summary"].startswith("signed by Example Platform")
    assert data["chain_verdict"] == "verified"
    editor = data["ingredients"][0]
    creator = editor["ingredients"][0]
    assert (editor["signer"]["common_name"], editor["relationship"], editor["verdict"]) == (
        "Ed Editor",
        "parentOf",
        "verified",
    )
    assert (creator["signer"]["common_name"], creator["verdict"]) == ("Jane Doe", "verified")
    assert creator["ingredients"] == []
    assert creator["actions"][0]["action"] == "c2pa.created"


def test_tampering_with_the_final_file_is_detected(three_step: Path, trust: TrustStore, tmp_path: Path) -> None:
    tampered = tmp_path / "final.tampered.mp4"
    shutil.copyfile(three_step, tampered)
    boxes.flip_media_byte(tampered, at=32)
    report = verify(tampered, trust=trust)
    assert report.verdict is Verdict.TAMPERED
    assert any(s.code == "assertion.bmffHash.mismatch" for s in report.failures)


def test_card_shows_the_chain_newest_first(three_step: Path, run) -> None:
    result = run("verify", three_step)
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "Chain" in out and "signed by Example Platform (trusted); original by Jane Doe (trusted)" in out
    assert out.index("trimmed.mp4") < out.index("created.mp4")  # newest first
    assert "transcoded (" in out and "resized (" in out and "to=128x96" in out
    assert "camera capture" in out


def test_untrusted_original_is_summarised_at_the_top(
    tmp_path: Path, identities: dict[str, KeySigner], trust: TrustStore
) -> None:
    # The creator's certificate comes from a CA the verifier does not trust.
    other = init_dev_pki(tmp_path / "other-pki", subject=Subject("Jane Doe", "Elsewhere", "US"))
    outsider = KeySigner.from_files(key=other.signer_key, chain=other.chain)
    clip = make_sample_clip(tmp_path / "clip.mp4", seconds=1.0, width=96, height=64, audio=False)
    created = sign(clip, tmp_path / "created.mp4", signer=outsider).output
    final = transcode(created, tmp_path / "final.mp4", signer=identities["platform"], trust=trust).output
    report = verify(final, trust=trust)
    assert report.verdict is Verdict.VERIFIED  # the active manifest decides
    assert report.chain_verdict is Verdict.UNTRUSTED
    assert report.chain_summary == "signed by Example Platform (trusted); original by Jane Doe (untrusted signer)"


def test_the_verifiers_trust_judges_ancestors_not_the_editors(
    tmp_path: Path, identities: dict[str, KeySigner], pki: DevPKI
) -> None:
    # The editor trusted the creator when editing; a verifier with no anchors does not.
    clip = make_sample_clip(tmp_path / "clip.mp4", seconds=1.0, width=96, height=64, audio=False)
    created = sign(clip, tmp_path / "created.mp4", signer=identities["creator"]).output
    editor_trust = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.ANCHORS)
    final = transcode(created, tmp_path / "final.mp4", signer=identities["editor"], trust=editor_trust).output
    report = verify(final, trust=TrustStore())
    assert report.verdict is Verdict.UNTRUSTED
    assert report.ingredients[0].verdict is Verdict.UNTRUSTED


def test_corpus_video1_shows_its_one_ingredient(corpus: Path, run) -> None:
    anchors = corpus / "certs" / "c2pa-test-root-bundle.pem"
    trust = TrustStore().with_pem_file(anchors, kind=SourceKind.ANCHORS)
    report = verify(corpus / "signed" / "video1.mp4", trust=trust)
    assert report.verdict is Verdict.VERIFIED
    assert len(report.ingredients) == 1
    node = report.ingredients[0]
    assert node.relationship == "parentOf" and node.title == "video1.mp4"
    assert node.verdict is Verdict.UNTRUSTED
    assert report.chain_summary is not None and "(untrusted signer)" in report.chain_summary
    assert report.chain_verdict is Verdict.UNTRUSTED

    shown = run("show", corpus / "signed" / "video1.mp4", "--trust", anchors)
    assert shown.exit_code == 0, shown.output
    out = flat(shown.output)
    assert "[0] My Title" in out and "[1] video1.mp4 [parentOf]" in out
    assert "chain: signed by" in out


def flat(text: str) -> str:
    """CLI output as one line: the card wraps at the terminal's width."""
    return " ".join(text.replace("│", " ").split())


def test_an_identity_policy_names_the_active_signer_in_the_chain_line(three_step: Path, trust: TrustStore, run) -> None:
    from provenance.verification.policy import ExpectOrganization

    assert (
        verify(three_step, trust=trust, policy=ExpectOrganization("Example Platform Inc")).verdict is Verdict.VERIFIED
    )
    report = verify(three_step, trust=trust, policy=ExpectOrganization("Example News"))
    assert report.verdict is Verdict.WRONG_SIGNER and report.chain_verdict is Verdict.VERIFIED
    assert report.chain_summary is not None
    assert report.chain_summary.startswith(
        "signed by Example Platform (trusted, but not the expected signer); original by Jane Doe"
    )
    result = run("verify", three_step, "--expect-org", "Example News", "--json")
    assert result.exit_code == 7 and json.loads(result.output)["chain_summary"] == report.chain_summary
