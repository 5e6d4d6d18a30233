"""The verdict rules: how a manifest store, a trust store and an identity
policy become verdicts. Every rule that decides a verdict is here, as a pure
function, in the order a reader should learn them.

Rules
  1. Status families. c2pa-rs reports status codes as success,
     informational or failure. A failure code's *effect* comes from
     :data:`FAILURE_EFFECTS`, a table of the C2PA codes by family:
     hash and hashed-URI mismatches are ``tampered``; an untrusted signing
     credential is ``untrusted``; any other known failure (claim,
     signature, certificate, assertion, ingredient, manifest, algorithm)
     is ``invalid``. Success and informational codes decide nothing.
  2. The verdict of one manifest (:func:`manifest_verdict`): tampered, else
     invalid, else untrusted, else ``verified``, which needs the success
     code ``signingCredential.trusted``.
  3. Pins (:func:`apply_pin`): c2pa-rs 0.91.3 ignores ``trust.allowed_list``,
     so when the only deciding failure is ``signingCredential.untrusted``
     and an ``allowed`` source pins the leaf certificate, the signer is
     trusted ("checked by provenance").
  4. TSA separation (:func:`tsa_only_source`): c2pa-rs keeps one anchor
     pool, so TSA roots sit among the signer anchors
     (:meth:`TrustStore.c2pa_settings`). A signer that only a ``tsa``
     source vouches for is ``untrusted``: TSA roots vouch for signing times,
     never for signers.
  5. Time-stamps (:func:`judge_timestamp`): a time-stamp is trusted only
     when c2pa-rs reports ``timeStamp.trusted`` *and* a ``tsa`` source
     vouches for the authority; only then is its time the signing time.
  6. Ingredients (:func:`ingredient_statuses`): an ingredient's statuses are
     those its signer recorded, each replaced by what validation finds now
     for the same check on the same part.
  7. The chain (:func:`summarize`): the chain verdict is the worst verdict
     among the ingredients; one line names the active signer, the original,
     and any ancestor with a problem.
  8. Policy (:func:`apply_policy`): a ``verified`` clip whose signer fails
     the caller's identity policy is ``wrong_signer``; other verdicts stay,
     with the reasons recorded.
  9. Severity and exit codes (:data:`SEVERITY`, :data:`EXIT_CODES`): the
     worst verdict of a batch or a chain is the most severe.
 11. CAWG identities (:func:`judge_identity`, :func:`cawg_only_source`):
     c2pa-rs 0.91.3 puts ``cawg`` anchors in the claim signers' pool too,
     so, as with TSA roots (rule 4), a signer that only a ``cawg`` source
     vouches for is ``untrusted``: identity roots vouch for identities,
     never for signers. Each ``cawg.identity``
     assertion of the active manifest gets its own status, never the
     verdict's: ``trusted`` when c2pa-rs validated it and reports its
     credential trusted *and* a ``cawg`` source vouches for the credential;
     ``broken`` when any other check of it failed (its signature, its
     credential's profile, what it covers); ``untrusted`` otherwise. A
     trusted identity can meet ``--expect-signer``/``--expect-org`` (rule 8).
 10. Recovery (:func:`judge_detached`, :func:`recovered`): a file without
     credentials, or with tampered ones, whose content matches a signed
     original in a repository is ``recovered`` when the original's manifest
     store, judged on its own, is ``verified`` (its hard-binding mismatch
     is expected: the original's bytes are not at hand), its signed
     soft-binding confirms the content match, and it meets the policy.
     Anything less is listed but never shown as good.
 12. Revocation (:func:`revocation_failures`, :func:`revocation_note`): a
     signer whose CA revoked its certificate (``signingCredential.ocsp.revoked``,
     from the OCSP status attached at signing or fetched online) is
     ``invalid``, whatever kind c2pa-rs logs it as; a status that could not
     be fetched or was not checked is a note, never a verdict. Whether a
     revocation after a trusted time-stamp still counts is c2pa-rs's C2PA
     rule: it reports ``revoked`` only when it does.

Exceptions
  - ``timeStamp.untrusted`` and ``timeStamp.outsideValidity`` are failures
    that do not make a manifest invalid: the signer's own clock is used
    instead, and the status is kept as a warning.
  - ``cawg.*`` codes judge a CAWG identity assertion, not the C2PA
    signature: they never change the verdict and are reported as identity
    warnings.
  - A failure code that is in neither table (a newer c2pa-rs, a newer
    spec) is shown and counted as a warning: never silently ``invalid``,
    never silently ignored.

Example
  A clip whose statuses are ``signingCredential.trusted`` (success) and
  ``cawg.x509.credential.untrusted`` (failure)::

    >>> statuses = (Status("signingCredential.trusted", StatusKind.SUCCESS, ""),
    ...             Status("cawg.x509.credential.untrusted", StatusKind.FAILURE, ""))
    >>> manifest_verdict(statuses).value, [s.code for s in warnings(statuses)]
    ('verified', ['cawg.x509.credential.untrusted'])
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from provenance.credentials.model import (
    ChainNode,
    IdentityAssertion,
    Manifest,
    SignatureInfo,
    Status,
    StatusKind,
    utc_text,
)
from provenance.errors import ExitCode
from provenance.trust.store import SourceKind, TrustStore
from provenance.verification.report import (
    IdentityReport,
    IdentityStatus,
    Ingredient,
    SignerIdentity,
    TimeStampInfo,
    Verdict,
    VerificationReport,
)

if TYPE_CHECKING:
    from provenance.verification.policy import Policy


# --- 1. status families ------------------------------------------------------


class Effect(str, enum.Enum):
    """What a failure code does to a manifest's verdict."""

    TAMPERED = "tampered"  # content or manifest bytes no longer match their hashes
    INVALID = "invalid"  # the credentials are not valid
    UNTRUSTED = "untrusted"  # nobody the verifier trusts vouches for the signer
    TIME = "time"  # the time-stamp is not used; the signer's clock is (a warning)
    IDENTITY = "identity"  # a CAWG identity assertion problem (a warning)
    UNKNOWN = "unknown"  # a code provenance does not know (a warning)


