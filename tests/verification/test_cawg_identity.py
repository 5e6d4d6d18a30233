"""CAWG identity assertions end to end (issue 10, part 1): real clips
signed with a CAWG X.509 identity (by ``provenance sign --identity-key``,
or by c2pa-rs directly for a mismatched credential), real certificates,
real c2pa; verified by provenance, and by c2pa-rs's own settings alone."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from provenance.credentials.cose import IdentitySignature
from provenance.credentials.model import parse_store
from provenance.errors import UsageError
from provenance.identity.cawg import CawgIdentity
from provenance.identity.certificates import Subject
from provenance.identity.pki import DevPKI, init_dev_pki
from provenance.identity.signer import KeySigner
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustStore
from provenance.verification.report import IdentityStatus, Verdict
from provenance.verification.verifier import verify
from tests.support.cawg import sign_with_cawg_identity

KMS_SCRIPT = Path(__file__).resolve().parents[1] / "sign_with_key_file.py"


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> DevPKI:
    return init_dev_pki(
        tmp_path_factory.mktemp("editor"), subject=Subject("Ed Itor", "Other Desk", "GB", email="ed@other.example")
    )


@pytest.fixture(scope="module")
def identity_clip(tmp_path_factory: pytest.TempPathFactory, pki: DevPKI, editor: DevPKI) -> Path:
    """Signed by Jane Doe (C2PA) with Ed Itor's CAWG identity, by provenance."""
    from provenance.media.video import make_sample_clip

    work = tmp_path_factory.mktemp("identity")
    clip = make_sample_clip(work / "clip.mp4", seconds=1.0)
    identity = CawgIdentity.from_files(key=editor.signer_key, cert=editor.chain)
    signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain)
    result = sign(clip, work / "signed.mp4", signer=signer, identity=identity)
    assert result.identity == "Ed Itor" and result.method == "c2pa-rs"
    return result.output


def _trust(pki: DevPKI, editor: DevPKI | None = None) -> TrustStore:
    store = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.ANCHORS, name="newsroom")
    if editor is not None:
        store = store.with_pem_file(editor.root_cert, kind=SourceKind.CAWG, name="desk-identities")
    return store


def test_a_trusted_identity(identity_clip: Path, pki: DevPKI, editor: DevPKI) -> None:
    report = verify(identity_clip, trust=_trust(pki, editor))
    assert report.verdict is Verdict.VERIFIED and report.signer.common_name == "Jane Doe"
    [identity] = report.identities
    assert identity.status is IdentityStatus.TRUSTED and identity.name == "Ed Itor"
    assert identity.trusted_by == "desk-identities" and identity.credential.email == "ed@other.example"
    assert {"c2pa.actions.v2", "cawg.metadata"} <= set(identity.covers)  # the actions and the creative work
    assert not report.warnings and not identity.problems


def test_an_untrusted_identity_leaves_the_verdict_alone(identity_clip: Path, pki: DevPKI) -> None:
    report = verify(identity_clip, trust=_trust(pki))
    assert report.verdict is Verdict.VERIFIED
    [identity] = report.identities
    assert identity.status is IdentityStatus.UNTRUSTED and identity.trusted_by is None
    assert [s.code for s in report.warnings] == ["cawg.x509.credential.untrusted"]


def test_identity_and_signer_anchors_stay_apart(identity_clip: Path, pki: DevPKI, editor: DevPKI) -> None:
    # the identity's root as a claim-signer anchor vouches for no identity
    mixed = _trust(pki).with_pem_file(editor.root_cert, kind=SourceKind.ANCHORS, name="desk")
    assert verify(identity_clip, trust=mixed).identities[0].status is IdentityStatus.UNTRUSTED
    # and the signer's root as a cawg source vouches for no C2PA signer
    only_cawg = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.CAWG, name="wrong")
    only_cawg = only_cawg.with_pem_file(editor.root_cert, kind=SourceKind.CAWG, name="desk-identities")
    report = verify(identity_clip, trust=only_cawg)
    assert report.verdict is Verdict.UNTRUSTED and report.identities[0].status is IdentityStatus.TRUSTED
    # (c2pa-rs 0.91.3 itself lets a cawg anchor vouch for a claim signer: provenance does not)
    assert any("wrong, a CAWG identity list" in n for n in report.notes)


def test_a_broken_identity_leaves_the_verdict_alone(pki: DevPKI, editor: DevPKI, make_clip, tmp_path: Path) -> None:
    # Jane's key signs the identity assertion under Ed's certificate
    clip = sign_with_cawg_identity(make_clip(), tmp_path / "broken.mp4", pki=pki, identity=editor, identity_key=pki)
    report = verify(clip, trust=_trust(pki, editor))
    assert report.verdict is Verdict.VERIFIED
    [identity] = report.identities
    assert identity.status is IdentityStatus.BROKEN and identity.trusted_by is None
    assert "cawg.x509.signature.mismatch" in [s.code for s in identity.problems]


