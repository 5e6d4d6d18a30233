"""The PKCS#11 signer against a real SoftHSM2 token made by the test: keys
generated inside the token, certified by a test CA, signing real clips."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from provenance.errors import IdentityError, PassphraseError, UsageError
from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm
from provenance.identity.pkcs11 import Pkcs11Signer, Pkcs11Uri
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustSource, TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.certfactory import MiniCA
from tests.support.system import require

pkcs11 = pytest.importorskip("pkcs11", reason="python-pkcs11 is not installed (pip install '.[test]')")

MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)
MODULE = next((m for m in MODULES if os.path.exists(m)), None)
UTIL = shutil.which("softhsm2-util")
LABEL, PIN = "provenance-test", "4321"
P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")  # DER OID prime256v1


@dataclass
class Token:
    conf: Path
    ca: MiniCA
    ec_chain: Path
    rsa_chain: Path

    def uri(self, obj: str, query: str = f"pin-value={PIN}") -> str:
        return f"pkcs11:token={LABEL};object={obj}?module-path={MODULE}" + (f"&{query}" if query else "")


def _public_key(pub: object) -> object:
    A = pkcs11.Attribute
    if pub.key_type == pkcs11.KeyType.EC:  # type: ignore[attr-defined]
        point = pub[A.EC_POINT]  # type: ignore[index]
        point = point[2:] if point[0] == 0x04 and len(point) == 67 else point  # DER OCTET STRING around 04||x||y
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    n = int.from_bytes(pub[A.MODULUS], "big")  # type: ignore[index]
    e = int.from_bytes(pub[A.PUBLIC_EXPONENT], "big")  # type: ignore[index]
    return rsa.RSAPublicNumbers(e, n).public_key()


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    """A fresh SoftHSM2 token with an EC P-256 and an RSA 2048 key pair,
    each certified by a test CA. SoftHSM reads SOFTHSM2_CONF once per
    process, so one token serves the whole module."""
    require(MODULE is not None and UTIL is not None, "SoftHSM2", hint="apt-get install softhsm2; .ci/run does it")
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [UTIL, "--init-token", "--free", "--label", LABEL, "--so-pin", "0000", "--pin", PIN],
        check=True,
        capture_output=True,
    )
    ca = MiniCA.make("HSM Org")
    lib = pkcs11.lib(MODULE)
    chains = {}
    with lib.get_token(token_label=LABEL).open(rw=True, user_pin=PIN) as session:
        private = {pkcs11.Attribute.SENSITIVE: True, pkcs11.Attribute.EXTRACTABLE: False}
        ec_pub, _ = session.generate_keypair(
            pkcs11.KeyType.EC,
            store=True,
            label="ec-signer",
            id=b"\x01",
            public_template={pkcs11.Attribute.EC_PARAMS: P256_PARAMS},
            private_template=private,
        )
        rsa_pub, _ = session.generate_keypair(
            pkcs11.KeyType.RSA, 2048, store=True, label="rsa-signer", id=b"\x02", private_template=private
        )
        for name, pub in (("ec", ec_pub), ("rsa", rsa_pub)):
            leaf = _leaf_for(ca, _public_key(pub), f"HSM {name.upper()} Signer")
            chains[name] = home / f"{name}-chain.pem"
            chains[name].write_bytes(certs.pem(leaf, ca.issuing))
    yield Token(conf, ca, chains["ec"], chains["rsa"])
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def _leaf_for(ca: MiniCA, public_key: object, name: str) -> x509.Certificate:
    return certs.claim_signing_leaf(certs.Subject(name, "HSM Org", "US"), public_key, ca.issuing, ca.issuing_key)


def _trust(token: Token) -> TrustStore:
    return TrustStore().with_source(TrustSource("hsm root", SourceKind.ANCHORS, (token.ca.root,)))


@pytest.mark.parametrize(
    "obj, chain_attr, alg",
    [("ec-signer", "ec_chain", SigningAlgorithm.ES256), ("rsa-signer", "rsa_chain", SigningAlgorithm.PS256)],
)
def test_token_key_signs_a_clip_that_verifies(
    token: Token, obj: str, chain_attr: str, alg: SigningAlgorithm, make_clip, tmp_path: Path
) -> None:
    chain = certs.read_chain(getattr(token, chain_attr))
    with Pkcs11Signer.open(token.uri(obj), chain=chain) as signer:
        assert signer.alg is alg
        out = sign(make_clip("mp4"), tmp_path / "signed.mp4", signer=signer).output
    report = verify(out, trust=_trust(token))
    assert report.verdict is Verdict.VERIFIED, report.status
    assert (
        report.signer is not None
        and report.signer.common_name == chain[0].subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    )


def test_the_private_key_cannot_leave_the_token(token: Token) -> None:
    lib = pkcs11.lib(MODULE)
    with lib.get_token(token_label=LABEL).open(user_pin=PIN) as session:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="ec-signer")
        assert key[pkcs11.Attribute.SENSITIVE] and not key[pkcs11.Attribute.EXTRACTABLE]
        with pytest.raises(pkcs11.exceptions.PKCS11Error):
            key[pkcs11.Attribute.VALUE]


def test_sign_cli_with_pkcs11_uri_and_pin_env(run, token: Token, make_clip, tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    run.env["TOKEN_PIN"] = PIN
    result = run(
        "sign",
        make_clip("mp4"),
        "-o",
        out,
        "--pkcs11",
        token.uri("rsa-signer", query=""),
        "--pin-env",
        "TOKEN_PIN",
        "--cert",
        token.rsa_chain,
        "--alg",
        "ps256",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["signer"] == "HSM RSA Signer"
    root = tmp_path / "root.pem"
    root.write_bytes(certs.pem(token.ca.root))
    assert run("verify", out, "--trust", root).exit_code == 0


def test_wrong_pin_is_a_one_line_error(run, token: Token, make_clip, tmp_path: Path) -> None:
    result = run(
        "sign",
        make_clip("mp4"),
        "-o",
        tmp_path / "o.mp4",
        "--pkcs11",
        token.uri("ec-signer", "pin-value=0000"),
        "--cert",
        token.ec_chain,
    )
    assert result.exit_code == 6
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "wrong PIN" in lines[0]
    assert "0000" not in result.output and not (tmp_path / "o.mp4").exists()
    with pytest.raises(PassphraseError, match="needs a PIN"):
        Pkcs11Signer.open(token.uri("ec-signer", query=""), chain=certs.read_chain(token.ec_chain))


def test_token_key_and_certificate_must_belong_together(token: Token) -> None:
    with pytest.raises(IdentityError, match="is EC, the certificate's key is RSA"):
        Pkcs11Signer.open(token.uri("ec-signer"), chain=certs.read_chain(token.rsa_chain))
    other = _leaf_for(token.ca, ec.generate_private_key(ec.SECP256R1()).public_key(), "Someone Else")
    with pytest.raises(IdentityError, match="does not belong to the signer certificate"):
        Pkcs11Signer.open(token.uri("ec-signer"), chain=[other, token.ca.issuing])


def test_missing_key_token_or_module(token: Token, tmp_path: Path) -> None:
    chain = certs.read_chain(token.ec_chain)
    with pytest.raises(IdentityError, match="no private key object=nope"):
        Pkcs11Signer.open(token.uri("nope"), chain=chain)
    with pytest.raises(IdentityError, match="no PKCS#11 token labelled 'other'"):
        Pkcs11Signer.open(f"pkcs11:token=other;object=x?module-path={MODULE}&pin-value={PIN}", chain=chain)
    with pytest.raises(IdentityError, match="module .* not found"):
        Pkcs11Signer.open("pkcs11:token=x;object=y?module-path=/nonexistent/lib.so", chain=chain)
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN + "\n")
    with Pkcs11Signer.open(token.uri("ec-signer", f"pin-source=file://{pin_file}"), chain=chain) as signer:
        assert len(signer.sign(b"data")) == 64  # r||s for P-256


def test_uri_parsing() -> None:
    uri = Pkcs11Uri.parse(
        "pkcs11:token=My%20Token;object=jane;id=%01%a0;type=private?pin-value=12%2034&module-path=/m.so"
    )
    assert (uri.token, uri.object, uri.id, uri.pin_value, uri.module_path) == (
        "My Token",
        "jane",
        b"\x01\xa0",
        "12 34",
        "/m.so",
    )
    assert "12 34" not in repr(uri) and "12 34" not in uri.describe()
    for bad, match in [
        ("token=x", "not a pkcs11: URI"),
        ("pkcs11:token=x", "names no key"),
        ("pkcs11:object=x;colour=red", "unknown"),
        ("pkcs11:object=x;type=public", "cannot sign"),
        ("pkcs11:object=x?module-name=softhsm2", "module-name"),
    ]:
        with pytest.raises(UsageError, match=match):
            Pkcs11Uri.parse(bad)


@pytest.mark.parametrize("obj", ["ec-signer", "rsa-signer"])
def test_org_ca_certifies_a_token_key_from_a_request_signed_in_the_token(
    run, token: Token, obj: str, make_clip, tmp_path: Path
) -> None:
    ca = tmp_path / "ca"
    assert run("keys", "ca", "init", "--dir", ca, "--org", "HSM Org", "--country", "US").exit_code == 0
    run.env["TOKEN_PIN"] = PIN
    uri = token.uri(obj, query="")
    req = run(
        "keys",
        "request",
        "--pkcs11",
        uri,
        "--pin-env",
        "TOKEN_PIN",
        "--name",
        "Desk Camera 7",
        "--org",
        "HSM Org",
        "--country",
        "US",
        "--email",
        "desk7@hsm.example",
        "--dir",
        tmp_path / "k",
    )
    assert req.exit_code == 0, req.output
    assert not (tmp_path / "k" / "signer.key").exists()  # the key stays in the token
    chain = tmp_path / "k" / "chain.pem"
    assert run("keys", "issue", tmp_path / "k" / "signer.csr", "--ca", ca, "-o", chain).exit_code == 0
    out = tmp_path / "o.mp4"
    signed = run("sign", make_clip("mp4"), "-o", out, "--pkcs11", uri, "--pin-env", "TOKEN_PIN", "--cert", chain)
    assert signed.exit_code == 0, signed.output
    verified = run("verify", out, "--trust", ca / "root-ca.pem", "--json")
    report = json.loads(verified.output)
    assert report["verdict"] == "verified" and report["signer"]["common_name"] == "Desk Camera 7"
    assert report["signer"]["email"] == "desk7@hsm.example"


def test_token_key_signs_a_sidecar_and_an_edit(run, token: Token, signed_clip: Path, tmp_path: Path) -> None:
    """The sidecar route (c2pa-rs signs through the Context's signer) and an
    edit (``remux --pkcs11``) both sign inside the token."""
    from provenance.media.video import make_sample_clip
    from provenance.signing import sign_sidecar

    webm = make_sample_clip(tmp_path / "clip.webm", seconds=1.0, width=96, height=64)
    with Pkcs11Signer.open(token.uri("ec-signer"), chain=certs.read_chain(token.ec_chain)) as signer:
        sidecar = sign_sidecar(webm, signer=signer).output
    report = verify(webm, trust=_trust(token))
    assert report.verdict is Verdict.VERIFIED and report.sidecar == str(sidecar), report.status
    assert report.signer is not None and report.signer.common_name == "HSM EC Signer"

    out = tmp_path / "remuxed.mov"
    edited = run(
        "remux", signed_clip, "-o", out, "--pkcs11", token.uri("rsa-signer"), "--cert", token.rsa_chain, "--json"
    )
    assert edited.exit_code == 0, edited.output
    assert json.loads(edited.output)["signer"] == "HSM RSA Signer"
    root = tmp_path / "root.pem"
    root.write_bytes(certs.pem(token.ca.root))
    data = json.loads(run("verify", out, "--trust", root, "--json").output)
    assert data["verdict"] == "verified" and data["signer"]["common_name"] == "HSM RSA Signer"
    assert data["ingredients"][0]["verdict"] == "verified"  # the source, by the dev root of the keys folder


def test_batch_sign_opens_the_token_in_each_worker(token: Token, make_clip, tmp_path: Path) -> None:
    """`sign FOLDER -o OUT -j 2 --pkcs11`: each worker process logs in to the
    token itself, with the PIN read from the variable --pin-env names (the
    PIN is never sent to the workers). Run as a user would, in a process of
    its own, so the workers see this test's SoftHSM2 configuration."""
    import sys

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mov"):
        make_clip(name.rsplit(".", 1)[1], name=f"in/{name}")
    out, log = tmp_path / "out", tmp_path / "sign.jsonl"
    env = {
        **os.environ,
        "SOFTHSM2_CONF": str(token.conf),
        "TOKEN_PIN": PIN,
        "PROVENANCE_KEYS_DIR": str(tmp_path / "no-keys"),
        "COLUMNS": "200",
    }
    command = [
        sys.executable,
        "-c",
        "from provenance.cli import main; raise SystemExit(main())",
        "sign",
        folder,
        "-o",
        out,
        "-j",
        "2",
        "--pkcs11",
        token.uri("ec-signer", query=""),
        "--pin-env",
        "TOKEN_PIN",
        "--cert",
        token.ec_chain,
        "--jsonl",
        log,
        "-q",
    ]
    done = subprocess.run([str(c) for c in command], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(Path(r["output"]).name for r in records) == ["a.mp4", "b.mp4", "c.mov"]
    assert all(r["signer"] == "HSM EC Signer" and r["error"] is None for r in records)
    for record in records:
        report = verify(Path(record["output"]), trust=_trust(token))
        assert report.verdict is Verdict.VERIFIED, report.status
    assert PIN not in done.stdout + done.stderr

    env.pop("TOKEN_PIN")
    unset = subprocess.run(
        [str(c) for c in command] + ["--force"], env=env, capture_output=True, text=True, timeout=300
    )
    assert unset.returncode == 2 and unset.stderr.startswith("error: environment variable TOKEN_PIN is not set")
    assert len(unset.stderr.strip().splitlines()) == 1
