""" "Is this clip really from X?": an organisation CA issues identities to
two creators; each verifies as itself, and expecting the other one is a
loud ``wrong_signer`` (exit 7)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.errors import ExitCode, UsageError
from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm, generate_key
from provenance.identity.keys import write_private_key
from provenance.identity.signer import KeySigner
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustSource, TrustStore
from provenance.verification.policy import (
    AllOf,
    AnyOf,
    ExpectIssuer,
    ExpectOrganization,
    ExpectSigner,
    PolicyError,
    RequireTimestamp,
)
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.support import flat


@dataclass
class Creator:
    name: str
    email: str
    signer: KeySigner
    key_file: Path
    chain_file: Path


@dataclass
class Organisation:
    root_pem: Path
    store: TrustStore
    alice: Creator
    bob: Creator
    stray: Creator  # issued by the same org's second issuing CA, whose root nobody added


def _creator(directory: Path, name: str, email: str, issuing: certs.x509.Certificate, issuing_key, org: str) -> Creator:
    key = generate_key(SigningAlgorithm.ES256)
    leaf = certs.claim_signing_leaf(certs.Subject(name, org, "GB", email=email), key.public_key(), issuing, issuing_key)
    slug = name.split()[0].lower()
    key_file, chain_file = directory / f"{slug}.key", directory / f"{slug}.chain.pem"
    write_private_key(key_file, key)
    chain_file.write_bytes(certs.pem(leaf, issuing))
    return Creator(name, email, KeySigner(key, chain=[leaf, issuing]), key_file, chain_file)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Organisation:
    d = tmp_path_factory.mktemp("acme")
    root_key = generate_key(SigningAlgorithm.ES384)
    root = certs.root_ca(certs.Subject("Acme News Root CA", "Acme News", "GB"), root_key)
    issuing_key = generate_key(SigningAlgorithm.ES384)
    issuing = certs.issuing_ca(
        certs.Subject("Acme News Issuing CA", "Acme News", "GB"), issuing_key.public_key(), root, root_key
    )
    # A second hierarchy of the same organisation (say, a test CA) that was never added to any trust store.
    other_root_key = generate_key(SigningAlgorithm.ES384)
    other_root = certs.root_ca(certs.Subject("Acme News Lab Root CA", "Acme News", "GB"), other_root_key)
    other_key = generate_key(SigningAlgorithm.ES384)
    other = certs.issuing_ca(
        certs.Subject("Acme News Lab Issuing CA", "Acme News", "GB"), other_key.public_key(), other_root, other_root_key
    )
    root_pem = d / "acme-root.pem"
    root_pem.write_bytes(certs.pem(root))
    return Organisation(
        root_pem=root_pem,
        store=TrustStore().with_source(
            TrustSource.from_pem(certs.pem(root), kind=SourceKind.ANCHORS, name="acme-newsroom")
        ),
        alice=_creator(d, "Alice Archer", "alice@acme.example", issuing, issuing_key, "Acme News"),
        bob=_creator(d, "Bob Baker", "bob@acme.example", issuing, issuing_key, "Acme News"),
        stray=_creator(d, "Carol Lab", "carol@acme.example", other, other_key, "Acme News"),
    )


@pytest.fixture(scope="module")
def clips(org: Organisation, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from provenance.media.video import make_sample_clip

    d = tmp_path_factory.mktemp("acme-clips")
    source = make_sample_clip(d / "raw.mp4", seconds=0.5)
    return {
        c.name: sign(source, d / f"{c.name.split()[0].lower()}.mp4", signer=c.signer).output
        for c in (org.alice, org.bob, org.stray)
    }


def test_each_creator_verifies_as_itself(org: Organisation, clips: dict[str, Path]) -> None:
    for creator in (org.alice, org.bob):
        report = verify(clips[creator.name], trust=org.store, policy=ExpectSigner(creator.name))
        assert report.verdict is Verdict.VERIFIED, report.policy_failures
        assert report.signer.common_name == creator.name and report.signer.trusted_by == "acme-newsroom"
        assert report.policy_failures == ()
        # by e-mail SAN too, case-insensitively
        assert (
            verify(clips[creator.name], trust=org.store, policy=ExpectSigner(creator.email.upper())).verdict
            is Verdict.VERIFIED
        )


def test_expecting_the_other_creator_is_wrong_signer(org: Organisation, clips: dict[str, Path]) -> None:
    report = verify(clips[org.alice.name], trust=org.store, policy=ExpectSigner(org.bob.name))
    assert report.verdict is Verdict.WRONG_SIGNER and report.exit_code == ExitCode.WRONG_SIGNER == 7
    assert report.signer.common_name == "Alice Archer"  # who actually signed
    assert report.policy_failures == ("expected signer 'Bob Baker', but it was signed by Alice Archer (Acme News)",)
    assert report.to_dict()["verdict"] == "wrong_signer"
    # exact match: no substring, no case folding of names
    assert verify(clips[org.alice.name], trust=org.store, policy=ExpectSigner("Alice")).verdict is Verdict.WRONG_SIGNER
    assert (
        verify(clips[org.alice.name], trust=org.store, policy=ExpectSigner("alice archer")).verdict
        is Verdict.WRONG_SIGNER
    )


def test_organisation_and_issuer_expectations(org: Organisation, clips: dict[str, Path]) -> None:
    clip = clips[org.bob.name]
    ok = AllOf(
        [ExpectOrganization("Acme News"), ExpectIssuer("Acme News Issuing CA"), ExpectSigner("bob@acme.example")]
    )
    assert verify(clip, trust=org.store, policy=ok).verdict is Verdict.VERIFIED
    assert verify(clip, trust=org.store, policy=ExpectIssuer("Acme News")).verdict is Verdict.VERIFIED  # issuer O
    report = verify(clip, trust=org.store, policy=AllOf([ExpectOrganization("Globex"), ExpectIssuer("Globex CA")]))
    assert report.verdict is Verdict.WRONG_SIGNER
    assert len(report.policy_failures) == 2
    assert "'Globex'" in report.policy_failures[0] and "'Acme News'" in report.policy_failures[0]
    assert "issued by 'Acme News Issuing CA'" in report.policy_failures[1]


def test_any_of_and_empty_lists(org: Organisation, clips: dict[str, Path]) -> None:
    either = AnyOf([ExpectSigner(org.alice.name), ExpectSigner(org.bob.name)])
    assert verify(clips[org.bob.name], trust=org.store, policy=either).verdict is Verdict.VERIFIED
    neither = AnyOf([ExpectSigner("Mallory"), ExpectSigner("Trent")])
    report = verify(clips[org.bob.name], trust=org.store, policy=neither)
    assert report.verdict is Verdict.WRONG_SIGNER and report.policy_failures[0].startswith(
        "none of the expectations holds"
    )
    with pytest.raises(UsageError, match="at least one policy"):
        AllOf([])
    with pytest.raises(UsageError, match="at least one policy"):
        AnyOf([])
    with pytest.raises(UsageError, match="empty"):
        ExpectSigner("  ")


def test_policy_verify_raises_with_exit_code_7(org: Organisation, clips: dict[str, Path]) -> None:
    report = verify(clips[org.alice.name], trust=org.store)
    ExpectSigner(org.alice.name).verify(report)
    with pytest.raises(PolicyError) as info:
        ExpectSigner(org.bob.name).verify(report)
    assert info.value.exit_code == 7 and "Alice Archer" in str(info.value)


def test_require_timestamp_fails_without_one(org: Organisation, clips: dict[str, Path]) -> None:
    report = verify(clips[org.alice.name], trust=org.store, policy=RequireTimestamp())
    assert report.verdict is Verdict.WRONG_SIGNER
    assert "signer's own clock" in report.policy_failures[0]


def test_same_org_ca_never_added_is_untrusted(org: Organisation, clips: dict[str, Path]) -> None:
    report = verify(clips[org.stray.name], trust=org.store, policy=ExpectOrganization("Acme News"))
    # the certificate does say "Acme News", but nobody vouches for it: untrusted, not verified
    assert report.verdict is Verdict.UNTRUSTED and report.exit_code == 3
    assert report.signer.organization == "Acme News" and report.signer.trusted_by is None
    assert report.policy_failures == ()


def test_cli_expect_signer_exit_7_and_card_shows_real_signer(run, org: Organisation, clips: dict[str, Path]) -> None:
    clip = clips[org.alice.name]
    ok = run("verify", clip, "--trust", org.root_pem, "--expect-signer", "Alice Archer", "--expect-org", "Acme News")
    assert ok.exit_code == 0, ok.output
    wrong = run("verify", clip, "--trust", org.root_pem, "--expect-signer", "Bob Baker")
    assert wrong.exit_code == 7, wrong.output
    card = flat(wrong.output)
    assert card.startswith("✗ WRONG SIGNER")
    assert "Signed by Alice Archer (Acme News)" in card
    assert "Policy expected signer 'Bob Baker', but it was signed by Alice Archer (Acme News)" in card
    as_json = run("verify", clip, "--trust", org.root_pem, "--expect-issuer", "Nope CA", "--json")
    assert as_json.exit_code == 7
    data = json.loads(as_json.output)
    assert data["verdict"] == "wrong_signer" and data["signer"]["common_name"] == "Alice Archer"
    assert data["signer"]["subject"]["CN"] == ["Alice Archer"] and data["signer"]["emails"] == ["alice@acme.example"]
    assert data["policy_failures"] == [
        "expected issuer 'Nope CA', but the signer's certificate was issued by 'Acme News Issuing CA'"
    ]
    # an empty expectation is a usage error, not a silent pass
    empty = run("verify", clip, "--trust", org.root_pem, "--expect-signer", "")
    assert empty.exit_code == 2 and "empty" in empty.output


def test_impersonation_is_loud(run, make_clip, tmp_path: Path) -> None:
    """A certificate that says "Tom Cruise" but chains to nothing trusted."""
    key = generate_key(SigningAlgorithm.ES256)
    root_key = generate_key(SigningAlgorithm.ES384)
    root = certs.root_ca(certs.Subject("Totally Legit Root", "Paramount Pictures", "US"), root_key)
    ica_key = generate_key(SigningAlgorithm.ES384)
    ica = certs.issuing_ca(
        certs.Subject("Totally Legit CA", "Paramount Pictures", "US"), ica_key.public_key(), root, root_key
    )
    leaf = certs.claim_signing_leaf(
        certs.Subject("Tom Cruise", "Paramount Pictures", "US"), key.public_key(), ica, ica_key
    )
    clip = sign(make_clip("mp4"), tmp_path / "tom.mp4", signer=KeySigner(key, chain=[leaf, ica])).output

    report = verify(clip, policy=ExpectSigner("Tom Cruise"))
    assert report.verdict is Verdict.UNTRUSTED  # the name matches, but nobody vouches: never "verified"
    result = run("verify", clip, "--expect-signer", "Tom Cruise", "--no-trust-store")
    assert result.exit_code == 3
    # the first thing inside the card, right after the badge
    assert flat(result.output).startswith(
        "? UNTRUSTED ⚠ claims to be Tom Cruise (Paramount Pictures); no trusted authority vouches for this"
    ), result.output
    from provenance.cli.render import headline

    assert "claims to be Tom Cruise (Paramount Pictures); no trusted authority vouches for this" in headline(report)


def test_a_missing_time_stamp_is_not_called_a_wrong_signer(run, signed_clip) -> None:
    result = run("verify", signed_clip, "--expect-signer", "Jane Doe", "--require-timestamp")
    assert result.exit_code == 7
    assert "NOT TIME-STAMPED" in result.output and "WRONG SIGNER" not in result.output
    assert "not the one you expected" not in result.output
    doc = json.loads(run("verify", signed_clip, "--require-timestamp", "--json").output)
    assert doc["verdict"] == "wrong_signer" and doc["policy_unmet"] == ["timestamp"]
    both = json.loads(run("verify", signed_clip, "--expect-signer", "Tom", "--require-timestamp", "--json").output)
    assert both["policy_unmet"] == ["signer", "timestamp"]
    assert "WRONG SIGNER" in run("verify", signed_clip, "--expect-signer", "Tom", "--require-timestamp").output


def test_a_signer_that_differs_only_in_case_says_matching_is_exact(run, signed_clip) -> None:
    result = run("verify", signed_clip, "--expect-signer", "jane doe", "--json")
    doc = json.loads(result.output)
    assert doc["verdict"] == "wrong_signer"
    assert "matching is exact: the certificate says 'Jane Doe'" in doc["policy_failures"][0]