def test_changed_identity_bytes_are_a_changed_claim(
    identity_clip: Path, pki: DevPKI, editor: DevPKI, tmp_path: Path
) -> None:
    data = bytearray(identity_clip.read_bytes())
    at = data.index(b"Ed Itor", data.index(b"cawg.identity"))  # the certificate in the identity's signature
    data[at] ^= 0x01
    changed = tmp_path / "changed.mp4"
    changed.write_bytes(bytes(data))
    report = verify(changed, trust=_trust(pki, editor))
    # the C2PA claim hashed the identity assertion: the claim no longer matches
    assert report.verdict is Verdict.TAMPERED
    assert "assertion.hashedURI.mismatch" in [s.code for s in report.failures]


def test_c2pa_rs_settings_alone_trust_the_identity(identity_clip: Path, pki: DevPKI, editor: DevPKI) -> None:
    import c2pa

    anchors = [{"trust_anchors": editor.root_cert.read_text(), "trust_kind": "cawg"}]
    context = c2pa.Context.from_dict({"trust": {"trust_anchors": pki.root_cert.read_text(), "anchors": anchors}})
    with open(identity_clip, "rb") as fh, c2pa.Reader("video/mp4", fh, context=context) as reader:
        data = json.loads(reader.json())
    results = data["validation_results"]["activeManifest"]
    assert "cawg.x509.credential.trusted" in [s["code"] for s in results["success"]]
    assert "signingCredential.trusted" in [s["code"] for s in results["success"]]
    assert not [s for s in results["failure"]]
    manifest = data["manifests"][data["active_manifest"]]
    [assertion] = [a for a in manifest["assertions"] if a["label"] == "cawg.identity"]
    covered = [r["url"].rsplit("/", 1)[-1] for r in assertion["data"]["signer_payload"]["referenced_assertions"]]
    assert {"c2pa.actions.v2", "cawg.metadata"} <= set(covered)
    assert assertion["data"]["signature_info"]["common_name"] == "Ed Itor"


# --- expectations --------------------------------------------------------------------------


def test_a_trusted_identity_meets_expect_signer_and_the_card_says_so(run, identity_clip: Path, editor: DevPKI) -> None:
    result = run("verify", identity_clip, "--cawg-trust", editor.root_cert, "--expect-signer", "ed@other.example")
    assert result.exit_code == 0, result.output
    assert "Identity    ✔ Ed Itor (Other Desk) (trusted" in result.output
    assert "signer met by the CAWG identity" in result.output
    data = json.loads(
        run("verify", identity_clip, "--cawg-trust", editor.root_cert, "--expect-org", "Example News", "--json").output
    )
    assert data["policy_matched"] == {"organization": "c2pa_signer"} and data["identities"][0]["status"] == "trusted"


def test_an_untrusted_identity_never_meets_expect_signer(run, identity_clip: Path) -> None:
    result = run("verify", identity_clip, "--expect-signer", "Ed Itor")
    assert result.exit_code == 7, result.output
    assert "? claims to be Ed Itor (Other Desk) (untrusted" in result.output
    assert "its CAWG identity is not trusted" in result.output


# --- signing -----------------------------------------------------------------------------------


def test_sign_json_names_the_identity(run, make_clip, editor: DevPKI, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    result = run(
        "sign", make_clip(), "-o", out, "--identity-key", editor.signer_key, "--identity-cert", editor.chain, "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["identity"] == "Ed Itor"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--identity-key", "KEY"], "--identity-key needs --identity-cert"),
        (["--identity-cert", "CERT", "--sidecar"], "--identity-cert needs --identity-key"),
        (["--identity-key", "KEY", "--identity-cert", "CERT", "--sidecar"], "not with --sidecar"),
        (["--identity-key", "KEY", "--identity-cert", "CERT", "--remux"], "not with --remux"),
    ],
)
def test_identity_options_are_checked(run, make_clip, editor: DevPKI, tmp_path: Path, extra, message) -> None:
    args = [str(editor.signer_key) if a == "KEY" else str(editor.chain) if a == "CERT" else a for a in extra]
    result = run("sign", make_clip(), "-o", tmp_path / "out.mp4", *args)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "out.mp4").exists()


