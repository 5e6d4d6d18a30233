import json
import shutil
from pathlib import Path

import pytest

from provenance.identity.certificates import Subject
from provenance.identity.pki import init_dev_pki
from provenance.media import boxes
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustStore
from provenance.verification.report import SCHEMA, Verdict
from provenance.verification.verifier import verify


def test_verified_names_signer_issuer_and_vouching_source(signed_clip: Path, trust) -> None:
    report = verify(signed_clip, trust=trust)
    assert report.verdict is Verdict.VERIFIED and report.exit_code == 0
    assert report.signer.common_name == "Jane Doe"
    assert report.signer.organization == "Example News"
    assert report.signer.issuer == "Example News Dev Issuing CA"
    assert report.signer.trusted_by == "dev root"
    assert report.signer.email == "jane@example.org"
    assert report.failures == ()


def test_untrusted_when_another_root_is_the_anchor(signed_clip: Path, tmp_path: Path) -> None:
    stranger = init_dev_pki(tmp_path / "other", subject=Subject("Other", "Other Org", "FR"))
    report = verify(signed_clip, trust=TrustStore().with_pem_file(stranger.root_cert, kind=SourceKind.ANCHORS))
    assert report.verdict is Verdict.UNTRUSTED and report.exit_code == 3
    assert [s.code for s in report.failures] == ["signingCredential.untrusted"]
    assert report.signer.trusted_by is None and report.signer.common_name == "Jane Doe"
    assert verify(signed_clip).verdict is Verdict.UNTRUSTED  # no trust at all


def test_pinned_end_entity_certificate_is_trusted(signed_clip: Path, pki) -> None:
    store = TrustStore().with_pem_file(pki.signer_cert, kind=SourceKind.ALLOWED, name="newsroom pins")
    report = verify(signed_clip, trust=store)
    assert report.verdict is Verdict.VERIFIED
    assert report.signer.trusted_by == "newsroom pins (pinned)"


def test_flipped_media_byte_is_tampered(signed_clip: Path, trust) -> None:
    boxes.flip_media_byte(signed_clip, at=100)
    report = verify(signed_clip, trust=trust)
    assert report.verdict is Verdict.TAMPERED and report.exit_code == 1
    assert "assertion.bmffHash.mismatch" in [s.code for s in report.failures]


def test_altered_manifest_is_tampered(signed_clip: Path, trust) -> None:
    data = bytearray(signed_clip.read_bytes())
    at = data.index(b"Jane Doe", data.index(b"cawg.metadata"))
    data[at] = ord("X")
    signed_clip.write_bytes(bytes(data))
    report = verify(signed_clip, trust=trust)
    assert report.verdict is Verdict.TAMPERED
    assert "assertion.hashedURI.mismatch" in [s.code for s in report.failures]


@pytest.mark.parametrize("ext", ["mp4", "avi"])
def test_tampered_avi_and_mp4(ext: str, make_clip, signer, trust, tmp_path: Path) -> None:
    out = sign(make_clip(ext), tmp_path / f"s.{ext}", signer=signer).output
    boxes.flip_media_byte(out, at=40)
    assert verify(out, trust=trust).verdict is Verdict.TAMPERED


def test_unsigned_and_stripped_have_no_credentials(make_clip, signed_clip: Path, trust, tmp_path: Path) -> None:
    assert verify(make_clip("mov"), trust=trust).verdict is Verdict.NO_CREDENTIALS
    stripped = tmp_path / "stripped.mp4"
    boxes.strip_credentials(signed_clip, stripped)
    report = verify(stripped, trust=trust)
    assert report.verdict is Verdict.NO_CREDENTIALS and report.exit_code == 4


def test_unreadable_input_is_an_error_verdict(tmp_path: Path) -> None:
    report = verify(tmp_path / "nope.mp4")
    assert report.verdict is Verdict.ERROR and report.exit_code == 5
    assert "no such file" in report.error


