"""The verdict rules, one test per rule, on recorded manifest-store models.

The fixtures (``fixtures/*.json``, made by ``python -m
tests.verification.fixtures.record`` from real clips, certificates, c2pa and a
real TSA) hold the model c2pa-rs's report became, the trust store to judge
it by and the verdict the rules must reach. Nothing here imports c2pa or
PyAV (``test_the_rules_need_neither_c2pa_nor_pyav`` checks it), so these
run in well under a second.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from provenance.credentials.model import IngredientLink, Manifest, ManifestStore, Status, StatusKind
from provenance.trust.store import SourceKind, TrustSource, TrustStore
from provenance.verification import rules
from provenance.verification.policy import ExpectSigner, RequireTimestamp
from provenance.verification.report import Ingredient, SignerIdentity, Verdict, VerificationReport
from provenance.verification.rules import Effect

FIXTURES = Path(__file__).parent / "fixtures"


@cache
def _doc(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def fixture(name: str) -> tuple[ManifestStore, TrustStore, dict[str, Any]]:
    doc = _doc(name)
    trust = TrustStore(
        tuple(TrustSource.from_pem(s["pem"].encode(), kind=SourceKind(s["kind"]), name=s["name"]) for s in doc["trust"])
    )
    return ManifestStore.from_dict(doc["store"]), trust, doc["expected"]


def fail(code: str) -> Status:
    return Status(code, StatusKind.FAILURE, "")


def ok(code: str) -> Status:
    return Status(code, StatusKind.SUCCESS, "")


ALL = [
    "trusted",
    "untrusted",
    "pinned",
    "tsa_only",
    "tampered",
    "timestamped",
    "timestamp_not_from_tsa_list",
    "chain",
    "cawg_untrusted",
    "cawg_trusted",
    "cawg_broken",
]


@pytest.mark.parametrize("name", ALL)
def test_each_recorded_store_gets_the_verdict_its_recording_expects(name: str) -> None:
    store, trust, expected = fixture(name)
    assert store.active is not None
    judged = rules.judge(store.active, trust)
    assert judged.verdict.value == expected["verdict"], _doc(name)["about"]


def test_the_model_round_trips_through_json() -> None:
    store, _, _ = fixture("chain")
    again = ManifestStore.from_dict(json.loads(json.dumps(store.to_dict())))
    assert again == store and again.active is not None and again.active.signature.chain == store.active.signature.chain


# --- rule 1: status families ------------------------------------------------


@pytest.mark.parametrize(
    ("code", "effect"),
    [
        ("assertion.bmffHash.mismatch", Effect.TAMPERED),
        ("assertion.dataHash.mismatch", Effect.TAMPERED),
        ("assertion.hashedURI.mismatch", Effect.TAMPERED),
        ("ingredient.manifest.mismatch", Effect.TAMPERED),
        ("signingCredential.untrusted", Effect.UNTRUSTED),
        ("signingCredential.expired", Effect.INVALID),
        ("claimSignature.mismatch", Effect.INVALID),
        ("claim.malformed", Effect.INVALID),
        ("algorithm.unsupported", Effect.INVALID),
        ("timeStamp.untrusted", Effect.TIME),
        ("timeStamp.outsideValidity", Effect.TIME),
        ("cawg.x509.credential.untrusted", Effect.IDENTITY),
        ("cawg.identity.hard_binding_missing", Effect.IDENTITY),
        ("com.example.somethingNew", Effect.UNKNOWN),
        ("assertion.bmffHash.somethingNew", Effect.UNKNOWN),
    ],
)
def test_every_failure_code_has_the_effect_of_its_family(code: str, effect: Effect) -> None:
    assert rules.effect(fail(code)) is effect


def test_success_and_informational_codes_decide_nothing() -> None:
    assert rules.effect(ok("assertion.bmffHash.match")) is None
    assert rules.effect(Status("signingCredential.ocsp.skipped", StatusKind.INFORMATIONAL, "")) is None


def test_an_unknown_failure_code_is_a_warning_not_invalid() -> None:
    store, trust, _ = fixture("trusted")
    assert store.active is not None
    odd = Status("com.example.newCheck", StatusKind.FAILURE, "a check from a newer c2pa-rs")
    judged = rules.judge(store.active, trust, statuses=(*store.active.statuses, odd))
    assert judged.verdict is Verdict.VERIFIED
    assert judged.warnings == (odd,)


def test_a_cawg_identity_problem_never_touches_the_c2pa_verdict() -> None:
    store, trust, expected = fixture("cawg_untrusted")
    assert store.active is not None
    judged = rules.judge(store.active, trust)
    assert judged.verdict is Verdict.VERIFIED
    assert [s.code for s in judged.warnings] == expected["warnings"]
    # ... while a C2PA failure beside it still decides
    bad = rules.judge(store.active, trust, statuses=(*store.active.statuses, fail("assertion.bmffHash.mismatch")))
    assert bad.verdict is Verdict.TAMPERED


# --- rule 2: one manifest --------------------------------------------------------


def test_tampered_beats_invalid_beats_untrusted_and_verified_needs_a_trusted_signer() -> None:
    assert (
        rules.manifest_verdict(
            [fail("signingCredential.untrusted"), fail("assertion.bmffHash.mismatch"), fail("claimSignature.mismatch")]
        )
        is Verdict.TAMPERED
    )
    assert (
        rules.manifest_verdict([fail("signingCredential.untrusted"), fail("signingCredential.expired")])
        is Verdict.INVALID
    )
    assert rules.manifest_verdict([fail("signingCredential.untrusted")]) is Verdict.UNTRUSTED
    assert rules.manifest_verdict([ok("signingCredential.trusted")]) is Verdict.VERIFIED
    assert rules.manifest_verdict([ok("claimSignature.validated")]) is Verdict.UNTRUSTED
    assert rules.manifest_verdict([]) is Verdict.UNTRUSTED


def test_the_deciding_failure_is_the_most_severe() -> None:
    statuses = [fail("signingCredential.untrusted"), fail("timeStamp.untrusted"), fail("assertion.bmffHash.mismatch")]
    decided = rules.deciding_failure(statuses)
    assert decided is not None and decided.code == "assertion.bmffHash.mismatch"
    assert rules.deciding_failure([fail("cawg.x509.credential.untrusted")]) is None


# --- rule 3: pins ---------------------------------------------------------------


def test_a_pinned_leaf_is_trusted_by_provenance_when_c2pa_rs_ignores_the_pin() -> None:
    store, trust, expected = fixture("pinned")
    assert store.active is not None
    assert [s.code for s in store.active.statuses if s.kind is StatusKind.FAILURE] == ["signingCredential.untrusted"]
    judged = rules.judge(store.active, trust)
    assert judged.verdict is Verdict.VERIFIED and judged.trusted_by == expected["trusted_by"]
    assert "checked by provenance" in judged.statuses[0].explanation
    # without the pin the same statuses stay untrusted
    assert rules.judge(store.active, TrustStore()).verdict is Verdict.UNTRUSTED


def test_a_pin_never_rescues_a_tampered_or_invalid_manifest() -> None:
    store, trust, _ = fixture("pinned")
    assert store.active is not None
    for extra in ("assertion.bmffHash.mismatch", "signingCredential.expired"):
        statuses = (*store.active.statuses, fail(extra))
        assert rules.apply_pin(statuses, store.active.signature, trust) == statuses


# --- rule 4: TSA separation -------------------------------------------------------


def test_a_signer_vouched_for_only_by_a_tsa_root_is_untrusted() -> None:
    store, trust, expected = fixture("tsa_only")
    assert store.active is not None
    assert any(s.code == "signingCredential.trusted" for s in store.active.statuses)  # what c2pa-rs said
    judged = rules.judge(store.active, trust)
    assert judged.verdict is Verdict.UNTRUSTED and judged.tsa_only == expected["tsa_only"]
    # the same certificate as an anchors source vouches for the signer
    as_anchor = TrustStore(tuple(replace(s, kind=SourceKind.ANCHORS) for s in trust.sources))
    assert rules.judge(store.active, as_anchor).verdict is Verdict.VERIFIED


# --- rule 5: time-stamps ------------------------------------------------------------


def test_a_time_stamp_is_trusted_only_when_a_tsa_source_vouches_for_it() -> None:
    store, trust, _ = fixture("timestamped")
    assert store.active is not None
    stamp = rules.judge(store.active, trust).timestamp
    assert stamp is not None and stamp.trusted and stamp.trusted_by == "test-tsa"
    assert stamp.authority == "Test Time Authority TSA"
    other, other_trust, expected = fixture("timestamp_not_from_tsa_list")
    assert other.active is not None
    stamp = rules.judge(other.active, other_trust).timestamp
    assert stamp is not None and stamp.trusted is expected["timestamp_trusted"] is False


def test_a_time_stamp_c2pa_rs_did_not_trust_is_not_trusted_by_a_tsa_source_alone() -> None:
    store, trust, _ = fixture("timestamped")
    assert store.active is not None
    without = tuple(s for s in store.active.statuses if s.code != "timeStamp.trusted")
    stamp = rules.judge(store.active, trust, statuses=without).timestamp
    assert stamp is not None and not stamp.trusted


# --- rule 6: ingredients ---------------------------------------------------------------


def test_what_validation_finds_now_replaces_what_the_editor_recorded() -> None:
    store, trust, _ = fixture("chain")
    [node] = store.tree
    assert node.manifest is not None and node.link.relationship == "parentOf"
    assert any(s.code == "signingCredential.trusted" for s in node.link.recorded)  # under the editor's trust
    judged = rules.judge_node(node, trust)
    assert judged.verdict is Verdict.UNTRUSTED  # under this verifier's
    codes = [s.code for s in judged.statuses]
    assert "signingCredential.untrusted" in codes and "signingCredential.trusted" not in codes


def test_the_ingredient_walk_stops_at_cycles_and_at_the_depth_limit() -> None:
    def manifest(label: str, child: str | None) -> Manifest:
        links = (IngredientLink("t", "parentOf", child),) if child else ()
        return Manifest(label=label, ingredients=links)

    cycle = ManifestStore("a", (manifest("a", "b"), manifest("b", "a")))
    [b] = cycle.tree
    assert b.manifest is not None and b.manifest.label == "b"
    [back] = b.children
    assert back.manifest is None and back.link.manifest_label == "a"  # a cycle ends as a leaf
    labels = [f"m{i}" for i in range(60)]
    deep = ManifestStore("m0", tuple(manifest(lab, nxt) for lab, nxt in zip(labels, [*labels[1:], None], strict=True)))
    depths = [node.depth for node in deep.walk()]
    assert max(depths) == 32 and [n for n in deep.walk() if n.depth == 32][0].manifest is None


# --- rule 7: the chain ---------------------------------------------------------------------


def _report(verdict: Verdict, *ingredients: Ingredient) -> VerificationReport:
    return VerificationReport(
        file="x.mp4", verdict=verdict, signer=SignerIdentity("Platform", "P Co", "P CA"), ingredients=ingredients
    )


def test_the_chain_names_the_signer_the_original_and_any_problem_in_between() -> None:
    original = Ingredient("o.mp4", "parentOf", Verdict.UNTRUSTED, signer=SignerIdentity("Jane Doe", None, None))
    edit = Ingredient(
        "e.mp4", "parentOf", Verdict.TAMPERED, signer=SignerIdentity("Ed", None, None), ingredients=(original,)
    )
    line, verdict = rules.summarize(_report(Verdict.VERIFIED, edit))
    assert line == ("signed by Platform (trusted); edited by Ed (tampered); original by Jane Doe (untrusted signer)")
    assert verdict is Verdict.TAMPERED
    assert rules.summarize(_report(Verdict.VERIFIED)) == (None, None)
    unsigned = Ingredient("raw.mp4", "parentOf", Verdict.NO_CREDENTIALS)
    assert (
        rules.summarize(_report(Verdict.VERIFIED, unsigned))[0]
        == "signed by Platform (trusted); the original was not signed"
    )


# --- rule 8: policy ----------------------------------------------------------------------------


def test_a_policy_turns_only_a_verified_clip_into_wrong_signer() -> None:
    verified = VerificationReport(
        file="x.mp4",
        verdict=Verdict.VERIFIED,
        signer=SignerIdentity("Jane Doe", "Example News", "CA", subject_attributes=(("CN", "Jane Doe"),)),
    )
    judged = rules.apply_policy(verified, ExpectSigner("Tom Cruise"))
    assert judged.verdict is Verdict.WRONG_SIGNER and "Tom Cruise" in judged.policy_failures[0]
    assert rules.apply_policy(verified, ExpectSigner("Jane Doe")) is verified
    untrusted = replace(verified, verdict=Verdict.UNTRUSTED)
    kept = rules.apply_policy(untrusted, RequireTimestamp())
    assert kept.verdict is Verdict.UNTRUSTED and kept.policy_failures


# --- rule 9: severity and exit codes --------------------------------------------------------------


def test_every_verdict_has_a_severity_and_an_exit_code() -> None:
    assert set(rules.SEVERITY) == set(Verdict) == set(rules.EXIT_CODES)
    assert rules.worst([Verdict.VERIFIED, Verdict.TAMPERED, Verdict.UNTRUSTED]) is Verdict.TAMPERED
    assert rules.worst([Verdict.ERROR, Verdict.TAMPERED]) is Verdict.ERROR
    assert Verdict.UNTRUSTED.exit_code == 3 and Verdict.WRONG_SIGNER.exit_code == 7


def test_the_rules_need_neither_c2pa_nor_pyav() -> None:
    code = (
        "import sys, provenance.verification.rules, provenance.credentials.model, provenance.verification.policy; "
        "bad = sorted({'c2pa', 'av', 'numpy'} & set(sys.modules)); print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_gap_in_the_segments_makes_a_fragmented_mp4_tampered() -> None:
    assert rules.fragmented_verdict([Verdict.VERIFIED, Verdict.VERIFIED], missing=False) is Verdict.VERIFIED
    assert rules.fragmented_verdict([Verdict.VERIFIED, Verdict.UNTRUSTED], missing=True) is Verdict.TAMPERED
    assert rules.fragmented_verdict([Verdict.ERROR], missing=True) is Verdict.ERROR


# --- rule 11: CAWG identities (issue 10, part 1) ---------------------------------------------------


def _identity(name: str) -> tuple[Manifest, TrustStore, dict[str, Any]]:
    store, trust, expected = fixture(name)
    assert store.active is not None and len(store.active.identities) == 1
    return store.active, trust, expected


@pytest.mark.parametrize("name", ["cawg_trusted", "cawg_untrusted", "cawg_broken"])
def test_an_identity_gets_its_own_status_and_never_the_verdicts(name: str) -> None:
    manifest, trust, expected = _identity(name)
    judged = rules.judge_identity(manifest.identities[0], trust)
    assert judged.status.value == expected.get("identity", "untrusted"), _doc(name)["about"]
    assert rules.judge(manifest, trust).verdict is Verdict.VERIFIED  # the C2PA signature stands
    if "problem" in expected:
        assert expected["problem"] in [s.code for s in judged.problems]


def test_a_trusted_identity_names_its_credential_and_the_cawg_source_that_vouched() -> None:
    manifest, trust, expected = _identity("cawg_trusted")
    judged = rules.judge_identity(manifest.identities[0], trust)
    assert judged.credential is not None and judged.credential.common_name == "Ed Itor"
    assert judged.credential.organization == "Other Desk" and judged.trusted_by == expected["trusted_by"]
    # it covers the actions, the creative work and the hard binding
    assert {"c2pa.actions.v2", "cawg.metadata"} <= set(judged.covers)
    assert any(c.startswith("c2pa.hash.") for c in judged.covers)


def test_only_a_cawg_source_vouches_for_an_identity() -> None:
    manifest, trust, _ = _identity("cawg_trusted")
    # the same root as a claim-signer anchor: c2pa-rs said trusted, but no cawg source vouches
    as_anchor = TrustStore(
        tuple(replace(s, kind=SourceKind.ANCHORS) if s.kind is SourceKind.CAWG else s for s in trust.sources)
    )
    judged = rules.judge_identity(manifest.identities[0], as_anchor)
    assert judged.status.value == "untrusted" and judged.trusted_by is None


def test_a_broken_identity_beats_a_trusted_credential() -> None:
    manifest, trust, _ = _identity("cawg_broken")
    identity = manifest.identities[0]
    assert "cawg.x509.credential.trusted" in [s.code for s in identity.statuses]  # c2pa-rs trusts the chain...
    assert rules.judge_identity(identity, trust).status.value == "broken"  # ...but the signature does not match


def _with_identity(identity_status: str, **signer: Any) -> VerificationReport:
    from provenance.verification.report import IdentityReport, IdentityStatus

    credential = SignerIdentity(
        "Ed Itor", "Other Desk", "Desk CA", subject_attributes=(("CN", "Ed Itor"), ("O", "Other Desk"))
    )
    return VerificationReport(
        file="x.mp4",
        verdict=Verdict.VERIFIED,
        signer=SignerIdentity(
            "Jane Doe", "Example News", "CA", subject_attributes=(("CN", "Jane Doe"), ("O", "Example News"))
        ),
        identities=(
            IdentityReport("cawg.identity", IdentityStatus(identity_status), "cawg.x509.cose", "Ed Itor", credential),
        ),
    )


def test_a_trusted_identity_meets_an_expectation_and_says_so() -> None:
    from provenance.verification.policy import ExpectOrganization, identity_policy

    report = _with_identity("trusted")
    judged = rules.apply_policy(report, identity_policy(signer="Ed Itor", org="Example News"))
    assert judged.verdict is Verdict.VERIFIED
    assert dict(judged.policy_matched) == {"signer": "cawg_identity", "organization": "c2pa_signer"}
    assert dict(rules.apply_policy(report, ExpectOrganization("Other Desk")).policy_matched) == {
        "organization": "cawg_identity"
    }


@pytest.mark.parametrize("status", ["untrusted", "broken"])
def test_an_identity_that_is_not_trusted_never_meets_an_expectation(status: str) -> None:
    judged = rules.apply_policy(_with_identity(status), ExpectSigner("Ed Itor"))
    assert judged.verdict is Verdict.WRONG_SIGNER
    assert "CAWG identity is not trusted" in judged.policy_failures[0]
    assert judged.policy_matched == ()


def test_a_signer_only_a_cawg_source_vouches_for_is_untrusted() -> None:
    store, trust, _ = fixture("trusted")  # c2pa-rs reported the signer trusted
    assert store.active is not None
    as_cawg = TrustStore(tuple(replace(s, kind=SourceKind.CAWG) for s in trust.sources))
    judged = rules.judge(store.active, as_cawg)
    assert judged.verdict is Verdict.UNTRUSTED and judged.cawg_only == trust.sources[0].display_name
    assert rules.judge(store.active, trust).cawg_only is None


# --- rule 12: revocation (OCSP) -------------------------------------------------
# Recorded by tests.verification.fixtures.record_ocsp (a real responder).

OCSP_FIXTURES = ["ocsp_attached", "ocsp_revoked", "ocsp_inaccessible"]


@pytest.mark.parametrize("name", OCSP_FIXTURES)
def test_each_recorded_revocation_store_gets_its_verdict_and_note(name: str) -> None:
    store, trust, expected = fixture(name)
    assert store.active is not None
    judged = rules.judge(store.active, trust)
    assert judged.verdict.value == expected["verdict"], _doc(name)["about"]
    assert expected["ocsp"] in {s.code for s in judged.statuses}
    note = rules.revocation_note(judged.statuses, responder=True, online=_doc(name)["online"])
    if name == "ocsp_attached":
        assert note is None  # checked and not revoked: nothing to say
    elif name == "ocsp_revoked":
        assert note is not None and "revoked by its certificate authority" in note
        assert rules.phrase(judged.verdict, judged.statuses) == "revoked certificate"
    else:
        assert note is not None and "could not be reached" in note and "not revoked then" in note


def test_a_revoked_status_that_came_with_the_clip_is_invalid_whatever_its_kind() -> None:
    # c2pa-rs 0.91.3 logs a revoked status read from the clip as informational
    store, trust, _ = fixture("ocsp_attached")
    assert store.active is not None
    kept = [s for s in store.active.statuses if s.code != "signingCredential.ocsp.notRevoked"]
    revoked = Status("signingCredential.ocsp.revoked", StatusKind.INFORMATIONAL, "signing cert revoked: 1234")
    judged = rules.judge(store.active, trust, statuses=(*kept, revoked))
    assert judged.verdict is Verdict.INVALID
    assert rules.deciding_failure(judged.statuses) == replace(revoked, kind=StatusKind.FAILURE)
    assert rules.revocation_failures((ok("signingCredential.ocsp.notRevoked"),)) == (
        ok("signingCredential.ocsp.notRevoked"),
    )


def test_revocation_not_checked_is_a_note_only_when_there_was_a_responder_to_ask() -> None:
    store, trust, _ = fixture("trusted")
    assert store.active is not None
    judged = rules.judge(store.active, trust)
    assert judged.verdict is Verdict.VERIFIED
    assert rules.revocation_note(judged.statuses, responder=False, online=False) is None
    offline = rules.revocation_note(judged.statuses, responder=True, online=False)
    assert offline is not None and "not checked" in offline
    assert rules.revocation_note((ok("signingCredential.trusted"),), responder=True, online=True) is None
    # c2pa-rs says ocsp.skipped of every signer it did not check (this one too)
    assert "signingCredential.ocsp.skipped" in {s.code for s in judged.statuses}
    skipped = Status("signingCredential.ocsp.skipped", StatusKind.INFORMATIONAL, "")
    assert "not checked" in (rules.revocation_note((skipped,), responder=True, online=True) or "")
