"""Verify a clip: find its credentials, read them into the model, judge
them by the rules, and assemble the :class:`VerificationReport`.

The verdict rules live in :mod:`provenance.verification.rules`; this module only
reads (through :mod:`provenance.credentials.bridge`, the c2pa boundary) and
puts the rules' judgements into the report's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance._files import open_input
from provenance.credentials import bridge
from provenance.credentials import sidecar as sidecars
from provenance.credentials.manifest import is_ai
from provenance.credentials.model import ChainNode, Manifest, ManifestStore, demote_crjson_statuses
from provenance.errors import InputError, ProvenanceError, UnsupportedFormatError
from provenance.media import boxes, formats, fragments
from provenance.media.xmp import stripped_manifest_reference
from provenance.trust.store import TrustStore
from provenance.verification import rules
from provenance.verification.policy import Policy

if TYPE_CHECKING:
    from provenance.verification.recovery import MatchSource
from provenance.verification.report import (
    Ingredient,
    SignerIdentity,
    TimeSource,
    Verdict,
    VerificationReport,
)


def _first(pairs: Sequence[tuple[str, str]], key: str) -> str | None:
    return next((v for k, v in pairs if k == key), None)


def _signer(manifest: Manifest, trusted_by: str | None) -> SignerIdentity | None:
    """Who signed *manifest*, from its leaf certificate (or, when the
    certificate is unreadable, from what c2pa-rs reported)."""
    sig = manifest.signature
    subject, issuer = sig.subject, sig.issuer_name
    common_name = _first(subject, "CN") or sig.reported_common_name
    if not (common_name or sig.reported_issuer or sig.chain or sig.time):
        return None
    email, emails = sig.emails
    not_before, not_after = sig.validity
    return SignerIdentity(
        common_name=common_name,
        organization=_first(subject, "O") or (sig.reported_issuer if not subject else None),
        issuer=_first(issuer, "CN") or _first(issuer, "O") or sig.reported_issuer,
        trusted_by=trusted_by,
        email=email,
        not_before=not_before,
        not_after=not_after,
        subject_attributes=subject,
        issuer_attributes=issuer,
        emails=emails,
    )


def _signed_at(manifest: Manifest) -> str | None:
    """When *manifest* says it was signed: c2pa-rs's signature time, else
    the ``c2pa.published`` action, else the first action with a time."""
    if manifest.signature.time:
        return manifest.signature.time
    for act in manifest.actions:
        if act.action == "c2pa.published" and act.when:
            return act.when
    return next((a.when for a in manifest.actions if a.when), None)


def _ingredient(node: ChainNode, trust: TrustStore) -> Ingredient:
    judged = rules.judge_node(node, trust)
    manifest = node.manifest
    if manifest is None:
        return Ingredient(
            title=node.link.title, relationship=node.link.relationship, verdict=judged.verdict, status=judged.statuses
        )
    return Ingredient(
        title=node.link.title,
        relationship=node.link.relationship,
        verdict=judged.verdict,
        signer=_signer(manifest, judged.trusted_by),
        manifest_id=manifest.label,
        signed_at=_signed_at(manifest),
        actions=manifest.actions,
        digital_source_type=manifest.digital_source_type,
        status=judged.statuses,
        ingredients=tuple(_ingredient(child, trust) for child in node.children),
    )


def _inherited_source_type(ingredients: Sequence[Ingredient]) -> str | None:
    """The capture source type of the original, found down the parent chain."""
    for node in ingredients:
        if node.relationship == "parentOf":
            return node.digital_source_type or _inherited_source_type(node.ingredients)
    return None


def _warning_notes(judged: rules.Judgement) -> list[str]:
    notes = []
    for status in judged.warnings:
        kind = rules.effect(status)
        detail = f"{status.code}: {status.explanation}" if status.explanation else status.code
        if kind is rules.Effect.IDENTITY:
            notes.append(
                f"the CAWG identity assertion is not vouched for or not valid ({detail}); "
                "the identity it names is not confirmed, the C2PA signature is not affected"
            )
        elif kind is rules.Effect.UNKNOWN:
            notes.append(
                f"c2pa-rs reported a check provenance does not know ({detail}); counted as a warning, not as a failure"
            )
    return notes


# -- revocation (OCSP) ----------------------------------------------------------


def _revocation_notes(manifest: Manifest, judged: rules.Judgement, trust: TrustStore) -> list[str]:
    from provenance.identity.ocsp import responder_urls

    leaf = manifest.signature.leaf
    note = rules.revocation_note(
        judged.statuses, responder=bool(leaf is not None and responder_urls(leaf)), online=trust.ocsp_fetch
    )
    return [note] if note else []


def _report(
    path: Path, store: ManifestStore, trust: TrustStore, *, credentials_source: str, detached: bool = False
) -> VerificationReport:
    manifest = store.active
    if manifest is None:
        return VerificationReport(
            file=str(path),
            verdict=Verdict.INVALID,
            credentials_source=credentials_source,
            notes=("the manifest store names no active manifest",),
        )
    judged = rules.judge_detached(manifest, trust) if detached else rules.judge(manifest, trust)
    ingredients = tuple(_ingredient(node, trust) for node in store.tree)
    stamp = judged.timestamp
    signed_at = stamp.time if stamp is not None and stamp.trusted else _signed_at(manifest)
    time_source = None
    if stamp is not None:
        time_source = TimeSource.TRUSTED_TIMESTAMP if stamp.trusted else TimeSource.UNTRUSTED_TIMESTAMP
    elif signed_at:
        time_source = TimeSource.SIGNER_CLOCK
    notes: list[str] = []
    if judged.tsa_only:
        notes.append(
            f"the signer chains only to {judged.tsa_only}, a time-stamping authority list; "
            "TSA roots vouch for signing times, never for signers"
        )
    if judged.cawg_only:  # rule 11
        notes.append(
            f"the signer chains only to {judged.cawg_only}, a CAWG identity list; "
            "identity roots vouch for identities, never for signers"
        )
    if stamp is not None and not stamp.trusted:
        notes.append(
            f"the time-stamp by {stamp.authority} is not vouched for by any TSA trust source; "
            "the signer's own clock is used"
        )
    notes.extend(_warning_notes(judged))
    notes.extend(_revocation_notes(manifest, judged, trust))
    source_type = manifest.digital_source_type or _inherited_source_type(ingredients)
    return VerificationReport(
        file=str(path),
        verdict=judged.verdict,
        signer=_signer(manifest, judged.trusted_by),
        signed_at=signed_at,
        timestamped=bool(stamp and stamp.trusted),
        time_source=time_source,
        timestamp=stamp,
        notes=tuple(notes),
        generator=manifest.generator,
        title=manifest.title,
        manifest_id=manifest.label,
        actions=manifest.actions,
        digital_source_type=source_type,
        ai_generated=is_ai(source_type),
        ingredients=ingredients,
        status=judged.statuses,
        warnings=judged.warnings,
        credentials_source=credentials_source,
        thumbnail=manifest.thumbnail,
        identities=tuple(rules.judge_identity(i, trust) for i in manifest.identities),  # rule 11
    )


@dataclass(frozen=True)
class Credentials:
    """Where a clip's credentials were found, and what c2pa-rs made of them."""

    format: formats.MediaFormat
    store: ManifestStore | None  # None: no credentials
    source: str | None  # "embedded", "sidecar" or None
    sidecar: Path | None = None
    sidecar_store: bytes | None = None