def test_json_contract(signed_clip: Path, signer, trust, tmp_path: Path) -> None:
    resigned = sign(signed_clip, tmp_path / "chain.mp4", signer=signer).output
    doc = json.loads(json.dumps(verify(resigned, trust=trust).to_dict()))
    assert doc["schema"] == SCHEMA == "provenance.verify/1"  # the documented contract, literally
    assert {
        "file",
        "verdict",
        "signer",
        "signed_at",
        "timestamped",
        "generator",
        "title",
        "actions",
        "digital_source_type",
        "ingredients",
        "status",
    } <= doc.keys()
    assert set(doc["signer"]) >= {"common_name", "organization", "issuer", "trusted_by"}
    [ingredient] = doc["ingredients"]
    assert {"title", "relationship", "verdict", "signer", "ingredients"} <= ingredient.keys()
    assert ingredient["verdict"] == "verified" and ingredient["ingredients"] == []
    assert all(set(s) == {"code", "kind", "explanation", "url"} for s in doc["status"])
    assert {s["kind"] for s in doc["status"]} <= {"success", "informational", "failure"}


# --- bad input is a report (verdict error, exit 5), never an exception -------


def _assert_bad_input(report, *names: str) -> None:
    assert report.verdict is Verdict.ERROR and int(report.exit_code) == 5
    assert report.error and "\n" not in report.error
    assert all(name in report.error for name in names), report.error


@pytest.mark.parametrize("content", [b"not a manifest at all" * 8, b"\x00\x00\x00\x20jumb" + bytes(range(200))])
def test_a_garbage_sidecar_is_an_error_report(content: bytes, make_clip, tmp_path: Path) -> None:
    clip = make_clip("mp4")
    garbage = tmp_path / "garbage.c2pa"
    garbage.write_bytes(content)
    _assert_bad_input(verify(clip, manifest=garbage), "garbage.c2pa", "not a readable C2PA manifest store")
    # the same bytes found next to the clip, as NAME.c2pa
    shutil.copyfile(garbage, clip.with_suffix(".c2pa"))
    _assert_bad_input(verify(clip), "clip.c2pa")


def test_a_truncated_sidecar_is_an_error_report(make_clip, signer, trust, tmp_path: Path) -> None:
    from provenance.signing import sign_sidecar

    clip = make_clip("mp4")
    sidecar = sign_sidecar(clip, tmp_path / "real.c2pa", signer=signer).output
    cut = tmp_path / "cut.c2pa"
    cut.write_bytes(sidecar.read_bytes()[:100])
    _assert_bad_input(verify(clip, trust=trust, manifest=cut), "cut.c2pa")


def test_damaged_embedded_credentials_are_an_error_report(signed_clip: Path, tmp_path: Path) -> None:
    data = bytearray(signed_clip.read_bytes())
    at = data.find(b"jumb") + 20  # inside the JUMBF description box's UUID: no "c2pa" block any more
    data[at] ^= 0xFF
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    _assert_bad_input(verify(damaged), "damaged.mp4", "content credentials cannot be read")


def test_every_error_report_names_its_reason(signed_clip: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(signed_clip.read_bytes()[:5000])
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    reasons = {verify(p).error_reason for p in (truncated, text, tmp_path / "missing.mp4")}
    assert None not in reasons and "malformed_media" in reasons


def test_a_manifest_box_whose_uuid_changed_says_the_credentials_were_damaged(signed_clip: Path, tmp_path: Path) -> None:
    from provenance.media.boxes import C2PA_UUID

    data = bytearray(signed_clip.read_bytes())
    at = data.find(C2PA_UUID)
    data[at + 3] ^= 0x01  # the box's own UUID: c2pa no longer sees a manifest box
    damaged = tmp_path / "uuid.mp4"
    damaged.write_bytes(bytes(data))
    report = verify(damaged)
    assert report.verdict is Verdict.NO_CREDENTIALS
    assert any("credentials were damaged" in n for n in report.notes)
