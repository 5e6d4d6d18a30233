"""The C2PA conformance program: ``verify --format crjson`` (the validator
output a conformance harness reads, with the trust list and the TSA list
as separate inputs) and the generator requirements of what provenance
signs, read back from real signed clips."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provenance.credentials import bridge
from provenance.credentials.manifest import IPTC, SPEC_VERSION
from provenance.edit import trim
from provenance.identity.pki import DevPKI
from provenance.identity.signer import KeySigner
from provenance.media import boxes
from provenance.signing import sign, sign_sidecar
from provenance.trust.store import TrustStore
from provenance.verification import verifier

# Labels C2PA 2.x deprecates: a generator writing any of them is not conformant.
DEPRECATED = {"c2pa.actions", "stds.schema-org.CreativeWork", "stds.exif", "stds.iptc", "c2pa.ingredient"}


def _crjson(path: Path, *, trust: TrustStore) -> dict[str, Any]:
    store, document = bridge.read_crjson(path, mime_type="video/mp4", trust=trust)
    assert store is not None and store.active_label == _active(document)["label"]
    return document


def _active(document: dict[str, Any]) -> dict[str, Any]:
    """The active manifest of a crJSON document (c2pa-rs lists it first),
    after checking the structure the format requires."""
    # What c2pa-rs's crJSON schema (export_schema/crJSON-schema.json) and
    # the conformance harness rely on, asserted field by field.
    assert set(document) >= {"@context", "manifests", "jsonGenerator"}
    assert isinstance(document["@context"]["@vocab"], str)
    assert document["jsonGenerator"]["name"] == "c2pa-rs"
    manifests = document["manifests"]
    assert isinstance(manifests, list) and manifests
    for manifest in manifests:
        assert set(manifest) >= {"label", "assertions", "signature", "validationResults"}
        assert manifest["label"].startswith("urn:c2pa:")
        claim = manifest.get("claim.v2") or manifest["claim"]
        for ref in claim["created_assertions"] + claim.get("gathered_assertions", []):
            assert isinstance(ref["url"], str) and isinstance(ref["hash"], str)
        actions = next(v for k, v in manifest["assertions"].items() if k.startswith("c2pa.actions"))
        assert actions["actions"] and all(isinstance(a["action"], str) for a in actions["actions"])
        results = manifest["validationResults"]
        assert all(isinstance(results[k], list) for k in ("success", "informational", "failure"))
        for entry in results["success"] + results["informational"] + results["failure"]:
            assert isinstance(entry["code"], str) and entry["code"]
    return manifests[0]


def _codes(manifest: dict[str, Any], kind: str) -> set[str]:
    return {entry["code"] for entry in manifest["validationResults"][kind]}


# --- generator requirements ------------------------------------------------


@pytest.fixture
def written(make_clip: Callable[..., Path], signer: KeySigner, trust: TrustStore, tmp_path: Path) -> dict[str, Path]:
    """A clip provenance created, and a trimmed edit of it (an ``opened``
    manifest over a parent ingredient)."""
    created = sign(make_clip("mp4"), tmp_path / "created.mp4", signer=signer).output
    edited = tmp_path / "edited.mp4"
    trim(created, edited, signer=signer, trust=trust, start=0.0, end=0.5)
    return {"created": created, "edited": edited}


@pytest.mark.parametrize("kind", ["created", "edited"])
def test_written_manifests_meet_the_generator_requirements(
    written: dict[str, Path], trust: TrustStore, kind: str
) -> None:
    manifest = _active(_crjson(written[kind], trust=trust))
    assert not _codes(manifest, "failure")
    # Claim version 2, declaring the specification version it follows.
    assert "claim.v2" in manifest and "claim" not in manifest
    claim = manifest["claim.v2"]
    info = claim["claim_generator_info"]
    assert info["name"] == "provenance" and info["specVersion"] == SPEC_VERSION
    # Actions v2, complete; every standard C2PA assertion is a created
    # one, and only the CAWG metadata is gathered.
    actions = manifest["assertions"]["c2pa.actions.v2"]
    assert actions["allActionsIncluded"] is True
    created = {a["url"].removeprefix("self#jumbf=c2pa.assertions/") for a in claim["created_assertions"]}
    gathered = {a["url"].removeprefix("self#jumbf=c2pa.assertions/") for a in claim["gathered_assertions"]}
    assert {"c2pa.actions.v2", "c2pa.hash.bmff.v3", "c2pa.thumbnail.claim"} <= created
    assert not {label for label in gathered if label.startswith("c2pa.")}
    assert gathered == ({"cawg.metadata"} if kind == "created" else set())
    if kind == "edited":
        assert {"c2pa.ingredient.v3", "c2pa.thumbnail.ingredient"} <= created
    first = actions["actions"][0]
    if kind == "created":
        assert first["action"] == "c2pa.created"
        assert first["digitalSourceType"] == IPTC + "digitalCapture"
    else:
        assert first["action"] == "c2pa.opened"
    assert not DEPRECATED & set(manifest["assertions"])


def test_the_author_is_a_cawg_metadata_creator(written: dict[str, Path], trust: TrustStore) -> None:
    store = bridge.read_store(written["created"], mime_type="video/mp4", trust=trust)
    assert store is not None and store.active is not None
    metadata = store.active.assertion("cawg.metadata")
    assert metadata is not None and metadata.data["dc:creator"] == ["Jane Doe"]
    edit = bridge.read_store(written["edited"], mime_type="video/mp4", trust=trust)
    assert edit is not None and edit.active is not None
    assert edit.active.assertion("cawg.metadata") is None  # an editor is not the author


def test_source_type_of_an_ai_clip_is_on_c2pa_created(
    make_clip: Callable[..., Path], signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    from provenance.credentials.manifest import SourceType

    out = sign(make_clip("mp4"), tmp_path / "ai.mp4", signer=signer, source=SourceType.AI).output
    first = _active(_crjson(out, trust=trust))["assertions"]["c2pa.actions.v2"]["actions"][0]
    assert first == {**first, "action": "c2pa.created", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}


# --- verify --format crjson --------------------------------------------------


def test_crjson_of_a_verified_clip_with_only_the_given_trust_list(run, signed_clip: Path, pki: DevPKI) -> None:
    result = run("verify", signed_clip, "--format", "crjson", "--no-trust-store", "--trust", pki.root_cert)
    assert result.exit_code == 0, result.output
    manifest = _active(json.loads(result.stdout))
    assert "signingCredential.trusted" in _codes(manifest, "success")
    assert "assertion.bmffHash.match" in _codes(manifest, "success")
    assert not _codes(manifest, "failure")


def test_no_trust_store_leaves_exactly_the_lists_given(run, signed_clip: Path) -> None:
    # The run fixture registers the dev root in the trust store, as keys init does.
    trusted = run("verify", signed_clip, "--format", "crjson")
    assert trusted.exit_code == 0, trusted.output
    assert "signingCredential.trusted" in _codes(_active(json.loads(trusted.stdout)), "success")
    bare = run("verify", signed_clip, "--format", "crjson", "--no-trust-store")
    assert bare.exit_code == 3, bare.output
    manifest = _active(json.loads(bare.stdout))
    assert "signingCredential.untrusted" in _codes(manifest, "failure")
    assert "signingCredential.trusted" not in _codes(manifest, "success")


def test_the_tsa_list_makes_the_time_stamp_trusted(
    run, make_clip: Callable[..., Path], pki: DevPKI, tsa, tsa_identity, tmp_path: Path
) -> None:
    stamping = KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url)
    clip = sign(make_clip("mp4"), tmp_path / "stamped.mp4", signer=stamping).output
    tsa_root = tmp_path / "tsa-root.pem"
    tsa_root.write_bytes(tsa_identity.root_pem)
    base = ("verify", clip, "--format", "crjson", "--no-trust-store", "--trust", pki.root_cert)
    without = run(*base)
    assert without.exit_code == 0, without.output
    unstamped = _active(json.loads(without.stdout))
    assert "timeStamp.trusted" not in _codes(unstamped, "success")
    assert "timeStamp.untrusted" in _codes(unstamped, "failure") | _codes(unstamped, "informational")
    with_list = run(*base, "--tsa-trust", tsa_root)
    assert with_list.exit_code == 0, with_list.output
    stamped = _active(json.loads(with_list.stdout))
    assert "timeStamp.trusted" in _codes(stamped, "success")
    assert "signingCredential.trusted" in _codes(stamped, "success")


def test_a_signer_root_in_the_tsa_list_only_is_untrusted(run, signed_clip: Path, pki: DevPKI) -> None:
    # c2pa-rs pools TSA roots with the signer anchors; the crJSON says what
    # the verdict says: TSA roots vouch for signing times, never for signers.
    result = run("verify", signed_clip, "--format", "crjson", "--no-trust-store", "--tsa-trust", pki.root_cert)
    assert result.exit_code == 3, result.output
    manifest = _active(json.loads(result.stdout))
    assert "signingCredential.trusted" not in _codes(manifest, "success")
    assert "signingCredential.untrusted" in _codes(manifest, "failure")


def test_a_tsa_root_in_the_trust_list_only_does_not_trust_the_time_stamp(
    run, make_clip: Callable[..., Path], pki: DevPKI, tsa, tsa_identity, tmp_path: Path
) -> None:
    stamping = KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url)
    clip = sign(make_clip("mp4"), tmp_path / "stamped.mp4", signer=stamping).output
    tsa_root = tmp_path / "tsa-root.pem"
    tsa_root.write_bytes(tsa_identity.root_pem)
    result = run(
        "verify", clip, "--format", "crjson", "--no-trust-store", "--trust", pki.root_cert, "--trust", tsa_root
    )
    assert result.exit_code == 0, result.output
    manifest = _active(json.loads(result.stdout))
    assert "timeStamp.trusted" not in _codes(manifest, "success")
    assert "timeStamp.untrusted" in _codes(manifest, "failure")
    assert "signingCredential.trusted" in _codes(manifest, "success")


def test_crjson_of_a_tampered_clip_reports_the_mismatch_and_exits_1(run, signed_clip: Path, pki: DevPKI) -> None:
    boxes.flip_media_byte(signed_clip, at=100)
    result = run("verify", signed_clip, "--format", "crjson", "--no-trust-store", "--trust", pki.root_cert)
    assert result.exit_code == 1, result.output
    assert "assertion.bmffHash.mismatch" in _codes(_active(json.loads(result.stdout)), "failure")


def test_crjson_of_a_sidecar(
    run, make_clip: Callable[..., Path], signer: KeySigner, pki: DevPKI, tmp_path: Path
) -> None:
    clip = make_clip("mp4")
    sidecar = sign_sidecar(clip, tmp_path / "store.c2pa", signer=signer).output
    result = run(
        "verify", clip, "--manifest", sidecar, "--format", "crjson", "--no-trust-store", "--trust", pki.root_cert
    )
    assert result.exit_code == 0, result.output
    manifest = _active(json.loads(result.stdout))
    assert "signingCredential.trusted" in _codes(manifest, "success")
    assert clip.read_bytes() == make_clip("mp4", name="again.mp4").read_bytes()  # the input is untouched


def test_crjson_of_a_clip_without_credentials_is_empty_and_exits_4(run, make_clip: Callable[..., Path]) -> None:
    result = run("verify", make_clip("mp4"), "--format", "crjson")
    assert result.exit_code == 4
    assert json.loads(result.stdout) == {}


def test_crjson_of_an_unreadable_file_is_a_one_line_error(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\xff" * 40)
    result = run("verify", bad, "--format", "crjson")
    assert result.exit_code == 5
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (("--json",), "--json and --format crjson exclude each other"),
        (("BATCH",), "does not apply to a batch"),
        (("--segments", "seg*.m4s"), "does not apply to --segments"),
    ],
)
def test_crjson_usage_errors(run, signed_clip: Path, tmp_path: Path, extra: tuple[str, ...], words: str) -> None:
    args = [tmp_path if a == "BATCH" else a for a in extra]
    result = run("verify", signed_clip, "--format", "crjson", *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]
    assert result.stdout == ""


def test_format_json_is_the_json_report(run, signed_clip: Path) -> None:
    by_format = run("verify", signed_clip, "--format", "json")
    by_flag = run("verify", signed_clip, "--json")
    assert by_format.exit_code == by_flag.exit_code == 0
    first, second = json.loads(by_format.stdout), json.loads(by_flag.stdout)
    assert first["schema"] == "provenance.verify/1" and first["verdict"] == second["verdict"] == "verified"


def test_crjson_reads_the_clip_once(signed_clip: Path, trust: TrustStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_store, real_crjson = bridge.read_store, bridge.read_crjson

    def counting_store(*args: Any, **kwargs: Any) -> Any:
        calls.append("read_store")
        return real_store(*args, **kwargs)

    def counting_crjson(*args: Any, **kwargs: Any) -> Any:
        calls.append("read_crjson")
        return real_crjson(*args, **kwargs)

    monkeypatch.setattr(bridge, "read_store", counting_store)
    monkeypatch.setattr(bridge, "read_crjson", counting_crjson)
    report, document = verifier.verify_crjson(signed_clip, trust=trust)
    assert calls == ["read_crjson"]
    assert report.verdict.value == "verified" and document is not None
    assert _active(document)["label"] == report.manifest_id