def _family(effect: Effect, *codes: str) -> dict[str, Effect]:
    return dict.fromkeys(codes, effect)


#: Every C2PA failure code provenance knows (C2PA 2.x standard status codes,
#: as c2pa-rs 0.91 reports them), by family.
FAILURE_EFFECTS: dict[str, Effect] = {
    # the hard binding and the hashed URIs: bytes changed after signing
    **_family(
        Effect.TAMPERED,
        "assertion.dataHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.collectionHash.mismatch",
        "assertion.hashedURI.mismatch",
        "hashedURI.mismatch",
        "ingredient.manifest.mismatch",
        "ingredient.claimSignature.mismatch",
        "ingredient.hashedURI.mismatch",
    ),
    # trust
    **_family(Effect.UNTRUSTED, "signingCredential.untrusted"),
    # time-stamps that are only not trusted: the signer's clock is used
    **_family(Effect.TIME, "timeStamp.untrusted", "timeStamp.outsideValidity"),
    # the signature and its credential
    **_family(
        Effect.INVALID,
        "claimSignature.missing",
        "claimSignature.mismatch",
        "claimSignature.outsideValidity",
        "signingCredential.invalid",
        "signingCredential.expired",
        "signingCredential.revoked",
        "signingCredential.ocsp.revoked",
        "signingCredential.ocsp.unknown",
        "timeStamp.mismatch",
        "timeStamp.malformed",
        "algorithm.unsupported",
    ),
    # the claim and the manifest
    **_family(
        Effect.INVALID,
        "claim.malformed",
        "claim.missing",
        "claim.multiple",
        "claim.hardBindings.missing",
        "claim.required.missing",
        "claim.cbor.invalid",
        "manifest.inaccessible",
        "manifest.missing",
        "manifest.multipleParents",
        "manifest.update.invalid",
        "manifest.update.wrongParents",
        "manifest.timestamp.invalid",
        "manifest.timestamp.wrongParents",
        "manifest.compressed.invalid",
        "hashedURI.missing",
        "general.error",
    ),
    # assertions
    **_family(
        Effect.INVALID,
        "assertion.multipleHardBindings",
        "assertion.missing",
        "assertion.undeclared",
        "assertion.inaccessible",
        "assertion.notRedacted",
        "assertion.selfRedacted",
        "assertion.required.missing",
        "assertion.json.invalid",
        "assertion.cbor.invalid",
        "assertion.outsideManifest",
        "assertion.hashedURI.missing",
        "assertion.action.ingredientMismatch",
        "assertion.action.redacted",
        "assertion.action.malformed",
        "assertion.action.redactionMismatch",
        "assertion.dataHash.malformed",
        "assertion.dataHash.redacted",
        "assertion.bmffHash.malformed",
        "assertion.boxesHash.malformed",
        "assertion.boxesHash.unknownBox",
        "assertion.cloud-data.hardBinding",
        "assertion.cloud-data.actions",
        "assertion.cloud-data.malformed",
        "assertion.collectionHash.incorrectFileCount",
        "assertion.collectionHash.invalidURI",
        "assertion.collectionHash.malformed",
        "assertion.multiAssetHash.malformed",
        "assertion.multiAssetHash.missingPart",
        "assertion.ingredient.malformed",
        "assertion.metadata.disallowed",
        "assertion.timestamp.malformed",
    ),
    # ingredients
    **_family(Effect.INVALID, "ingredient.manifest.missing", "ingredient.claimSignature.missing"),
}