def test_a_signer_command_cannot_sign_with_an_identity(
    run, make_clip, pki: DevPKI, editor: DevPKI, tmp_path: Path
) -> None:
    command = shlex.join([sys.executable, str(KMS_SCRIPT), str(pki.signer_key)])
    out = tmp_path / "out.mp4"
    result = run(
        "sign", make_clip(), "-o", out, "--signer-command", command, "--cert", pki.chain,
        "--identity-key", editor.signer_key, "--identity-cert", editor.chain,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "only be added when the C2PA signer is a key file" in result.output
    assert len(result.output.strip().splitlines()) <= 2 and not out.exists()


def test_the_library_refuses_a_mismatched_identity_key(pki: DevPKI, editor: DevPKI) -> None:
    from provenance.errors import IdentityError

    with pytest.raises(IdentityError, match="does not match"):
        CawgIdentity.from_files(key=pki.signer_key, cert=editor.chain)


def test_the_library_refuses_an_identity_with_a_non_key_signer(
    pki: DevPKI, editor: DevPKI, make_clip, tmp_path: Path
) -> None:
    from provenance.identity.certificates import load_pem_chain
    from provenance.identity.external import ExternalSigner

    command = [sys.executable, str(KMS_SCRIPT), str(pki.signer_key)]
    identity = CawgIdentity.from_files(key=editor.signer_key, cert=editor.chain)
    with (
        ExternalSigner(command, chain=load_pem_chain(pki.chain.read_bytes())) as signer,
        pytest.raises(UsageError) as caught,
    ):
        sign(make_clip(), tmp_path / "out.mp4", signer=signer, identity=identity)
    assert caught.value.reason == "identity_needs_key_file" and not (tmp_path / "out.mp4").exists()


# --- the identity-claims-aggregation form, read from the credential it carries ---------------


def test_verified_identities_are_read_from_an_aggregation_credential() -> None:
    credential = {
        "issuer": {"id": "did:web:identity.example"},
        "credentialSubject": {
            "verifiedIdentities": [
                {
                    "type": "cawg.social_media",
                    "username": "janedoe",
                    "uri": "https://social.example/janedoe",
                    "verifiedAt": "2026-11-01T00:00:00Z",
                    "provider": {"id": "https://social.example", "name": "Social"},
                },
                {"name": "no type: not an identity"},
            ]
        },
    }
    url = "self#jumbf=/c2pa/urn:c2pa:1/c2pa.assertions/cawg.identity"
    report = {
        "active_manifest": "urn:c2pa:1",
        "manifests": {
            "urn:c2pa:1": {
                "assertions": [
                    {
                        "label": "cawg.identity",
                        "data": {
                            "signer_payload": {
                                "sig_type": "cawg.identity_claims_aggregation",
                                "referenced_assertions": [{"url": "self#jumbf=c2pa.assertions/c2pa.actions.v2"}],
                            }
                        },
                    }
                ]
            }
        },
        "validation_results": {
            "activeManifest": {"informational": [{"code": "cawg.ica.untrusted_issuer", "url": url}]}
        },
    }
    signature = IdentitySignature((), json.dumps(credential).encode())
    store = parse_store(report, signatures={}, thumbnails={}, identities={"urn:c2pa:1": {"cawg.identity": signature}})
    [identity] = store.active.identities
    assert identity.issuer == "did:web:identity.example" and identity.referenced == ("c2pa.actions.v2",)
    [verified] = identity.verified_identities
    assert (verified.type, verified.username, verified.provider) == ("cawg.social_media", "janedoe", "Social")
    assert [s.code for s in identity.statuses] == ["cawg.ica.untrusted_issuer"]


def test_an_unusable_identity_credential_is_one_line_naming_it(run, make_clip, editor: DevPKI, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key\n")
    for key, cert in ((junk, editor.chain), (editor.signer_key, junk), (tmp_path / "missing.key", editor.chain)):
        result = run("sign", make_clip(), "-o", tmp_path / "out.mp4", "--identity-key", key, "--identity-cert", cert)
        assert result.exit_code == 6, result.output
        assert result.output.startswith("error: CAWG identity credential: ") and len(result.output.splitlines()) == 1
        assert not (tmp_path / "out.mp4").exists()


def test_crjson_does_not_let_a_cawg_root_vouch_for_the_signer(run, identity_clip: Path, pki: DevPKI) -> None:
    result = run("verify", identity_clip, "--no-trust-store", "--cawg-trust", pki.root_cert, "--format", "crjson")
    assert result.exit_code == 3, result.output
    [manifest] = [m for m in json.loads(result.output)["manifests"] if m.get("validationResults")][-1:]
    results = manifest["validationResults"]
    assert "signingCredential.untrusted" in [s["code"] for s in results["failure"]]
    assert "signingCredential.trusted" not in [s["code"] for s in results.get("success", [])]
