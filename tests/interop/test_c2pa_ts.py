"""What provenance writes, validated by an independent C2PA implementation:
c2pa-ts (npm @trustnxt/c2pa-ts, pinned in tests/interop/node/package.json,
installed by .ci/run). Every output must pass there as in c2pa-rs, and a
tampered copy of each must fail there too.

c2pa-ts checks structure, signatures and hard bindings; it does not build
certificate chains, so trust is c2pa-rs's side (verify) alone."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from provenance import edit
from provenance.identity.signer import KeySigner
from provenance.media import boxes, formats
from provenance.signing import sign, sign_sidecar
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.support.system import require

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "validate.mjs"


@pytest.fixture(scope="module")
def node() -> str:
    exe = shutil.which("node")
    require(exe is not None, "node", hint="install Node.js 20 or later")
    require(
        (NODE_DIR / "node_modules" / "@trustnxt" / "c2pa-ts").is_dir(),
        "c2pa-ts (tests/interop/node/node_modules)",
        hint="run `npm install` in tests/interop/node, as .ci/run does",
    )
    assert exe is not None
    return exe


def c2pa_ts(node: str, asset: Path, sidecar: Path | None = None) -> dict[str, Any]:
    """c2pa-ts's validation of *asset* (its embedded store, or *sidecar*):
    ``{"valid": bool, "failures": [codes]}``."""
    args = [node, str(SCRIPT), str(asset), *([str(sidecar)] if sidecar else [])]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout)
    return {"valid": result["valid"], "failures": [s["code"] for s in result["statuses"] if not s["success"]]}


def tampered(path: Path, tmp_path: Path) -> Path:
    """A copy of *path* with one byte in the middle of its media flipped."""
    copy = tmp_path / f"tampered-{path.name}"
    shutil.copyfile(path, copy)
    mdat = next((o, s) for k, o, s, _ in boxes.top_level(copy, formats.detect(copy)) if k == b"mdat")
    at = mdat[0] + mdat[1] // 2
    with open(copy, "r+b") as fh:
        fh.seek(at)
        byte = fh.read(1)[0]
        fh.seek(at)
        fh.write(bytes([byte ^ 0xFF]))
    return copy


def both_accept_and_both_reject_a_tampered_copy(node: str, out: Path, trust, tmp_path: Path) -> None:
    assert verify(out, trust=trust).verdict is Verdict.VERIFIED
    assert c2pa_ts(node, out) == {"valid": True, "failures": []}
    bad = tampered(out, tmp_path)
    assert verify(bad, trust=trust).verdict is Verdict.TAMPERED
    assert c2pa_ts(node, bad) == {"valid": False, "failures": ["assertion.bmffHash.mismatch"]}


@pytest.mark.parametrize("ext", ["mp4", "mov", "m4v"])
def test_signed_clips_pass_c2pa_ts(ext, node, make_clip, signer, trust, tmp_path: Path) -> None:
    result = sign(make_clip(ext), tmp_path / f"signed.{ext}", signer=signer)
    assert result.method == "one-pass"
    both_accept_and_both_reject_a_tampered_copy(node, result.output, trust, tmp_path)


def test_c2pa_rs_own_layout_is_what_c2pa_ts_misreads(node, make_clip, signer, monkeypatch, tmp_path: Path) -> None:
    # Why one-pass writes its layout: c2pa-rs's Builder.sign keeps the clip's
    # 32-bit mdat before moov, and c2pa-ts hashes those Merkle leaves from
    # other bytes (docs/upstream/c2pa-ts-merkle-leaves.md). If this starts
    # passing, c2pa-ts was fixed: say so in the README.
    monkeypatch.setenv("PROVENANCE_ONE_PASS", "0")
    out = sign(make_clip("mp4"), tmp_path / "c2pa-rs.mp4", signer=signer).output
    assert c2pa_ts(node, out) == {"valid": False, "failures": ["assertion.bmffHash.mismatch"]}


def test_flat_hash_clips_pass_c2pa_ts(node, make_clip, signer, trust, tmp_path: Path) -> None:
    out = sign(make_clip("mp4"), tmp_path / "flat.mp4", signer=signer, flat_hash=True).output
    both_accept_and_both_reject_a_tampered_copy(node, out, trust, tmp_path)


@pytest.mark.xfail(
    strict=True,
    reason="c2pa-ts 0.9.4 reads a sigTst2 token as a TimeStampResp, but c2pa-rs writes the TimeStampToken "
    "(signingCredential.invalid: 'Failed to deserialize signature content'; docs/upstream/c2pa-ts-merkle-leaves.md)",
)
def test_time_stamped_clips_pass_c2pa_ts(node, make_clip, pki, tsa, trust, tmp_path: Path) -> None:
    stamping = KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url)
    result = sign(make_clip("mp4"), tmp_path / "stamped.mp4", signer=stamping)
    assert result.timestamped_at and len(tsa.authority.requests) == 1
    assert verify(result.output, trust=trust).verdict is Verdict.VERIFIED
    assert c2pa_ts(node, result.output)["failures"] != ["signingCredential.invalid"]  # the known failure, named
    both_accept_and_both_reject_a_tampered_copy(node, result.output, trust, tmp_path)


_CREATED_ACTIONS = "c2pa-ts 0.9.4: assertion.action.ingredientMismatch on a created actions assertion"


@pytest.mark.parametrize(
    ("operation", "options", "source"),
    [
        # c2pa-ts 0.9.4 reports assertion.action.ingredientMismatch for the
        # c2pa.opened action of an edit whose actions assertion is a created
        # assertion (what the conformance program asks of a generator, and
        # c2pa-rs validates); gathered, c2pa-ts accepts it. Strict: the test
        # fails once c2pa-ts is fixed (docs/upstream/c2pa-ts-merkle-leaves.md).
        pytest.param(edit.transcode, {}, "mp4", marks=pytest.mark.xfail(strict=True, reason=_CREATED_ACTIONS)),
        (edit.trim, {"start": 0.5}, "mp4"),
        pytest.param(edit.remux, {}, "mov", marks=pytest.mark.xfail(strict=True, reason=_CREATED_ACTIONS)),
    ],
    ids=["transcode", "trim", "remux"],
)
def test_edits_pass_c2pa_ts(operation, options, source, node, make_clip, signer, trust, tmp_path: Path) -> None:
    parent = sign(make_clip(source), tmp_path / f"parent.{source}", signer=signer).output
    out = operation(parent, tmp_path / "edited.mp4", signer=signer, trust=trust, **options).output
    both_accept_and_both_reject_a_tampered_copy(node, out, trust, tmp_path)


def test_sidecars_pass_c2pa_ts(node, make_clip, signer, trust, tmp_path: Path) -> None:
    clip = make_clip("mp4")
    store = sign_sidecar(clip, signer=signer).output
    assert store.suffix == ".c2pa"
    assert verify(clip, trust=trust, manifest=store).verdict is Verdict.VERIFIED
    assert c2pa_ts(node, clip, store) == {"valid": True, "failures": []}
    bad = tampered(clip, tmp_path)
    assert verify(bad, trust=trust, manifest=store).verdict is Verdict.TAMPERED
    assert c2pa_ts(node, bad, store) == {"valid": False, "failures": ["assertion.dataHash.mismatch"]}


@pytest.mark.xfail(
    strict=True,
    reason="c2pa-ts 0.9.4 skips the BMFF hash's flat `hash` when a Merkle map is present, so a changed moov "
    "passes (reported upstream: docs/upstream/c2pa-ts-merkle-leaves.md); when it fails here, c2pa-ts was fixed",
)
def test_a_changed_moov_fails_in_c2pa_ts(node, make_clip, signer, trust, tmp_path: Path) -> None:
    out = sign(make_clip("mp4"), tmp_path / "signed.mp4", signer=signer).output
    moov = next(o for k, o, _, _ in boxes.top_level(out, formats.MP4) if k == b"moov")
    data = bytearray(out.read_bytes())
    assert data[moov + 12 : moov + 16] == b"mvhd"
    data[moov + 8 + 8 + 4 + 3] ^= 0xFF  # the movie's creation time: the clip still plays
    out.write_bytes(bytes(data))
    assert verify(out, trust=trust).verdict is Verdict.TAMPERED  # c2pa-rs checks the flat hash
    assert not c2pa_ts(node, out)["valid"]
