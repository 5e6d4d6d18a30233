"""Recovering a clip's provenance by its content (verify --lookup): real
clips signed with their content fingerprint and registered, copies made as
platforms make them, and repositories that lie."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.credentials import bridge
from provenance.identity.certificates import Subject
from provenance.identity.pki import init_dev_pki
from provenance.identity.signer import KeySigner
from provenance.media import boxes
from provenance.repository import Repository, open_repository
from provenance.signing import sign
from provenance.trust.store import TrustStore
from provenance.verification.policy import ExpectSigner
from provenance.verification.recovery import LocalSource, ResolutionClient
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.helpers import running_server
from tests.support.scenes import make_scene_clip
from tests.support.transforms import apply


@dataclass
class Registered:
    repo: Repository
    location: str
    folder: Path
    signed: Path
    other: Path  # another scene, signed and registered too
    manifest_id: str


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory, signer: KeySigner) -> Iterator[Registered]:
    folder = tmp_path_factory.mktemp("recover")
    location = str(folder / "repository.sqlite")
    repo = open_repository(location, create=True)
    clip = make_scene_clip(folder / "scene.mp4", seed=41, seconds=12.0)
    result = sign(clip, folder / "scene.signed.mp4", signer=signer, register=repo)
    assert result.soft_binding and result.registered_in == location
    other = make_scene_clip(folder / "other.mp4", seed=42, seconds=8.0)
    sign(other, folder / "other.signed.mp4", signer=signer, register=repo)
    yield Registered(repo, location, folder, result.output, folder / "other.signed.mp4", result.manifest_id)
    repo.close()


def test_signing_records_the_soft_binding_in_the_signed_manifest(registered: Registered, trust: TrustStore) -> None:
    model = bridge.read_store(registered.signed, mime_type="video/mp4", trust=trust)
    assert model is not None and model.active is not None
    soft = model.active.assertion("c2pa.soft-binding")
    assert soft is not None and soft.data["alg"] == "io.iscc.v0" and len(soft.data["blocks"]) >= 11
    assert verify(registered.signed, trust=trust).verdict is Verdict.VERIFIED  # the file itself still verifies


@pytest.mark.parametrize("transform", ["360p", "excerpt"])
def test_a_platform_copy_is_recovered_with_its_original(
    registered: Registered, trust: TrustStore, tmp_path: Path, transform: str
) -> None:
    copy, start, end = apply(transform, registered.signed, tmp_path)
    assert verify(copy, trust=trust).verdict is Verdict.NO_CREDENTIALS
    report = verify(copy, trust=trust, lookup=LocalSource(registered.repo))
    assert report.verdict is Verdict.RECOVERED and report.exit_code == 8
    best = report.recovery.accepted if report.recovery else None
    assert best is not None and best.manifest_id == registered.manifest_id
    assert best.signer is not None and best.signer.common_name == "Jane Doe" and best.signer.trusted_by
    assert best.content_basis == "signed soft binding"
    assert abs(best.start - start) < 1.5 and abs(best.end - end) < 1.5
    assert any("matched by content" in n or "by content, not by bytes" in n for n in report.notes)
    doc = report.to_dict()
    assert doc["verdict"] == "recovered" and doc["recovery"]["candidates"][0]["accepted"] is True


def test_a_clip_with_tampered_credentials_is_recovered_too(
    registered: Registered, trust: TrustStore, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    shutil.copyfile(registered.signed, broken)
    boxes.flip_media_byte(broken)
    report = verify(broken, trust=trust, lookup=LocalSource(registered.repo))
    assert report.verdict is Verdict.RECOVERED and report.recovery is not None
    assert report.recovery.file_verdict is Verdict.TAMPERED


def test_unrelated_content_is_not_recovered_and_says_the_repository_was_asked(
    registered: Registered, trust: TrustStore, tmp_path: Path
) -> None:
    stranger = make_scene_clip(tmp_path / "stranger.mp4", seed=77, seconds=8.0)
    report = verify(stranger, trust=trust, lookup=LocalSource(registered.repo))
    assert report.verdict is Verdict.NO_CREDENTIALS and report.recovery is not None
    assert report.recovery.candidates == () and report.recovery.note
    assert any("was asked: no match" in n for n in report.notes)


def test_an_untrusted_original_or_another_signer_is_listed_but_never_shown_as_good(
    registered: Registered, trust: TrustStore, tmp_path: Path
) -> None:
    copy, _, _ = apply("360p", registered.signed, tmp_path)
    untrusted = verify(copy, trust=TrustStore(), lookup=LocalSource(registered.repo))
    assert untrusted.verdict is Verdict.NO_CREDENTIALS
    [candidate] = untrusted.recovery.candidates if untrusted.recovery else [None]
    assert candidate is not None and not candidate.accepted and candidate.verdict is Verdict.UNTRUSTED
    wrong = verify(copy, trust=trust, lookup=LocalSource(registered.repo), policy=ExpectSigner("Tom Cruise"))
    assert wrong.verdict is Verdict.NO_CREDENTIALS
    assert wrong.recovery is not None and "Tom Cruise" in (wrong.recovery.candidates[0].why_not or "")


def test_a_lying_repository_is_caught_by_the_originals_signed_soft_binding(
    registered: Registered, trust: TrustStore, tmp_path: Path
) -> None:
    """A repository that answers this content with a genuine manifest of
    other content: its signature is fine, its signed soft binding is not."""
    from provenance.media import fingerprint as fp

    liar = open_repository(str(tmp_path / "liar.sqlite"), create=True)
    other_store, other_id = bridge.raw_manifest_store(registered.other) or (b"", "")
    liar.register(other_store, manifest_id=other_id, fingerprint=fp.compute(registered.signed))
    copy, _, _ = apply("360p", registered.signed, tmp_path)
    with liar:
        report = verify(copy, trust=trust, lookup=LocalSource(liar))
    assert report.verdict is Verdict.NO_CREDENTIALS and report.recovery is not None
    [candidate] = report.recovery.candidates
    assert candidate.manifest_id == other_id and candidate.verdict is Verdict.VERIFIED and not candidate.accepted
    assert "soft binding does not match" in (candidate.why_not or "")


def test_a_forged_store_from_the_repository_is_rejected(
    registered: Registered, trust: TrustStore, tmp_path: Path
) -> None:
    from provenance.media import fingerprint as fp

    store, label = bridge.raw_manifest_store(registered.signed) or (b"", "")
    forged = bytearray(store)
    at = forged.find(b"Jane Doe")  # the CreativeWork author, under the claim's hash
    forged[at] ^= 0x20
    liar = open_repository(str(tmp_path / "forged.sqlite"), create=True)
    liar.register(bytes(forged), manifest_id=label, fingerprint=fp.compute(registered.signed))
    copy, _, _ = apply("360p", registered.signed, tmp_path)
    with liar:
        report = verify(copy, trust=trust, lookup=LocalSource(liar))
    assert report.verdict is Verdict.NO_CREDENTIALS and report.recovery is not None
    [candidate] = report.recovery.candidates
    assert not candidate.accepted and candidate.verdict in (Verdict.TAMPERED, Verdict.INVALID)


def test_a_clip_too_short_to_fingerprint_is_not_looked_up(
    registered: Registered, trust: TrustStore, tmp_path: Path
) -> None:
    short = make_scene_clip(tmp_path / "short.mp4", seed=41, seconds=1.0)
    report = verify(short, trust=trust, lookup=LocalSource(registered.repo))
    assert report.verdict is Verdict.NO_CREDENTIALS
    assert report.recovery is not None and "not asked" in (report.recovery.note or "")


def test_sign_register_and_verify_lookup_on_the_command_line(run, tmp_path: Path, registered: Registered) -> None:
    repo = tmp_path / "cli.sqlite"
    clip = make_scene_clip(tmp_path / "clip.mp4", seed=43, seconds=8.0)
    signed = run("sign", clip, "-o", tmp_path / "signed.mp4", "--register", repo, "--json")
    assert signed.exit_code == 0, signed.output
    doc = json.loads(signed.output)
    assert doc["soft_binding"] is True and doc["registered_in"] == str(repo)
    (tmp_path / "copy").mkdir()
    copy, _, _ = apply("360p", tmp_path / "signed.mp4", tmp_path / "copy")
    found = run("verify", copy, "--lookup", repo, "--json")
    assert found.exit_code == 8, found.output
    report = json.loads(found.output)
    assert (
        report["verdict"] == "recovered" and report["recovery"]["candidates"][0]["signer"]["common_name"] == "Jane Doe"
    )
    card = run("verify", copy, "--lookup", repo)
    assert "RECOVERED" in card.output and "not by bytes" in card.output and "VERIFIED" not in card.output
    assert run("verify", copy, "--lookup", tmp_path / "missing.sqlite").exit_code == 9  # one line, exit 9


def test_lookup_through_the_resolution_api(
    registered: Registered, trust: TrustStore, pki, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    copy, _, _ = apply("360p", registered.signed, tmp_path)
    work = tmp_path_factory.mktemp("resolution-client")
    with running_server(
        work, "--keys-dir", pki.directory, "--repo", registered.location, trusted_root=pki.root_cert
    ) as srv:
        report = verify(copy, trust=trust, lookup=ResolutionClient(srv.url))
    assert report.verdict is Verdict.RECOVERED and report.recovery is not None
    assert report.recovery.accepted is not None and report.recovery.accepted.manifest_id == registered.manifest_id


def test_a_recovered_report_on_postgresql(
    postgres_url: str, signer: KeySigner, trust: TrustStore, tmp_path: Path
) -> None:
    clip = make_scene_clip(tmp_path / "pg.mp4", seed=44, seconds=8.0)
    with open_repository(postgres_url, create=True) as repo:
        sign(clip, tmp_path / "pg.signed.mp4", signer=signer, register=repo)
        (tmp_path / "copy").mkdir()
        copy, _, _ = apply("360p", tmp_path / "pg.signed.mp4", tmp_path / "copy")
        assert verify(copy, trust=trust, lookup=LocalSource(repo)).verdict is Verdict.RECOVERED


def test_another_signers_clip_is_not_recovered_under_the_wrong_trust(tmp_path: Path, registered: Registered) -> None:
    stranger = init_dev_pki(tmp_path / "pki", subject=Subject("Someone Else", "Elsewhere", "GB"))
    clip = make_scene_clip(tmp_path / "s.mp4", seed=45, seconds=8.0)
    sign(
        clip,
        tmp_path / "s.signed.mp4",
        signer=KeySigner.from_files(key=stranger.signer_key, chain=stranger.chain),
        register=registered.repo,
    )
    (tmp_path / "copy").mkdir()
    copy, _, _ = apply("360p", tmp_path / "s.signed.mp4", tmp_path / "copy")
    report = verify(copy, trust=TrustStore(), lookup=LocalSource(registered.repo))
    assert report.verdict is Verdict.NO_CREDENTIALS


def test_an_edit_registers_its_output_and_a_copy_of_it_is_recovered(run, tmp_path: Path) -> None:
    repo = tmp_path / "edits.sqlite"
    clip = make_scene_clip(tmp_path / "clip.mp4", seed=46, seconds=10.0)
    assert run("sign", clip, "-o", tmp_path / "signed.mp4").exit_code == 0
    trimmed = run(
        "trim",
        tmp_path / "signed.mp4",
        "-o",
        tmp_path / "cut.mp4",
        "--start",
        "1",
        "--end",
        "9",
        "--register",
        repo,
        "--json",
    )
    assert trimmed.exit_code == 0, trimmed.output
    doc = json.loads(trimmed.output)
    assert doc["soft_binding"] is True and doc["registered_in"] == str(repo)
    (tmp_path / "copy").mkdir()
    copy, _, _ = apply("360p", tmp_path / "cut.mp4", tmp_path / "copy")
    found = json.loads(run("verify", copy, "--lookup", repo, "--json").output)
    assert found["verdict"] == "recovered"
    assert found["recovery"]["candidates"][0]["manifest_id"] == doc["manifest_id"]
    assert "original by Jane Doe" in (found["recovery"]["candidates"][0]["chain_summary"] or "")


def test_batches_register_and_look_up_too(run, tmp_path: Path) -> None:
    repo = tmp_path / "batch.sqlite"
    folder = tmp_path / "clips"
    folder.mkdir()
    for seed in (61, 62):
        make_scene_clip(folder / f"scene{seed}.mp4", seed=seed, seconds=8.0)
    signed = run("sign", folder, "-o", tmp_path / "signed", "--register", repo, "-j", "2")
    assert signed.exit_code == 0, signed.output
    copies = tmp_path / "copies"
    copies.mkdir()
    for seed in (61, 62):
        apply("360p", tmp_path / "signed" / f"scene{seed}.mp4", copies)
    make_scene_clip(copies / "unrelated.mp4", seed=63, seconds=8.0)
    log = tmp_path / "lookup.jsonl"
    found = run("verify", copies, "--lookup", repo, "--jsonl", log, "-j", "2")
    records = {Path(r["file"]).name: r for r in map(json.loads, log.read_text().splitlines())}
    assert sorted(r["verdict"] for r in records.values()) == ["no_credentials", "recovered", "recovered"]
    assert records["unrelated.mp4"]["recovery"]["note"]
    assert found.exit_code == 4  # the worst file: no credentials


def test_the_service_signs_and_registers_then_recovers_a_copy(
    pki, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import httpx

    token = "service-register-token-0123456789"
    work = tmp_path_factory.mktemp("service-register")
    (work / "tokens").write_text(token + "\n")
    repo = tmp_path / "service.sqlite"
    clip = make_scene_clip(tmp_path / "clip.mp4", seed=71, seconds=8.0)
    with running_server(
        work, "--keys-dir", pki.directory, "--tokens-file", work / "tokens", "--repo", repo, trusted_root=pki.root_cert
    ) as srv:
        signed = httpx.post(
            srv.url + "/v1/sign",
            params={"filename": "clip.mp4", "register": "1"},
            content=clip.read_bytes(),
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        assert signed.status_code == 200, signed.text
        assert signed.headers["X-Provenance-Registered"] == "true"
        (tmp_path / "signed.mp4").write_bytes(signed.content)
        (tmp_path / "copy").mkdir()
        copy, _, _ = apply("360p", tmp_path / "signed.mp4", tmp_path / "copy")
        answer = httpx.post(
            srv.url + "/v1/verify",
            params={"filename": "copy.mp4", "lookup": "1"},
            content=copy.read_bytes(),
            timeout=120,
        ).json()
        assert answer["verdict"] == "recovered"
        assert answer["recovery"]["candidates"][0]["manifest_id"] == signed.headers["X-Provenance-Manifest-Id"]