#: Families known by prefix: every code of the family has this effect.
FAILURE_FAMILIES: tuple[tuple[str, Effect], ...] = (
    ("cawg.", Effect.IDENTITY),  # CAWG identity assertions (cawg.identity.*, cawg.x509.*, cawg.ica.*)
)

#: The effects that decide a verdict; the others are warnings.
DECIDING = frozenset({Effect.TAMPERED, Effect.INVALID, Effect.UNTRUSTED})


def effect(status: Status) -> Effect | None:
    """The effect of *status* on its manifest's verdict; ``None`` for a
    success or informational code."""
    if status.kind is not StatusKind.FAILURE:
        return None
    known = FAILURE_EFFECTS.get(status.code)
    if known is not None:
        return known
    for prefix, family in FAILURE_FAMILIES:
        if status.code.startswith(prefix):
            return family
    return Effect.UNKNOWN


def warnings(statuses: Iterable[Status]) -> tuple[Status, ...]:
    """Failures that do not decide the verdict but deserve attention:
    untrusted time-stamps, identity assertion problems, unknown codes."""
    return tuple(s for s in statuses if (e := effect(s)) is not None and e not in DECIDING)


def deciding_failure(statuses: Iterable[Status]) -> Status | None:
    """The failure that decided the verdict: the first of the most severe
    effect (a hash mismatch before an invalid certificate before an
    untrusted signer)."""
    for wanted in (Effect.TAMPERED, Effect.INVALID, Effect.UNTRUSTED):
        for status in statuses:
            if effect(status) is wanted:
                return status
    return None


# --- 2. one manifest --------------------------------------------------------


def manifest_verdict(statuses: Sequence[Status]) -> Verdict:
    """The verdict for one manifest's statuses."""
    effects = {effect(s) for s in statuses}
    if Effect.TAMPERED in effects:
        return Verdict.TAMPERED
    if Effect.INVALID in effects:
        return Verdict.INVALID
    if Effect.UNTRUSTED in effects:
        return Verdict.UNTRUSTED
    if any(s.code == "signingCredential.trusted" and s.kind is StatusKind.SUCCESS for s in statuses):
        return Verdict.VERIFIED
    return Verdict.UNTRUSTED