#: A manifest store larger than this is not a sidecar provenance reads.
MAX_SIDECAR_BYTES = 64 << 20


def _read_sidecar(path: Path) -> bytes:
    """The sidecar's bytes: a regular file (never a FIFO that would block),
    at most :data:`MAX_SIDECAR_BYTES`."""
    if not path.exists():
        raise InputError(
            f"{path}: sidecar manifest not found", hint="check the sidecar's path", reason="sidecar_not_found"
        )
    with open_input(path) as fh:
        try:
            data = fh.read(MAX_SIDECAR_BYTES + 1)
        except OSError as exc:
            raise InputError(
                f"{path}: cannot read the sidecar ({exc.strerror})", hint="check its permissions"
            ) from None
    if len(data) > MAX_SIDECAR_BYTES:
        raise InputError(
            f"{path}: larger than {MAX_SIDECAR_BYTES >> 20} MiB: not a sidecar manifest store",
            hint="give the .c2pa file that sign_sidecar() writes",
            reason="not_a_sidecar",
        )
    if not data:
        raise InputError(
            f"{path}: the sidecar is empty",
            hint="give the .c2pa file that sign_sidecar() writes",
            reason="not_a_sidecar",
        )
    return data


def load_credentials(
    path: Path,
    *,
    trust: TrustStore,
    manifest: Path | None = None,
    find_sidecar: bool = True,
    any_format: bool = False,
    read: Callable[..., ManifestStore | None] | None = None,
) -> Credentials:
    """Find and validate the credentials of *path*: the sidecar *manifest*
    when given; else the embedded store; else (no embedded store, or a
    container that cannot embed, such as WebM) a sidecar next to the clip
    (``NAME.c2pa``). Raises :class:`InputError` for an unreadable clip or
    sidecar, and for a container that cannot embed and has no sidecar unless
    *any_format* (then: no credentials). *read* reads a store in place of
    :func:`bridge.read_store` (same arguments)."""
    read = read or bridge.read_store
    if manifest is not None:
        fmt = formats.detect_any(path)
        store = _read_sidecar(manifest)
        try:
            data = read(path, mime_type=fmt.mime_type, trust=trust, manifest_data=store)
        except ProvenanceError as exc:
            raise InputError(
                f"{manifest}: not a readable C2PA manifest store ({exc.message.removeprefix(f'{path}: ')})",
                hint="give the .c2pa file that sign_sidecar() writes",
                reason="not_a_sidecar",
            ) from None
        if data is None:
            raise InputError(
                f"{manifest}: holds no manifest",
                hint="give the .c2pa file that sign_sidecar() writes",
                reason="not_a_sidecar",
            )
        return Credentials(fmt, data, "sidecar", manifest, store)
    try:
        fmt = formats.detect(path)
    except UnsupportedFormatError as exc:
        found = sidecars.find_sidecar(path) if find_sidecar else None
        if found is None and any_format:
            return Credentials(formats.detect_any(path), None, None)
        if found is None:
            raise UnsupportedFormatError(
                f"{exc.message} and no sidecar manifest ({sidecars.sidecar_path(path).name}) was found next to it",
                hint="sign it with a sidecar manifest, or give its sidecar manifest",
                reason="no_sidecar",
            ) from None
        return load_credentials(path, trust=trust, manifest=found, read=read)
    boxes.check_structure(path, fmt)
    data = read(path, mime_type=fmt.mime_type, trust=trust)
    if data is None and find_sidecar:
        found = sidecars.find_sidecar(path)
        if found is not None:
            return load_credentials(path, trust=trust, manifest=found, read=read)
    return Credentials(fmt, data, "embedded" if data is not None else None)


