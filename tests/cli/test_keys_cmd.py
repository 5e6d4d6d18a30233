"""``provenance keys ca init / request / issue / import / check`` and the
profile check ``sign`` runs first, through the CLI."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID as EKU

from provenance.identity import certificates as certs
from provenance.identity.keys import private_key_pem
from tests.certfactory import MiniCA
from tests.conftest import sha256

IDENTITY = 6


def _one_line_error(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output and lines[0].startswith("error:")
    return lines[0]


@pytest.fixture(scope="module")
def mini() -> MiniCA:
    return MiniCA.make("External CA")


def test_an_org_ca_issues_to_two_creators_who_each_sign_as_themselves(run, make_clip, tmp_path: Path) -> None:
    run.env["CA_PASS"] = "org secret"
    ca = tmp_path / "ca"
    made = run(
        "keys", "ca", "init", "--dir", ca, "--org", "Acme News", "--country", "gb", "--passphrase-env", "CA_PASS"
    )
    assert made.exit_code == 0, made.output
    assert b"ENCRYPTED" in (ca / "issuing-ca.key").read_bytes() and "PRIVATE" not in made.output
    clip = make_clip("mp4")
    for name, email in (("Jane Doe", "jane@acme.example"), ("Omar Haddad", "omar@acme.example")):
        home = tmp_path / name.split()[0].lower()
        req = run(
            "keys", "request", "--name", name, "--org", "Acme News", "--country", "GB", "--email", email, "--dir", home
        )
        assert req.exit_code == 0, req.output
        assert stat.S_IMODE((home / "signer.key").stat().st_mode) == 0o600
        issued = run(
            "keys",
            "issue",
            home / "signer.csr",
            "--ca",
            ca,
            "-o",
            home / "chain.pem",
            "--passphrase-env",
            "CA_PASS",
            "--json",
        )
        assert issued.exit_code == 0, issued.output
        assert json.loads(issued.output)["email"] == email
        assert run("keys", "check", home / "chain.pem").exit_code == 0
        out = tmp_path / f"{home.name}.mp4"
        signed = run("sign", clip, "-o", out, "--keys-dir", home)
        assert signed.exit_code == 0, signed.output
        verified = run("verify", out, "--trust", ca / "root-ca.pem", "--json")
        report = json.loads(verified.output)
        assert verified.exit_code == 0 and report["verdict"] == "verified", verified.output
        assert report["signer"]["common_name"] == name and report["signer"]["email"] == email
        assert report["signer"]["organization"] == "Acme News"
    # the same clip checked against another organisation's root is not vouched for
    other = tmp_path / "other-ca"
    assert run("keys", "ca", "init", "--dir", other, "--org", "Other", "--country", "US").exit_code == 0
    untrusted = run("verify", tmp_path / "jane.mp4", "--trust", other / "root-ca.pem")
    assert untrusted.exit_code == 3, untrusted.output


def test_issue_refuses_a_wrong_ca_passphrase_and_a_bad_csr(run, tmp_path: Path) -> None:
    run.env["CA_PASS"] = "right"
    ca = tmp_path / "ca"
    assert (
        run(
            "keys", "ca", "init", "--dir", ca, "--org", "Acme", "--country", "US", "--passphrase-env", "CA_PASS"
        ).exit_code
        == 0
    )
    assert (
        run("keys", "request", "--name", "A", "--org", "Acme", "--country", "US", "--dir", tmp_path / "a").exit_code
        == 0
    )
    run.env["CA_PASS"] = "wrong"
    wrong = run(
        "keys",
        "issue",
        tmp_path / "a" / "signer.csr",
        "--ca",
        ca,
        "-o",
        tmp_path / "c.pem",
        "--passphrase-env",
        "CA_PASS",
    )
    assert wrong.exit_code == IDENTITY and "wrong passphrase" in _one_line_error(wrong.output)
    bad = tmp_path / "bad.csr"
    bad.write_text("hello")
    refused = run("keys", "issue", bad, "--ca", ca, "-o", tmp_path / "c.pem")
    assert refused.exit_code == IDENTITY and "not a certificate signing request" in _one_line_error(refused.output)
    assert not (tmp_path / "c.pem").exists()
    too_long = run(
        "keys", "issue", tmp_path / "a" / "signer.csr", "--ca", ca, "-o", tmp_path / "c.pem", "--days", "400"
    )
    assert too_long.exit_code == 2


def test_request_refuses_to_overwrite_and_bad_country(run, tmp_path: Path) -> None:
    args = ("keys", "request", "--name", "A", "--org", "Acme", "--dir", tmp_path)
    assert run(*args, "--country", "USA").exit_code == 2
    assert run(*args, "--country", "US").exit_code == 0
    key = (tmp_path / "signer.key").read_bytes()
    again = run(*args, "--country", "US")
    assert again.exit_code == 2 and "--force" in _one_line_error(again.output)
    assert (tmp_path / "signer.key").read_bytes() == key


def test_keys_check_lists_findings_with_rules_and_exit_code(run, mini: MiniCA, tmp_path: Path) -> None:
    _, bad = mini.leaf(eku=[certs.C2PA_CLAIM_SIGNING, EKU.EMAIL_PROTECTION, EKU.ANY_EXTENDED_KEY_USAGE], days=400)
    chain = tmp_path / "bad.pem"
    chain.write_bytes(certs.pem(bad, mini.issuing))
    result = run("keys", "check", chain)
    assert result.exit_code == IDENTITY
    lines = result.output.strip().splitlines()
    assert "2 findings, 1 that validators reject" in lines[0]
    assert any(
        "anyExtendedKeyUsage" in line and "MUST NOT" in line and "validators reject it" in line for line in lines
    )
    assert any("valid for 400 days" in line and "max 366 days" in line and "profile only" in line for line in lines)
    data = json.loads(run("keys", "check", chain, "--json").output)
    assert {f["code"]: f["severity"] for f in data["findings"]} == {
        "eku-any": "rejected",
        "validity-too-long": "profile",
    }
    assert data["signable"] is False
    good = tmp_path / "good.pem"
    good.write_bytes(certs.pem(mini.leaf()[1], mini.issuing))
    assert run("keys", "check", good).exit_code == 0
    later = run("keys", "check", good, "--at", "2099-01-01T00:00:00Z")
    assert later.exit_code == IDENTITY and "expired" in later.output
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n")
    assert run("keys", "check", junk).exit_code == IDENTITY


def test_sign_refuses_a_certificate_validators_reject(run, mini: MiniCA, make_clip, tmp_path: Path) -> None:
    key, leaf = mini.leaf(ca=True)
    key_file, chain = tmp_path / "k.pem", tmp_path / "chain.pem"
    key_file.write_bytes(private_key_pem(key))
    os.chmod(key_file, 0o600)
    chain.write_bytes(certs.pem(leaf, mini.issuing))
    clip = make_clip("mp4")
    before = sha256(clip)
    result = run("sign", clip, "-o", tmp_path / "o.mp4", "--key", key_file, "--cert", chain)
    assert result.exit_code == IDENTITY
    line = _one_line_error(result.output)
    assert "cA=TRUE" in line and "keys check" in line
    assert not (tmp_path / "o.mp4").exists() and sha256(clip) == before


def test_import_pkcs12_round_trip_then_sign(run, mini: MiniCA, make_clip, tmp_path: Path) -> None:
    key, leaf = mini.leaf()
    p12 = tmp_path / "jane.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"jane", key, leaf, [mini.issuing, mini.root], serialization.BestAvailableEncryption(b"from the CA")
        )
    )
    run.env["P12_PASS"] = "wrong"
    wrong = run("keys", "import", p12, "--dir", tmp_path / "keys", "--in-passphrase-env", "P12_PASS")
    assert wrong.exit_code == IDENTITY and "wrong passphrase" in _one_line_error(wrong.output)
    assert not (tmp_path / "keys").exists()
    run.env["P12_PASS"] = "from the CA"
    done = run("keys", "import", p12, "--dir", tmp_path / "keys", "--in-passphrase-env", "P12_PASS")
    assert done.exit_code == 0, done.output
    signer_key = tmp_path / "keys" / "signer.key"
    assert stat.S_IMODE(signer_key.stat().st_mode) == 0o600 and b"ENCRYPTED" in signer_key.read_bytes()
    assert certs.read_chain(tmp_path / "keys" / "chain.pem") == [leaf, mini.issuing]
    out = tmp_path / "o.mp4"
    signed = run("sign", make_clip("mp4"), "-o", out, "--keys-dir", tmp_path / "keys", "--passphrase-env", "P12_PASS")
    assert signed.exit_code == 0, signed.output
    verified = run("verify", out, "--trust", tmp_path / "keys" / "root-ca.pem", "--json")
    assert json.loads(verified.output)["verdict"] == "verified"


def test_import_refuses_what_validators_reject(run, mini: MiniCA, tmp_path: Path) -> None:
    key, leaf = mini.leaf(eku=None)
    (tmp_path / "key.pem").write_bytes(private_key_pem(key))
    (tmp_path / "chain.pem").write_bytes(certs.pem(leaf, mini.issuing))
    result = run("keys", "import", tmp_path / "key.pem", tmp_path / "chain.pem", "--dir", tmp_path / "keys")
    assert result.exit_code == IDENTITY and "no Extended Key Usage" in _one_line_error(result.output)
    assert not (tmp_path / "keys").exists()


def test_sidecars_remuxes_and_edits_refuse_a_certificate_validators_reject(
    run, mini: MiniCA, signed_clip: Path, tmp_path: Path
) -> None:
    key, leaf = mini.leaf(ca=True)
    key_file, chain = tmp_path / "k.pem", tmp_path / "chain.pem"
    key_file.write_bytes(private_key_pem(key))
    os.chmod(key_file, 0o600)
    chain.write_bytes(certs.pem(leaf, mini.issuing))
    before = sha256(signed_clip)
    for args in (
        ["sign", signed_clip, "--sidecar"],
        ["sign", signed_clip, "--remux", "-o", tmp_path / "o.mov"],
        ["trim", signed_clip, "-o", tmp_path / "o.mp4", "--end", "0.5"],
    ):
        result = run(*args, "--key", key_file, "--cert", chain)
        assert result.exit_code == IDENTITY, result.output
        assert "cA=TRUE" in _one_line_error(result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.pem", "clip.mp4", "k.pem", "signed.mp4"]
    assert sha256(signed_clip) == before