# --- 3. pins ---------------------------------------------------------------


def apply_pin(statuses: Sequence[Status], signature: SignatureInfo, trust: TrustStore) -> tuple[Status, ...]:
    """*statuses* with ``signingCredential.untrusted`` replaced by a trusted
    status when an ``allowed`` source pins the leaf and nothing else decides
    against the manifest."""
    deciding = [s for s in statuses if effect(s) in DECIDING]
    if signature.leaf is None or [s.code for s in deciding] != ["signingCredential.untrusted"]:
        return tuple(statuses)
    pinned = trust.pinned_source(signature.leaf)
    if pinned is None:
        return tuple(statuses)
    untrusted = deciding[0]
    kept = [s for s in statuses if s is not untrusted]
    trusted = Status(
        "signingCredential.trusted",
        StatusKind.SUCCESS,
        f"end-entity certificate pinned in {pinned} (checked by provenance)",
        untrusted.url,
    )
    return (trusted, *kept)


# --- 4. TSA separation ------------------------------------------------------


def tsa_only_source(signature: SignatureInfo, trust: TrustStore) -> str | None:
    """The ``tsa`` source that c2pa-rs let vouch for this *signer*, when no
    anchors/allowed source does."""
    if not signature.chain or trust.vouching_source(signature.chain) is not None:
        return None
    return trust.vouching_source(signature.chain, kinds={SourceKind.TSA})


def signer_verdict(statuses: Sequence[Status], signature: SignatureInfo, trust: TrustStore) -> Verdict:
    """Rules 2 and 4: the manifest's verdict, with a signer vouched for by
    a TSA root alone downgraded to untrusted."""
    verdict = manifest_verdict(statuses)
    if verdict is Verdict.VERIFIED and (tsa_only_source(signature, trust) or cawg_only_source(signature, trust)):
        return Verdict.UNTRUSTED
    return verdict


# --- 5. time-stamps ----------------------------------------------------------


def judge_timestamp(signature: SignatureInfo, statuses: Sequence[Status], trust: TrustStore) -> TimeStampInfo | None:
    """The claim signature's time-stamp, trusted only when c2pa-rs validated
    it *and* a ``tsa`` source vouches for the authority."""
    if not signature.timestamps:
        return None
    token = signature.timestamps[0]
    c2pa_trusted = any(s.code == "timeStamp.trusted" and s.kind is StatusKind.SUCCESS for s in statuses)
    vouched = trust.vouching_source(token.chain, kinds={SourceKind.TSA}) if c2pa_trusted else None
    return TimeStampInfo(
        time=utc_text(token.gen_time), authority=token.authority, trusted=vouched is not None, trusted_by=vouched
    )


# --- 6. ingredients -----------------------------------------------------------


def ingredient_statuses(recorded: Sequence[Status], found: Sequence[Status]) -> tuple[Status, ...]:
    """Recorded ingredient statuses, updated by what validation finds now
    (c2pa-rs reports only the differences, as ingredient deltas): a status
    found now replaces a recorded one of the same check on the same part,
    e.g. ``signingCredential.untrusted`` under this verifier's trust
    replaces the ``signingCredential.trusted`` the editor recorded."""
    checked = {(s.code.rsplit(".", 1)[0], s.url) for s in found}
    kept = [s for s in recorded if (s.code.rsplit(".", 1)[0], s.url) not in checked]
    return (*kept, *found)


# --- judging a manifest: rules 2 to 6 together --------------------------------


@dataclass(frozen=True)
class Judgement:
    """What the rules say about one manifest of the chain."""

    verdict: Verdict
    statuses: tuple[Status, ...]  # after pins
    trusted_by: str | None  # the source that vouches for a verified signer
    timestamp: TimeStampInfo | None
    tsa_only: str | None  # a tsa source that alone vouches for the signer (rule 4)
    cawg_only: str | None = None  # a cawg source that alone vouches for the signer (rule 11)

    @property
    def warnings(self) -> tuple[Status, ...]:
        return warnings(self.statuses)