def report_from_store(path: Path, credentials: Credentials, *, trust: TrustStore) -> VerificationReport:
    """The report for credentials already loaded by :func:`load_credentials`."""
    if credentials.store is None:
        notes = []
        if _damaged_manifest_box(path, credentials.format):
            notes.append(
                "credentials were damaged: the file holds a C2PA manifest box that cannot be read "
                "(its identifying bytes changed), so nothing in it can be checked"
            )
        ref = stripped_manifest_reference(path)
        if ref:
            notes.append(
                f"credentials were stripped or damaged: the file's XMP still points to manifest {ref}, "
                "which cannot be found"
            )
        return VerificationReport(file=str(path), verdict=Verdict.NO_CREDENTIALS, notes=tuple(notes))
    report = _report(path, credentials.store, trust, credentials_source=credentials.source or "embedded")
    notes = list(report.notes)
    if credentials.sidecar is not None:
        notes.extend(_sidecar_notes(path, credentials.sidecar, report))
    if credentials.source == "embedded" and (found := sidecars.find_sidecar(path)) is not None:
        notes.append(
            f"a sidecar manifest ({found.name}) is also next to this clip; the embedded one was verified. "
            f"Verify the sidecar with --manifest {found}"
        )
    if any(s.code == "assertion.bmffHash.mismatch" for s in report.failures) and fragments.is_init_segment(path):
        notes.append(
            "this is the init segment of a fragmented MP4: its hash covers the media segments; "
            "verify it with --segments GLOB"
        )
    summary, chain_verdict = rules.summarize(report)
    return replace(
        report,
        notes=tuple(notes),
        sidecar=str(credentials.sidecar) if credentials.sidecar is not None else None,
        chain_summary=summary,
        chain_verdict=chain_verdict,
    )


