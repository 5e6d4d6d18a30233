"""The external signer command (the cloud KMS seam), run for real with a
small script that signs with a key file, and its failure modes."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from provenance.errors import IdentityError, UsageError
from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm
from provenance.identity.external import ExternalSigner
from provenance.identity.keys import write_private_key
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustSource, TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.certfactory import MiniCA

SCRIPT = Path(__file__).resolve().parent.parent / "sign_with_key_file.py"


@pytest.fixture(scope="module")
def kms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A 'KMS' key (a key file only the script reads) and its chain, EC and RSA."""
    home = tmp_path_factory.mktemp("kms")
    ca = MiniCA.make("KMS Org")
    out: dict[str, object] = {"ca": ca, "home": home}
    for name, key in (("ec", None), ("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048))):
        key, leaf = ca.leaf(key)
        write_private_key(home / f"{name}.key", key)
        (home / f"{name}-chain.pem").write_bytes(certs.pem(leaf, ca.issuing))
    return out


def _command(kms: dict[str, object], name: str, *flags: str) -> str:
    home = kms["home"]
    return shlex.join([sys.executable, str(SCRIPT), str(home / f"{name}.key"), *flags])  # type: ignore[operator]


def _chain(kms: dict[str, object], name: str) -> list:
    return certs.read_chain(kms["home"] / f"{name}-chain.pem")  # type: ignore[operator]


@pytest.mark.parametrize(
    "name, flags, alg", [("ec", ("--der",), SigningAlgorithm.ES256), ("rsa", (), SigningAlgorithm.PS256)]
)
def test_command_signs_a_clip_that_verifies(
    kms, name: str, flags: tuple[str, ...], alg: SigningAlgorithm, make_clip, tmp_path: Path
) -> None:
    signer = ExternalSigner(_command(kms, name, *flags), chain=_chain(kms, name))
    assert signer.alg is alg
    out = sign(make_clip("mp4"), tmp_path / "s.mp4", signer=signer).output
    trust = TrustStore().with_source(TrustSource("kms root", SourceKind.ANCHORS, (kms["ca"].root,)))
    assert verify(out, trust=trust).verdict is Verdict.VERIFIED


def test_sign_cli_with_signer_command(run, kms, make_clip, tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    result = run(
        "sign",
        make_clip("mp4"),
        "-o",
        out,
        "--signer-command",
        _command(kms, "ec"),
        "--cert",
        kms["home"] / "ec-chain.pem",
        "--alg",
        "es256",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["signer"] == "Test Creator"


@pytest.mark.parametrize(
    "flags, match",
    [
        (("--fail",), "failed with exit status 3: kms: AccessDeniedException"),
        (("--empty",), "returned no signature"),
    ],
)
def test_command_failures_are_one_line_errors(run, kms, flags, match, make_clip, tmp_path: Path) -> None:
    result = run(
        "sign",
        make_clip("mp4"),
        "-o",
        tmp_path / "o.mp4",
        "--signer-command",
        _command(kms, "ec", *flags),
        "--cert",
        kms["home"] / "ec-chain.pem",
    )
    assert result.exit_code == 6
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and match in lines[0], result.output
    assert not (tmp_path / "o.mp4").exists()


def test_a_hanging_command_times_out(kms) -> None:
    signer = ExternalSigner(_command(kms, "ec", "--sleep", "60"), chain=_chain(kms, "ec"), timeout=0.5)
    with pytest.raises(IdentityError, match="did not answer within 0.5 s"):
        signer.sign(b"claim bytes")


def test_a_signature_from_another_key_is_caught(kms) -> None:
    signer = ExternalSigner(_command(kms, "ec"), chain=_chain(kms, "rsa"), alg=SigningAlgorithm.PS256)
    with pytest.raises(IdentityError, match="does not verify with the signer certificate"):
        signer.sign(b"claim bytes")


def test_bad_command_or_algorithm(kms) -> None:
    with pytest.raises(IdentityError, match="not found"):
        ExternalSigner("/nonexistent/kms-sign", chain=_chain(kms, "ec")).sign(b"x")
    with pytest.raises(IdentityError, match="does not fit the certificate's key"):
        ExternalSigner(_command(kms, "ec"), chain=_chain(kms, "ec"), alg=SigningAlgorithm.PS256)
    with pytest.raises(UsageError, match="cannot be parsed"):
        ExternalSigner("kms 'unclosed", chain=_chain(kms, "ec"))


def test_cli_option_conflicts(run, kms, make_clip, tmp_path: Path) -> None:
    clip = make_clip("mp4")
    both = run(
        "sign",
        clip,
        "-o",
        tmp_path / "o.mp4",
        "--signer-command",
        "x",
        "--pkcs11",
        "pkcs11:object=k",
        "--cert",
        kms["home"] / "ec-chain.pem",
    )
    assert both.exit_code == 2 and "exclude each other" in both.output
    no_cert = run("sign", clip, "-o", tmp_path / "o.mp4", "--signer-command", "x")
    assert no_cert.exit_code == 2 and "needs --cert" in no_cert.output
    stray = run("sign", clip, "-o", tmp_path / "o.mp4", "--alg", "es256")
    assert stray.exit_code == 2 and "--alg applies to" in stray.output


def test_sidecars_and_edits_sign_with_a_signer_command_and_a_tsa(
    run, kms, tsa, tsa_identity, signed_clip: Path, tmp_path: Path
) -> None:
    from provenance.media.video import make_sample_clip
    from tests.conftest import sha256

    backend = [
        "--signer-command",
        _command(kms, "ec", "--der"),
        "--cert",
        kms["home"] / "ec-chain.pem",
        "--tsa",
        tsa.url,
    ]
    root, tsa_root = tmp_path / "kms-root.pem", tmp_path / "tsa-root.pem"
    root.write_bytes(certs.pem(kms["ca"].root))  # type: ignore[attr-defined]
    tsa_root.write_bytes(tsa_identity.root_pem)

    webm = make_sample_clip(tmp_path / "clip.webm", seconds=1.0, width=96, height=64)
    before = sha256(webm)
    signed = run("sign", webm, "--sidecar", *backend, "--json")
    assert signed.exit_code == 0, signed.output
    result = json.loads(signed.output)
    assert result["mode"] == "sidecar" and result["signer"] == "Test Creator"
    assert result["timestamp_authority"] == "Test Time Authority TSA" and result["timestamped_at"]
    assert sha256(webm) == before
    report = json.loads(run("verify", webm, "--trust", root, "--tsa-trust", tsa_root, "--json").output)
    assert report["verdict"] == "verified" and report["credentials_source"] == "sidecar"
    assert report["time_source"] == "trusted_timestamp"

    out = tmp_path / "trimmed.mp4"
    edited = run("trim", signed_clip, "-o", out, "--end", "0.5", *backend, "--json")
    assert edited.exit_code == 0, edited.output
    assert json.loads(edited.output)["timestamp_authority"] == "Test Time Authority TSA"
    report = json.loads(run("verify", out, "--trust", root, "--tsa-trust", tsa_root, "--json").output)
    assert report["verdict"] == "verified" and report["signer"]["common_name"] == "Test Creator"
    assert report["timestamped"] is True and report["ingredients"][0]["verdict"] == "verified"


def test_a_failing_signer_command_in_an_edit_or_sidecar_is_a_one_line_error(
    run, kms, signed_clip: Path, tmp_path: Path
) -> None:
    backend = ["--signer-command", _command(kms, "ec", "--fail"), "--cert", kms["home"] / "ec-chain.pem"]
    for args, written in (
        (["transcode", signed_clip, "-o", tmp_path / "t.mp4", "--height", "64"], tmp_path / "t.mp4"),
        (["sign", signed_clip, "--sidecar"], signed_clip.with_suffix(".c2pa")),
    ):
        result = run(*args, *backend)
        assert result.exit_code == 6, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "AccessDeniedException" in lines[0], result.output
        assert not written.exists()


def test_batch_sign_with_a_signer_command_in_two_workers(run, kms, make_clip, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.mp4", "b.mov"):
        make_clip(name.rsplit(".", 1)[1], name=f"in/{name}")
    out = tmp_path / "out"
    result = run(
        "sign",
        folder,
        "-o",
        out,
        "-j",
        "2",
        "--signer-command",
        _command(kms, "rsa"),
        "--cert",
        kms["home"] / "rsa-chain.pem",
        "--jsonl",
        "-",
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(Path(r["output"]).name for r in records) == ["a.mp4", "b.mov"]
    trust = TrustStore().with_source(TrustSource("kms root", SourceKind.ANCHORS, (kms["ca"].root,)))
    for record in records:
        report = verify(Path(record["output"]), trust=trust)
        assert report.verdict is Verdict.VERIFIED and report.signer.common_name == "Test Creator"

    failing = run(
        "sign",
        folder,
        "-o",
        tmp_path / "out2",
        "-j",
        "2",
        "--signer-command",
        _command(kms, "ec", "--fail"),
        "--cert",
        kms["home"] / "ec-chain.pem",
    )
    # each file is recorded as failed, with the command's own reason; the batch goes on
    assert failing.exit_code == 6, failing.output
    assert "Failures (2)" in failing.stdout and failing.stdout.count("AccessDeniedException") == 2
    assert not any((tmp_path / "out2").rglob("*.*"))