def judge(manifest: Manifest, trust: TrustStore, *, statuses: Sequence[Status] | None = None) -> Judgement:
    """Judge *manifest* by *statuses* (default: what c2pa-rs reports for it now)."""
    found = apply_pin(
        revocation_failures(manifest.statuses if statuses is None else statuses), manifest.signature, trust
    )
    verdict = signer_verdict(found, manifest.signature, trust)
    trusted_by = trust.vouching_source(manifest.signature.chain) if verdict is Verdict.VERIFIED else None
    return Judgement(
        verdict,
        found,
        trusted_by,
        judge_timestamp(manifest.signature, found, trust),
        tsa_only_source(manifest.signature, trust),
        cawg_only_source(manifest.signature, trust),
    )


def judge_node(node: ChainNode, trust: TrustStore) -> Judgement:
    """Judge an ingredient of the chain (rule 6, then 2 to 5); an ingredient
    without a manifest has no credentials."""
    if node.manifest is None:
        return Judgement(Verdict.NO_CREDENTIALS, node.link.recorded, None, None, None)
    return judge(node.manifest, trust, statuses=ingredient_statuses(node.link.recorded, node.manifest.statuses))


# --- 7. the chain ---------------------------------------------------------------

_PHRASES = {
    Verdict.VERIFIED: "trusted",
    Verdict.UNTRUSTED: "untrusted signer",
    Verdict.TAMPERED: "tampered",
    Verdict.INVALID: "invalid",
    Verdict.NO_CREDENTIALS: "not signed",
    Verdict.ERROR: "unreadable",
    Verdict.WRONG_SIGNER: "trusted, but not the expected signer",
    Verdict.RECOVERED: "matched by content to a trusted original",
}
# Failures worth naming instead of a bare "invalid".
_CAUSES = {
    "signingCredential.expired": "expired certificate",
    "signingCredential.revoked": "revoked certificate",
    "signingCredential.ocsp.revoked": "revoked certificate",
    "signingCredential.invalid": "certificate not valid for C2PA",
    "claimSignature.mismatch": "forged or corrupted signature",
    "claimSignature.missing": "unsigned claim",
}


def phrase(verdict: Verdict, statuses: Sequence[Status] = ()) -> str:
    """A few words for a node's verdict: "trusted", "expired certificate"…"""
    if verdict is Verdict.INVALID:
        for status in statuses:
            if status.kind is StatusKind.FAILURE and status.code in _CAUSES:
                return _CAUSES[status.code]
    return _PHRASES[verdict]


def _who(signer: SignerIdentity | None) -> str:
    return (signer.common_name or signer.organization or "an unknown signer") if signer else "an unknown signer"


def parent_chain(ingredients: Sequence[Ingredient]) -> list[Ingredient]:
    """The line of parents, newest first: each node's ``parentOf``
    ingredient (or its only ingredient), down to the original."""
    line: list[Ingredient] = []
    nodes = ingredients
    while nodes:
        parent = next((n for n in nodes if n.relationship == "parentOf"), nodes[0] if len(nodes) == 1 else None)
        if parent is None:
            break
        line.append(parent)
        nodes = parent.ingredients
    return line