def _damaged_manifest_box(path: Path, fmt: formats.MediaFormat) -> bool:
    """True when a top-level ``uuid`` box that is not the C2PA one still
    holds a JUMBF store labelled ``c2pa``: a manifest box whose UUID changed."""
    if fmt is formats.AVI:
        return False
    try:
        found = [
            (offset, size)
            for kind, offset, size, tag in boxes.top_level(path, fmt, lenient=True)
            if kind == b"uuid" and tag != boxes.C2PA_UUID
        ]
        with open_input(path) as fh:
            for offset, size in found:
                fh.seek(offset)
                head = fh.read(min(size, 512))
                if b"jumb" in head and b"c2pa" in head:
                    return True
    except ProvenanceError:
        return False
    return False


def _sidecar_notes(path: Path, sidecar: Path, report: VerificationReport) -> list[str]:
    """Say plainly why a sidecar does not match: the clip changed, or the
    sidecar was made for another clip (its manifest names another file)."""
    if not any(s.code == "assertion.dataHash.mismatch" for s in report.failures):
        return []
    if report.title and report.title != path.name:
        return [
            f"the sidecar {sidecar.name} belongs to another clip: it was signed for {report.title!r}, "
            f"and its hash does not match {path.name}"
        ]
    return [f"{path.name} changed after its sidecar {sidecar.name} was signed"]


def detached_report(name: Path, store: ManifestStore, trust: TrustStore) -> VerificationReport:
    """The report of a manifest store read without its asset (a
    repository's answer), named *name*: judged by
    :func:`~provenance.verification.rules.judge_detached`, with its chain."""
    report = _report(name, store, trust, credentials_source="repository", detached=True)
    summary, chain_verdict = rules.summarize(report)
    return replace(report, chain_summary=summary, chain_verdict=chain_verdict)


def verify(
    path: Path | str,
    *,
    trust: TrustStore | None = None,
    manifest: Path | None = None,
    find_sidecar: bool = True,
    policy: Policy | None = None,
    lookup: MatchSource | None = None,
) -> VerificationReport:
    """Verify the content credentials of the video at *path*.

    Never raises for a bad input: an unreadable or unsupported file gives a
    report with ``Verdict.ERROR`` and the reason in ``error``. *trust* is
    the set of anchors and pinned certificates to judge signers by; with
    none, no signer is trusted and the best verdict is ``untrusted``.
    *manifest* is a sidecar manifest store (``.c2pa``); without it, a
    sidecar next to the clip is used when the clip embeds none (unless
    *find_sidecar* is false).
    *policy* (see :mod:`provenance.verification.policy`) says who the clip must
    come from: a verified clip that fails it gets ``Verdict.WRONG_SIGNER``.
    *lookup* is a repository of signed originals
    (:mod:`provenance.verification.recovery`): a file without credentials,
    or with tampered ones, whose content matches a signed, trusted original
    there gets ``Verdict.RECOVERED``; a repository that cannot be reached
    raises :class:`~provenance.errors.RepositoryError`.

    There is no verification-time argument: c2pa-rs 0.91 checks certificate
    validity against the system clock (or a trusted time-stamp), with no
    setting to choose another time.

    >>> from provenance import verify, TrustStore, SourceKind
    >>> store = TrustStore().with_pem_file(Path("keys/root-ca.pem"), kind=SourceKind.ANCHORS)  # doctest: +SKIP
    >>> verify("signed.mp4", trust=store).verdict  # doctest: +SKIP
    <Verdict.VERIFIED: 'verified'>
    """
    path, trust = Path(path), trust or TrustStore()
    report = _verify(path, trust=trust, manifest=manifest, find_sidecar=find_sidecar, policy=policy)
    if lookup is not None:
        from provenance.verification.recovery import recover

        report = recover(path, report, source=lookup, trust=trust, policy=policy)
    return report


