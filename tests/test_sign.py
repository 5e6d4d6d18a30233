import json
import os
from pathlib import Path

import pytest

from provenance.credentials.manifest import SourceType
from provenance.errors import CredentialError, OutputExistsError, UsageError
from provenance.identity.signer import KeySigner
from provenance.signing import sign
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.conftest import sha256


@pytest.mark.parametrize("ext", ["mp4", "mov", "m4v", "avi"])
def test_each_format_signs_verifies_and_input_is_untouched(ext, make_clip, signer, trust, tmp_path: Path) -> None:
    src = make_clip(ext)
    before = sha256(src)
    result = sign(src, tmp_path / f"out.{ext}", signer=signer)
    assert sha256(src) == before
    assert result.manifest_id.startswith("urn:c2pa:")
    report = verify(result.output, trust=trust)
    assert report.verdict is Verdict.VERIFIED, report.failures
    assert report.manifest_id == result.manifest_id


def test_manifest_records_source_author_actions_and_thumbnail(make_clip, signer, trust, tmp_path: Path) -> None:
    out = sign(
        make_clip("mp4"),
        tmp_path / "ai.mp4",
        signer=signer,
        source=SourceType.AI,
        title="Generated",
        author="Studio Bot",
    ).output
    report = verify(out, trust=trust)
    assert [a.action for a in report.actions] == ["c2pa.created", "c2pa.published"]
    assert report.digital_source_type == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    assert report.ai_generated is True
    assert report.title == "Generated"
    assert report.generator and report.generator.startswith("provenance ")
    assert report.signed_at is not None and report.timestamped is False
    assert any(s.code == "assertion.hashedURI.match" and "c2pa.thumbnail.claim" in s.explanation for s in report.status)
    assert any("Studio Bot" in str(v) for v in _assertion_values(out))


def _assertion_values(path: Path) -> list[object]:
    from provenance.credentials import bridge
    from provenance.trust.store import TrustStore

    model = bridge.read_store(path, mime_type="video/mp4", trust=TrustStore())
    assert model is not None and model.active is not None
    return [a.data for a in model.active.assertions]


@pytest.mark.parametrize(
    ("source", "term"),
    [
        ("camera", "digitalCapture"),
        ("screen", "screenCapture"),
        ("ai-edited", "compositeWithTrainedAlgorithmicMedia"),
        ("digital-art", "digitalCreation"),
        ("composite", "composite"),
    ],
)
def test_source_types_map_to_iptc(source: str, term: str) -> None:
    assert SourceType(source).iptc_uri == f"http://cv.iptc.org/newscodes/digitalsourcetype/{term}"


def test_resigning_keeps_the_existing_chain_as_parent(signed_clip: Path, signer, trust, tmp_path: Path) -> None:
    first = verify(signed_clip, trust=trust)
    result = sign(signed_clip, tmp_path / "again.mp4", signer=signer)
    assert result.parent_manifest is True
    report = verify(result.output, trust=trust)
    assert report.verdict is Verdict.VERIFIED
    assert report.actions[0].action == "c2pa.opened"
    [parent] = report.ingredients
    assert parent.relationship == "parentOf" and parent.manifest_id == first.manifest_id
    assert parent.verdict is Verdict.VERIFIED


def test_refuses_output_equal_to_input_and_existing_output(
    signed_clip: Path, make_clip, signer, tmp_path: Path
) -> None:
    src = make_clip("mp4")
    with pytest.raises(UsageError, match="output is the input"):
        sign(src, src, signer=signer)
    with pytest.raises(UsageError, match="output is the input"):
        sign(src, src.parent / "." / src.name, signer=signer)
    existing = tmp_path / "exists.mp4"
    existing.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError):
        sign(src, existing, signer=signer)
    assert existing.read_bytes() == b"keep me"
    sign(src, existing, signer=signer, force=True)
    assert existing.read_bytes() != b"keep me"


def test_refuses_an_output_extension_of_another_container(make_clip, signer, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not match the input container AVI"):
        sign(make_clip("avi"), tmp_path / "out.mp4", signer=signer)


class _FailingSigner(KeySigner):
    def sign(self, data: bytes) -> bytes:
        raise RuntimeError("HSM unplugged")


def test_no_partial_output_when_signing_fails_midway(make_clip, signer, tmp_path: Path) -> None:
    broken = _FailingSigner(signer._key, chain=signer.chain)
    out = tmp_path / "out" / "never.mp4"
    out.parent.mkdir()
    with pytest.raises(CredentialError):
        sign(make_clip("mp4"), out, signer=broken)
    assert os.listdir(out.parent) == []  # neither the output nor a temp file


def _hash_assertion(path: Path) -> dict:
    from provenance.credentials import bridge
    from provenance.trust.store import TrustStore

    model = bridge.read_store(path, mime_type="video/mp4", trust=TrustStore())
    assert model is not None and model.active is not None
    return model.active.assertion("c2pa.hash.bmff").data


def test_media_is_bound_by_merkle_leaves_by_default_or_one_flat_hash(make_clip, signer, trust, tmp_path: Path) -> None:
    from provenance.media import boxes

    src = make_clip("mp4")
    merkle = sign(src, tmp_path / "m.mp4", signer=signer).output
    flat = sign(src, tmp_path / "f.mp4", signer=signer, flat_hash=True).output
    assert "merkle" in _hash_assertion(merkle) and "merkle" not in _hash_assertion(flat)
    for out in (merkle, flat):
        assert verify(out, trust=trust).verdict is Verdict.VERIFIED
        with open(out, "r+b") as fh:
            fh.seek(boxes.media_data_offset(out) + 500)
            fh.write(b"\xde\xad")
        assert verify(out, trust=trust).verdict is Verdict.TAMPERED


def test_single_file_fragmented_mp4_signs_with_a_flat_hash_and_verifies(signer, trust, tmp_path: Path) -> None:
    import av

    from provenance.media import boxes, formats

    src = tmp_path / "frag.mp4"
    with av.open(str(src), "w", options={"movflags": "frag_keyframe+empty_moov"}) as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.gop_size = 10
        import numpy as np

        for i in range(30):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 8, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    assert boxes.is_fragmented(src, formats.MP4)
    out = sign(src, tmp_path / "frag.signed.mp4", signer=signer).output
    assert "merkle" not in _hash_assertion(out)
    assert verify(out, trust=trust).verdict is Verdict.VERIFIED


def test_sign_refuses_an_input_with_tampered_credentials_like_the_edits(run, signed_clip: Path, tmp_path: Path) -> None:
    from tests.helpers import tampered_copy

    broken = tampered_copy(signed_clip, tmp_path / "broken.mp4")
    before = sha256(broken)
    out = tmp_path / "resigned.mp4"
    refused = run("sign", broken, "-o", out)
    assert refused.exit_code == 1 and "tampered" in refused.output and "--allow-invalid-parent" in refused.output
    # the reason is the failure that made it tampered, not the first listed (signing checks no trust)
    assert "are tampered (assertion.bmffHash.mismatch)" in refused.output
    assert "signingCredential.untrusted" not in refused.output
    assert not out.exists() and sha256(broken) == before
    kept = run("sign", broken, "-o", out, "--allow-invalid-parent")
    assert kept.exit_code == 0, kept.output
    doc = json.loads(run("verify", out, "--json").output)
    # the new signature is valid, but the chain says what it was made from
    assert doc["chain_verdict"] == "tampered" and "tampered" in doc["chain_summary"]
    sidecar = run("sign", broken, "--sidecar")
    assert sidecar.exit_code == 1 and not (tmp_path / "broken.c2pa").exists()