def _walk(nodes: Sequence[Ingredient]) -> Iterator[Ingredient]:
    for node in nodes:
        yield node
        yield from _walk(node.ingredients)


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The most severe of *verdicts* (rule 9)."""
    return max(verdicts, key=lambda v: SEVERITY[v])


def fragmented_verdict(segments: Sequence[Verdict], *, missing: bool) -> Verdict:
    """A fragmented MP4's verdict: its worst segment's, and at least
    ``tampered`` when the segment numbers have a gap (segments removed)."""
    verdict = worst(segments)
    return worst((verdict, Verdict.TAMPERED)) if missing else verdict


def summarize(report: VerificationReport) -> tuple[str | None, Verdict | None]:
    """``(line, worst ingredient verdict)``; ``(None, None)`` without ingredients.

    The line always names the active signer and the original; an
    intermediate editor or a component is named only when its credentials
    have a problem."""
    if not report.ingredients:
        return None, None
    parts = [f"signed by {_who(report.signer)} ({phrase(report.verdict, report.status)})"]
    line = parent_chain(report.ingredients)
    for node in line[:-1]:
        if node.verdict is not Verdict.VERIFIED:
            parts.append(
                f"edited by {_who(node.signer)} ({phrase(node.verdict, node.status)})"
                if node.verdict is not Verdict.NO_CREDENTIALS
                else f"{node.title or 'an edit'} not signed"
            )
    if line:
        original = line[-1]
        if original.verdict is Verdict.NO_CREDENTIALS:
            parts.append("the original was not signed")
        else:
            parts.append(f"original by {_who(original.signer)} ({phrase(original.verdict, original.status)})")
    in_line = {id(n) for n in line}
    for node in _walk(report.ingredients):
        if id(node) not in in_line and node.verdict not in (Verdict.VERIFIED, Verdict.NO_CREDENTIALS):
            parts.append(
                f"ingredient {node.title or 'untitled'} by {_who(node.signer)} ({phrase(node.verdict, node.status)})"
            )
    return "; ".join(parts), worst(n.verdict for n in _walk(report.ingredients))


# --- 8. policy -----------------------------------------------------------------


def apply_policy(report: VerificationReport, policy: Policy) -> VerificationReport:
    """*report* judged against an identity *policy*: a verified clip that
    fails it becomes ``wrong_signer``; any other verdict is kept (an
    untrusted signer is not vouched for, whatever its certificate says),
    with the reasons recorded in ``policy_failures`` either way."""
    reasons = policy.failures(report) if report.verdict is not Verdict.ERROR else ()
    if report.identities:  # which credential met what, the C2PA signer's or a CAWG identity's (rule 11)
        report = replace(report, policy_matched=policy.matched_by(report))
    if not reasons:
        return report
    verdict = Verdict.WRONG_SIGNER if report.verdict is Verdict.VERIFIED else report.verdict
    unmet = tuple(dict.fromkeys(getattr(r, "expectation", "signer") for r in reasons))
    judged = replace(report, verdict=verdict, policy_failures=tuple(str(r) for r in reasons), policy_unmet=unmet)
    if judged.chain_summary is not None:
        judged = replace(judged, chain_summary=summarize(judged)[0])
    return judged


# --- 9. severity and exit codes ----------------------------------------------------

#: Higher is worse: the verdict of a batch, or of a chain, is its worst.
SEVERITY: dict[Verdict, int] = {
    Verdict.VERIFIED: 0,
    Verdict.UNTRUSTED: 1,
    Verdict.RECOVERED: 2,  # vouched-for content, but these bytes carry no valid credentials
    Verdict.WRONG_SIGNER: 3,
    Verdict.NO_CREDENTIALS: 4,
    Verdict.INVALID: 5,
    Verdict.TAMPERED: 6,
    Verdict.ERROR: 7,
}

#: The exit code of ``provenance verify`` for each verdict.
EXIT_CODES: dict[Verdict, ExitCode] = {
    Verdict.VERIFIED: ExitCode.VERIFIED,
    Verdict.UNTRUSTED: ExitCode.UNTRUSTED,
    Verdict.TAMPERED: ExitCode.FAILED,
    Verdict.INVALID: ExitCode.FAILED,
    Verdict.NO_CREDENTIALS: ExitCode.NO_CREDENTIALS,
    Verdict.ERROR: ExitCode.BAD_INPUT,
    Verdict.WRONG_SIGNER: ExitCode.WRONG_SIGNER,
    Verdict.RECOVERED: ExitCode.RECOVERED,
}


# --- 10. recovery --------------------------------------------------------------

#: The hard-binding mismatches of a manifest store judged without its asset.
HARD_BINDING_MISMATCH = frozenset(
    {
        "assertion.dataHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.collectionHash.mismatch",
    }
)

#: What a file's own verdict must be for a lookup to be worth making.
RECOVERABLE = frozenset({Verdict.NO_CREDENTIALS, Verdict.TAMPERED})


def judge_detached(manifest: Manifest, trust: TrustStore) -> Judgement:
    """Judge a manifest read from a detached store (a repository's answer):
    the hard-binding mismatch is expected, since the original's bytes are
    not at hand; every other check counts, so a forged or altered store is
    still tampered or invalid."""
    kept = tuple(s for s in manifest.statuses if not (s.kind is StatusKind.FAILURE and s.code in HARD_BINDING_MISMATCH))
    return judge(manifest, trust, statuses=kept)


def recovered(candidate_verdict: Verdict, *, content_confirmed: bool, policy_failures: Sequence[str]) -> str | None:
    """``None`` when a repository's candidate is shown as the recovered
    original, else why not."""
    if candidate_verdict is not Verdict.VERIFIED:
        return f"its manifest store is {candidate_verdict.value}"
    if not content_confirmed:
        return "its signed soft binding does not match this content"
    if policy_failures:
        return "; ".join(policy_failures)
    return None


# --- 11. CAWG identities (issue 10, part 1) ------------------------------------

#: Failures that say only that nobody vouches for an identity's credential.
IDENTITY_UNTRUSTED = frozenset({"cawg.x509.credential.untrusted", "cawg.ica.untrusted_issuer"})
#: Successes that say c2pa-rs found the credential trusted.
IDENTITY_TRUSTED = frozenset({"cawg.x509.credential.trusted", "cawg.ica.credential_valid"})


def _first_value(pairs: Sequence[tuple[str, str]], key: str) -> str | None:
    return next((v for k, v in pairs if k == key), None)


def identity_credential(identity: IdentityAssertion, trusted_by: str | None) -> SignerIdentity | None:
    """The X.509 credential that signed *identity* (from its leaf
    certificate, else from what c2pa-rs reported)."""
    subject, issuer = identity.subject, identity.issuer_name
    common_name = _first_value(subject, "CN") or identity.reported_common_name
    if not (common_name or identity.reported_organization or identity.chain):
        return None
    email, emails = identity.emails
    leaf = identity.leaf
    return SignerIdentity(
        common_name=common_name,
        organization=_first_value(subject, "O") or identity.reported_organization,
        issuer=_first_value(issuer, "CN") or _first_value(issuer, "O"),
        trusted_by=trusted_by,
        email=email,
        not_before=leaf.not_valid_before_utc.isoformat() if leaf else None,
        not_after=leaf.not_valid_after_utc.isoformat() if leaf else None,
        subject_attributes=subject,
        issuer_attributes=issuer,
        emails=emails,
    )


def cawg_only_source(signature: SignatureInfo, trust: TrustStore) -> str | None:
    """The ``cawg`` source that c2pa-rs let vouch for this C2PA *signer*
    (its ``trust.anchors`` of every kind reach the claim signers' pool),
    when no anchors/allowed source does."""
    if not signature.chain or trust.vouching_source(signature.chain) is not None:
        return None
    return trust.vouching_source(signature.chain, kinds={SourceKind.CAWG})


def judge_identity(identity: IdentityAssertion, trust: TrustStore) -> IdentityReport:
    """Rule 11: the status of one CAWG identity assertion."""
    failures = tuple(s for s in identity.statuses if s.kind is StatusKind.FAILURE)
    broken = tuple(s for s in failures if s.code not in IDENTITY_UNTRUSTED)
    c2pa_trusted = any(s.kind is StatusKind.SUCCESS and s.code in IDENTITY_TRUSTED for s in identity.statuses)
    vouched = trust.vouching_source(identity.chain, kinds={SourceKind.CAWG}) if identity.chain else None
    x509_form = identity.sig_type == "cawg.x509.cose"
    if broken:
        status = IdentityStatus.BROKEN
        explanation = (
            f"the identity assertion does not check out ({broken[0].code}): the identity it names is not confirmed"
        )
    elif c2pa_trusted and not failures and (vouched is not None or not x509_form):
        status = IdentityStatus.TRUSTED
        explanation = f"its credential is vouched for by {vouched}" if vouched else "its credential issuer is trusted"
    else:
        status = IdentityStatus.UNTRUSTED
        explanation = (
            "no CAWG trust source vouches for the credential that signed it: the name is only what it claims"
            if identity.statuses
            else "c2pa-rs did not check it: the name is only what it claims"
        )
    credential = identity_credential(identity, vouched if status is IdentityStatus.TRUSTED else None)
    name = credential.common_name if credential else None
    if name is None and identity.verified_identities:
        first = identity.verified_identities[0]
        name = first.name or first.username
    return IdentityReport(
        label=identity.label,
        status=status,
        sig_type=identity.sig_type,
        name=name,
        credential=credential,
        issuer=identity.issuer,
        verified_identities=identity.verified_identities,
        covers=identity.referenced,
        roles=identity.roles,
        explanation=explanation,
        problems=failures,
    )


# --- 12. revocation (OCSP) --------------------------------------------------------

OCSP_REVOKED = "signingCredential.ocsp.revoked"
OCSP_NOT_REVOKED = "signingCredential.ocsp.notRevoked"
OCSP_INACCESSIBLE = "signingCredential.ocsp.inaccessible"
OCSP_SKIPPED = "signingCredential.ocsp.skipped"
_REVOKED = frozenset({OCSP_REVOKED, "signingCredential.revoked"})


def revocation_failures(statuses: Sequence[Status]) -> tuple[Status, ...]:
    """*statuses* with a revoked signer as a failure: c2pa-rs 0.91.3 logs
    ``signingCredential.ocsp.revoked`` as informational when the status came
    with the clip (only a fetched one as a failure), but a revoked
    certificate is invalid either way."""
    return tuple(
        replace(s, kind=StatusKind.FAILURE) if s.code in _REVOKED and s.kind is not StatusKind.FAILURE else s
        for s in statuses
    )


def revocation_note(statuses: Sequence[Status], *, responder: bool, online: bool) -> str | None:
    """A plain sentence on the signer's revocation status, or ``None`` when
    there is nothing to say (not revoked, or no responder to ask: a
    certificate without one cannot be revoked through OCSP).
    *responder*: the signer certificate names an OCSP responder; *online*:
    the verifier asked it."""
    codes = {s.code: s for s in statuses}
    revoked = next((s for s in statuses if s.code in _REVOKED), None)
    if revoked is not None:
        when = f" ({revoked.explanation})" if revoked.explanation else ""
        return (
            f"the signer's certificate was revoked by its certificate authority{when}: its key was withdrawn, "
            "for instance after it was stolen, so this clip no longer verifies as that creator"
        )
    if OCSP_INACCESSIBLE in codes:
        attached = "; the status attached at signing said it was not revoked then" if OCSP_NOT_REVOKED in codes else ""
        return (
            "the signer's OCSP responder could not be reached, so whether its certificate has been revoked "
            f"is not known{attached}"
        )
    if OCSP_NOT_REVOKED in codes:
        return None
    # c2pa-rs reports ocsp.skipped for every signer it did not check, one
    # without a responder too: only a certificate that names one was missed.
    if responder and (OCSP_SKIPPED in codes or not online):
        return (
            "revocation was not checked: no OCSP status came with the clip, and the signer's responder "
            "was not asked (check online to ask it)"
        )
    return None