def verify_crjson(
    path: Path | str,
    *,
    trust: TrustStore | None = None,
    manifest: Path | None = None,
    policy: Policy | None = None,
) -> tuple[VerificationReport, dict[str, Any] | None]:
    """:func:`verify`, and the crJSON document of the credentials it judged
    (the conformance program's output format; ``{}`` without credentials,
    ``None`` when the clip or its credentials cannot be read), from one
    c2pa Reader: the clip is hashed once."""
    trust = trust or TrustStore()
    reads: list[tuple[ManifestStore | None, dict[str, Any]]] = []

    def read(path: Path, **options: Any) -> ManifestStore | None:
        reads.append(bridge.read_crjson(path, **options))
        return reads[-1][0]

    report = _verify(Path(path), trust=trust, manifest=manifest, find_sidecar=True, policy=policy, read=read)
    if report.error:
        return report, None
    if not reads:
        return report, {}
    # The last read is the store judged (an embedded one, or the sidecar
    # found after an embedded read that found none).
    store, document = reads[-1]
    return report, _separated(document, store, trust)


def _separated(document: dict[str, Any], store: ManifestStore | None, trust: TrustStore) -> dict[str, Any]:
    """*document* with the active manifest's trust results as the verdict
    rules judge them. c2pa-rs keeps one anchor pool
    (:meth:`TrustStore.c2pa_settings`), so its crJSON would call a signer
    trusted that only a TSA list vouches for, and a time-stamp trusted whose
    authority only a signer anchor vouches for (rules 4 and 5)."""
    if store is None or store.active is None:
        return document
    active = store.active
    judged = rules.judge(active, trust)
    fixes: dict[str, tuple[str, str]] = {}
    if judged.tsa_only:
        fixes["signingCredential.trusted"] = (
            "signingCredential.untrusted",
            f"the signer chains only to {judged.tsa_only}, a time-stamping authority list",
        )
    if judged.cawg_only:  # rule 11
        fixes["signingCredential.trusted"] = (
            "signingCredential.untrusted",
            f"the signer chains only to {judged.cawg_only}, a CAWG identity list",
        )
    if judged.timestamp is not None and not judged.timestamp.trusted:
        fixes["timeStamp.trusted"] = (
            "timeStamp.untrusted",
            "no time-stamping authority list vouches for the time-stamp authority",
        )
    return demote_crjson_statuses(document, label=active.label, demote=fixes)


def _verify(
    path: Path,
    *,
    trust: TrustStore,
    manifest: Path | None,
    find_sidecar: bool,
    policy: Policy | None,
    read: Callable[..., ManifestStore | None] | None = None,
) -> VerificationReport:
    try:
        credentials = load_credentials(path, trust=trust, manifest=manifest, find_sidecar=find_sidecar, read=read)
        report = report_from_store(path, credentials, trust=trust)
    except ProvenanceError as exc:
        # Whatever is wrong with the input (the clip, a sidecar, credentials
        # c2pa cannot parse) is a report, never an exception.
        input_error = isinstance(exc, InputError)
        return VerificationReport(
            file=str(path),
            verdict=Verdict.ERROR,
            error=_unreadable(path, exc),
            error_reason=exc.reason if input_error else "credentials_unreadable",
            error_hint=exc.hint if input_error else None,
        )
    if policy is not None:
        report = rules.apply_policy(report, policy)
    return report


def _unreadable(path: Path, exc: ProvenanceError) -> str:
    """One line saying why *path* could not be verified."""
    if isinstance(exc, InputError):
        return exc.diagnostics()
    detail = exc.message.removeprefix(f"{path}: ")
    return (
        f"{path}: its content credentials cannot be read ({detail}); "
        "the manifest store is damaged or not C2PA: verify an intact copy"
    )
