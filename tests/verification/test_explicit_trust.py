"""Trust is explicit: a verdict never depends on the current folder, and a
development root is trusted because ``keys init`` registered it by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.support.cawg import sign_with_cawg_identity


def test_the_verdict_is_the_same_from_a_folder_holding_keys(
    run, make_clip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_keys, plain = tmp_path / "with-keys", tmp_path / "plain"
    plain.mkdir()
    made = run("keys", "init", "--dir", with_keys / "keys", "--no-trust")
    assert made.exit_code == 0, made.output
    out = tmp_path / "signed.mp4"
    assert run("sign", make_clip("mp4"), "-o", out, "--keys-dir", with_keys / "keys").exit_code == 0
    verdicts = []
    for folder in (with_keys, plain):
        monkeypatch.chdir(folder)  # ./keys/root-ca.pem exists in the first one only
        verdicts.append(json.loads(run("verify", out, "--json").output)["verdict"])
    assert verdicts == ["untrusted", "untrusted"]
    assert verify(out).verdict is Verdict.UNTRUSTED  # the library agrees with the CLI


def test_keys_init_registers_its_root_as_a_named_removable_source(
    run, make_clip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "k"
    made = run("keys", "init", "--dir", keys)
    assert made.exit_code == 0 and "development-root" in made.output
    out = tmp_path / "signed.mp4"
    assert run("sign", make_clip("mp4"), "-o", out, "--keys-dir", keys).exit_code == 0
    monkeypatch.chdir(tmp_path)  # anywhere: no keys/ here
    doc = json.loads(run("verify", out, "--json").output)
    assert doc["verdict"] == "verified" and doc["signer"]["trusted_by"] == "development root"
    listed = json.loads(run("trust", "list", "--json").output)["sources"]
    assert [(s["name"], s["title"]) for s in listed] == [("development-root", "development root")]
    assert run("trust", "remove", "development-root").exit_code == 0
    assert run("verify", out).exit_code == 3


def test_an_untrusted_cawg_identity_keeps_a_valid_c2pa_signature_verified(run, make_clip, pki, tmp_path: Path) -> None:
    from provenance.identity.certificates import Subject
    from provenance.identity.pki import init_dev_pki

    stranger = init_dev_pki(tmp_path / "stranger", subject=Subject("Someone Else", "Elsewhere", "GB"))
    clip = sign_with_cawg_identity(make_clip("mp4"), tmp_path / "cawg.mp4", pki=pki, identity=stranger)
    doc = json.loads(run("verify", clip, "--json").output)
    assert doc["verdict"] == "verified", doc["status"]
    assert [w["code"] for w in doc["warnings"]] == ["cawg.x509.credential.untrusted"]
    assert any("CAWG identity assertion" in n for n in doc["notes"])
    card = run("verify", clip)
    assert card.exit_code == 0 and "CAWG identity" in card.output
