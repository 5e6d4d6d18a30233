"""Turn what c2pa-rs reports into a :class:`VerificationReport`.

The verdict of a manifest comes from the failure codes c2pa-rs attaches to
it (each status URL names the manifest it concerns), so every node of the
ingredient chain gets a verdict of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.x509.oid import NameOID

from provenance.credentials import bridge
from provenance.credentials import sidecar as sidecars
from provenance.credentials.manifest import is_ai
from provenance.errors import InputError, ProvenanceError, UnsupportedFormatError
from provenance.identity.certificates import attribute
from provenance.credentials.timestamp import parse_token
from provenance.media import boxes, formats, fragments
from provenance.media.xmp import stripped_manifest_reference
from provenance.trust.store import SourceKind, TrustStore
from provenance.verify import chain
from provenance.verify.policy import Policy
from provenance.verify.report import (
    Action,
    Ingredient,
    SignerIdentity,
    Status,
    StatusKind,
    Thumbnail,
    TimeSource,
    TimeStampInfo,
    VerificationReport,
    Verdict,
)

_MANIFEST_IN_URL = re.compile(r"self#jumbf=/c2pa/([^/]+)")
_TAMPER = re.compile(r"^assertion\.(\w*Hash|hashedURI)\.mismatch$|^ingredient\.(manifest|claimSignature)\.mismatch$")
# Failures that do not by themselves make a manifest invalid: an untrusted
# time-stamp only means the signer's own clock is used instead.
_NOT_FATAL = frozenset({"timeStamp.untrusted", "timeStamp.outsideValidity"})
_MAX_DEPTH = 32


def classify(statuses: Sequence[Status]) -> Verdict:
    """The verdict for one manifest's statuses."""
    failures = [s.code for s in statuses if s.kind is StatusKind.FAILURE and s.code not in _NOT_FATAL]
    if any(_TAMPER.match(code) for code in failures):
        return Verdict.TAMPERED
    if any(code != "signingCredential.untrusted" for code in failures):
        return Verdict.INVALID
    if "signingCredential.untrusted" in failures:
        return Verdict.UNTRUSTED
    if any(s.code == "signingCredential.trusted" and s.kind is StatusKind.SUCCESS for s in statuses):
        return Verdict.VERIFIED
    return Verdict.UNTRUSTED


def _statuses(block: Mapping[str, Any] | None) -> list[Status]:
    out: list[Status] = []
    for kind in StatusKind:
        for item in (block or {}).get(kind.value, []) or []:
            out.append(Status(item.get("code", "?"), kind, item.get("explanation") or "", item.get("url")))
    return out


def _group_by_manifest(store: Mapping[str, Any], active: str) -> dict[str, list[Status]]:
    results = store.get("validation_results") or {}
    groups: dict[str, list[Status]] = {}

    def add(status: Status, default: str) -> None:
        match = _MANIFEST_IN_URL.match(status.url or "")
        groups.setdefault(match.group(1) if match else default, []).append(status)

    for status in _statuses(results.get("activeManifest")):
        add(status, active)
    for delta in results.get("ingredientDeltas") or []:
        for status in _statuses(delta.get("validationDeltas")):
            add(status, active)
    if not results:  # older stores report a flat list of failures
        for item in store.get("validation_status") or []:
            add(Status(item.get("code", "?"), StatusKind.FAILURE, item.get("explanation") or "", item.get("url")), active)
    return groups


def _recorded(ingredient: Mapping[str, Any]) -> list[Status]:
    """The validation results the signer recorded in an ingredient when it
    added it: the only evidence of the ingredient's own content, which is
    no longer at hand."""
    return _statuses((ingredient.get("validation_results") or {}).get("activeManifest"))


def _merge(recorded: Sequence[Status], found: Sequence[Status]) -> list[Status]:
    """Recorded ingredient statuses, updated by what validation finds now
    (c2pa-rs reports only the differences, as ingredient deltas): a status
    found now replaces a recorded one of the same check on the same part,
    e.g. ``signingCredential.untrusted`` under this verifier's trust
    replaces the ``signingCredential.trusted`` the editor recorded."""
    checked = {(s.code.rsplit(".", 1)[0], s.url) for s in found}
    kept = [s for s in recorded if (s.code.rsplit(".", 1)[0], s.url) not in checked]
    return kept + list(found)


def _actions(manifest: Mapping[str, Any]) -> tuple[Action, ...]:
    out: list[Action] = []
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for act in (assertion.get("data") or {}).get("actions") or []:
            agent = act.get("softwareAgent")
            if isinstance(agent, Mapping):
                agent = " ".join(str(v) for v in (agent.get("name"), agent.get("version")) if v)
            out.append(
                Action(
                    action=str(act.get("action", "?")),
                    when=act.get("when"),
                    digital_source_type=act.get("digitalSourceType"),
                    software_agent=agent,
                    parameters=dict(act.get("parameters") or {}),
                )
            )
    return tuple(out)


def _generator(manifest: Mapping[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info:
        first = info[0]
        return " ".join(str(first[k]) for k in ("name", "version") if first.get(k))
    gen = manifest.get("claim_generator")
    return str(gen) if gen else None


class _Builder:
    def __init__(self, data: bridge.ManifestStoreData, trust: TrustStore) -> None:
        self.data = data
        self.trust = trust
        self.manifests: Mapping[str, Any] = data.store.get("manifests") or {}
        self.active: str = data.store.get("active_manifest") or ""
        self.groups = _group_by_manifest(data.store, self.active)

        for label, statuses in self.groups.items():
            self._apply_pins(label, statuses)

    def _apply_pins(self, label: str, statuses: list[Status]) -> None:
        """c2pa-rs 0.91.3 ignores ``trust.allowed_list`` when judging a
        manifest's signer (measured: ``signingCredential.untrusted`` with the
        leaf pinned). A pinned end-entity certificate whose signature is
        otherwise valid is trusted, as the spec's private credential store
        intends, so provenance applies the pin itself and says so."""
        headers = self.data.signatures.get(label)
        failures = [s for s in statuses if s.kind is StatusKind.FAILURE]
        if not (headers and headers.chain and [s.code for s in failures] == ["signingCredential.untrusted"]):
            return
        pinned = self.trust.pinned_source(headers.chain[0])
        if pinned:
            statuses.remove(failures[0])
            statuses.insert(0, Status("signingCredential.trusted", StatusKind.SUCCESS,
                                      f"end-entity certificate pinned in {pinned} (checked by provenance)", failures[0].url))

    def verdict(self, label: str) -> Verdict:
        verdict = classify(self.groups.get(label, []))
        if verdict is Verdict.VERIFIED and self.tsa_only(label):
            return Verdict.UNTRUSTED
        return verdict

    def tsa_only(self, label: str) -> str | None:
        """The tsa source that c2pa-rs let vouch for this *signer*, when no
        anchors/allowed source does. c2pa-rs keeps one anchor pool for
        signers and TSAs; the spec keeps them apart, so provenance does."""
        headers = self.data.signatures.get(label)
        chain = headers.chain if headers else ()
        if not chain or self.trust.vouching_source(chain) is not None:
            return None
        return self.trust.vouching_source(chain, kinds={SourceKind.TSA})

    def time_stamp(self, label: str) -> TimeStampInfo | None:
        """The claim signature's time-stamp: trusted only when c2pa-rs
        validated it against the trust store *and* a tsa source vouches
        for the authority."""
        headers = self.data.signatures.get(label)
        tokens = [t for t in (parse_token(raw) for raw in (headers.timestamp_tokens if headers else ())) if t]
        if not tokens:
            return None
        token = tokens[0]
        statuses = self.groups.get(label, [])
        c2pa_trusted = any(s.code == "timeStamp.trusted" and s.kind is StatusKind.SUCCESS for s in statuses)
        vouched = self.trust.vouching_source(token.chain, kinds={SourceKind.TSA}) if c2pa_trusted else None
        return TimeStampInfo(
            time=token.gen_time.isoformat().replace("+00:00", "Z"),
            authority=token.authority,
            trusted=vouched is not None,
            trusted_by=vouched,
        )

    def signer(self, label: str, verdict: Verdict) -> SignerIdentity | None:
        manifest = self.manifests.get(label) or {}
        info = self.data.cert_info.get(label) or {}
        sig_info = manifest.get("signature_info") or {}
        subject = info.get("subject") or {}
        issuer = info.get("issuer") or {}
        validity = info.get("validity") or {}
        headers = self.data.signatures.get(label)
        chain = headers.chain if headers else ()
        email = None
        emails: list[str] = []
        if chain:
            from cryptography import x509

            try:
                san = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                emails = list(san.get_values_for_type(x509.RFC822Name))
                email = emails[0] if emails else None
            except x509.ExtensionNotFound:
                email = attribute(chain[0].subject, NameOID.EMAIL_ADDRESS)
            subject_email = attribute(chain[0].subject, NameOID.EMAIL_ADDRESS)
            if subject_email and subject_email not in emails:
                emails.append(subject_email)
        common_name = subject.get("CN") or sig_info.get("common_name")
        if not (common_name or sig_info or chain):
            return None
        return SignerIdentity(
            common_name=common_name,
            organization=subject.get("O") or (sig_info.get("issuer") if not subject else None),
            issuer=issuer.get("CN") or issuer.get("O") or sig_info.get("issuer"),
            trusted_by=self.trust.vouching_source(chain) if verdict is Verdict.VERIFIED else None,
            email=email,
            not_before=validity.get("notBefore"),
            not_after=validity.get("notAfter"),
            subject_attributes=_attributes(subject, chain[0].subject if chain else None),
            issuer_attributes=_attributes(issuer, chain[0].issuer if chain else None),
            emails=tuple(emails),
        )

    def signed_at(self, label: str, actions: Sequence[Action]) -> str | None:
        time = (self.manifests.get(label, {}).get("signature_info") or {}).get("time")
        if time:
            return str(time)
        for act in actions:
            if act.action == "c2pa.published" and act.when:
                return act.when
        return next((a.when for a in actions if a.when), None)

    def timestamped(self, label: str) -> bool:
        """True only for a time-stamp from a trusted TSA: an untrusted one is
        no better than the signer's own clock."""
        stamp = self.time_stamp(label)
        return bool(stamp and stamp.trusted)

    def ingredients(self, label: str, depth: int, seen: frozenset[str]) -> tuple[Ingredient, ...]:
        nodes: list[Ingredient] = []
        for ing in (self.manifests.get(label) or {}).get("ingredients") or []:
            child = ing.get("active_manifest")
            if child and child in self.manifests and child not in seen and depth < _MAX_DEPTH:
                statuses = _merge(_recorded(ing), self.groups.get(child, []))
                verdict = classify(statuses)
                actions = _actions(self.manifests[child])
                nodes.append(
                    Ingredient(
                        title=ing.get("title"),
                        relationship=ing.get("relationship"),
                        verdict=verdict,
                        signer=self.signer(child, verdict),
                        manifest_id=child,
                        signed_at=self.signed_at(child, actions),
                        actions=actions,
                        digital_source_type=_source_type(actions),
                        status=tuple(statuses),
                        ingredients=self.ingredients(child, depth + 1, seen | {child}),
                    )
                )
            else:
                nodes.append(
                    Ingredient(
                        title=ing.get("title"),
                        relationship=ing.get("relationship"),
                        verdict=Verdict.NO_CREDENTIALS,
                        status=tuple(_recorded(ing)),
                    )
                )
        return tuple(nodes)

    def report(self, path: Path, *, credentials_source: str) -> VerificationReport:
        label = self.active
        manifest = self.manifests.get(label) or {}
        verdict = self.verdict(label) if label else Verdict.INVALID
        actions = _actions(manifest)
        source_type = _source_type(actions) or _inherited_source_type(self.ingredients(label, 0, frozenset({label})))
        ingredients = self.ingredients(label, 0, frozenset({label}))
        stamp = self.time_stamp(label)
        signed_at = self.signed_at(label, actions)
        if stamp is not None and stamp.trusted:
            signed_at = stamp.time
        time_source = None
        if stamp is not None:
            time_source = TimeSource.TRUSTED_TIMESTAMP if stamp.trusted else TimeSource.UNTRUSTED_TIMESTAMP
        elif signed_at:
            time_source = TimeSource.SIGNER_CLOCK
        notes: list[str] = []
        tsa_source = self.tsa_only(label) if label else None
        if tsa_source:
            notes.append(f"the signer chains only to {tsa_source}, a time-stamping authority list; "
                         "TSA roots vouch for signing times, never for signers")
        if stamp is not None and not stamp.trusted:
            notes.append(f"the time-stamp by {stamp.authority} is not vouched for by any TSA trust source "
                         "(add one with --tsa-trust or 'provenance trust add NAME FILE --kind tsa')")
        return VerificationReport(
            file=str(path),
            verdict=verdict,
            signer=self.signer(label, verdict),
            signed_at=signed_at,
            timestamped=bool(stamp and stamp.trusted),
            time_source=time_source,
            timestamp=stamp,
            notes=tuple(notes),
            generator=_generator(manifest),
            title=manifest.get("title"),
            manifest_id=label or None,
            actions=actions,
            digital_source_type=source_type,
            ai_generated=is_ai(source_type),
            ingredients=ingredients,
            status=tuple(self.groups.get(label, [])),
            credentials_source=credentials_source,
            thumbnail=self.thumbnail(label),
        )

    def thumbnail(self, label: str) -> Thumbnail | None:
        data = self.data.thumbnails.get(label)
        if not data:
            return None
        fmt = ((self.manifests.get(label) or {}).get("thumbnail") or {}).get("format") or "image/jpeg"
        return Thumbnail(mime_type=str(fmt), data=data)


_SHORT_NAMES = {"2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C", "2.5.4.7": "L",
                "2.5.4.8": "ST", "1.2.840.113549.1.9.1": "E", "2.5.4.5": "serialNumber", "2.5.4.97": "organizationIdentifier"}


def _attributes(reported: Mapping[str, Any], name: Any) -> tuple[tuple[str, str], ...]:
    """Name attributes as (short name, value), from the certificate when we
    have it (c2pa-rs's crJSON keeps one value per type), else as c2pa-rs
    reported them."""
    if name is None:
        return tuple((str(k), str(v)) for k, v in reported.items())
    return tuple((_SHORT_NAMES.get(a.oid.dotted_string, a.oid.dotted_string), str(a.value)) for a in name)


def _source_type(actions: Sequence[Action]) -> str | None:
    return next((a.digital_source_type for a in actions if a.digital_source_type), None)


def _inherited_source_type(ingredients: Sequence[Ingredient]) -> str | None:
    """The capture source type of the original, found down the parent chain."""
    for node in ingredients:
        if node.relationship == "parentOf":
            return node.digital_source_type or _inherited_source_type(node.ingredients)
    return None


@dataclass(frozen=True)
class Credentials:
    """Where a clip's credentials were found, and what c2pa-rs made of them."""

    format: formats.MediaFormat
    data: bridge.ManifestStoreData | None  # None: no credentials
    source: str | None  # "embedded", "sidecar" or None
    sidecar: Path | None = None
    sidecar_store: bytes | None = None


def _read_sidecar(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: sidecar manifest not found", hint="check the --manifest path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory", hint="give the .c2pa sidecar file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the sidecar ({exc.strerror})", hint="check its permissions") from None
    if not data:
        raise InputError(f"{path}: the sidecar is empty", hint="give the .c2pa file written by 'sign --sidecar'")
    return data


def load_credentials(
    path: Path, *, trust: TrustStore, manifest: Path | None = None, find_sidecar: bool = True,
    any_format: bool = False,
) -> Credentials:
    """Find and validate the credentials of *path*: the sidecar *manifest*
    when given; else the embedded store; else (no embedded store, or a
    container that cannot embed, such as WebM) a sidecar next to the clip
    (``NAME.c2pa``). Raises :class:`InputError` for an unreadable clip or
    sidecar, and for a container that cannot embed and has no sidecar unless
    *any_format* (then: no credentials)."""
    if manifest is not None:
        fmt = formats.detect_any(path)
        store = _read_sidecar(manifest)
        try:
            data = bridge.read_store(path, mime_type=fmt.mime_type, trust=trust, manifest_data=store)
        except ProvenanceError as exc:
            raise InputError(
                f"{manifest}: not a readable C2PA manifest store ({exc.message.removeprefix(f'{path}: ')})",
                hint="give the .c2pa file written by 'sign --sidecar'",
            ) from None
        if data is None:
            raise InputError(f"{manifest}: holds no manifest", hint="give the .c2pa file written by 'sign --sidecar'")
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
                hint="sign it with 'provenance sign --sidecar', or pass --manifest FILE",
            ) from None
        return load_credentials(path, trust=trust, manifest=found)
    boxes.check_structure(path, fmt)
    data = bridge.read_store(path, mime_type=fmt.mime_type, trust=trust)
    if data is None and find_sidecar:
        found = sidecars.find_sidecar(path)
        if found is not None:
            return load_credentials(path, trust=trust, manifest=found)
    return Credentials(fmt, data, "embedded" if data is not None else None)


def report_from_store(
    path: Path, credentials: Credentials, *, trust: TrustStore
) -> VerificationReport:
    """The report for credentials already loaded by :func:`load_credentials`."""
    if credentials.data is None:
        ref = stripped_manifest_reference(path)
        stripped = (f"credentials were stripped: the file's XMP still points to manifest {ref}, which is gone",)
        return VerificationReport(file=str(path), verdict=Verdict.NO_CREDENTIALS, notes=stripped if ref else ())
    report = _Builder(credentials.data, trust).report(path, credentials_source=credentials.source or "embedded")
    notes = list(report.notes)
    if credentials.sidecar is not None:
        notes.extend(_sidecar_notes(path, credentials.sidecar, report))
    if credentials.source == "embedded" and (found := sidecars.find_sidecar(path)) is not None:
        notes.append(f"a sidecar manifest ({found.name}) is also next to this clip; the embedded one was verified. "
                     f"Verify the sidecar with --manifest {found}")
    if any(s.code == "assertion.bmffHash.mismatch" for s in report.failures) and fragments.is_init_segment(path):
        notes.append("this is the init segment of a fragmented MP4: its hash covers the media segments; "
                     "verify it with --segments GLOB")
    summary, chain_verdict = chain.summarize(report)
    return replace(
        report,
        notes=tuple(notes),
        sidecar=str(credentials.sidecar) if credentials.sidecar is not None else None,
        chain_summary=summary,
        chain_verdict=chain_verdict,
    )


def _sidecar_notes(path: Path, sidecar: Path, report: VerificationReport) -> list[str]:
    """Say plainly why a sidecar does not match: the clip changed, or the
    sidecar was made for another clip (its manifest names another file)."""
    if not any(s.code == "assertion.dataHash.mismatch" for s in report.failures):
        return []
    if report.title and report.title != path.name:
        return [f"the sidecar {sidecar.name} belongs to another clip: it was signed for {report.title!r}, "
                f"and its hash does not match {path.name}"]
    return [f"{path.name} changed after its sidecar {sidecar.name} was signed"]


def verify(
    path: Path | str,
    *,
    trust: TrustStore | None = None,
    manifest: Path | None = None,
    find_sidecar: bool = True,
    policy: Policy | None = None,
) -> VerificationReport:
    """Verify the content credentials of the video at *path*.

    Never raises for a bad input: an unreadable or unsupported file gives a
    report with ``Verdict.ERROR`` and the reason in ``error``. *trust* is
    the set of anchors and pinned certificates to judge signers by; with
    none, no signer is trusted and the best verdict is ``untrusted``.
    *manifest* is a sidecar manifest store (``.c2pa``); without it, a
    sidecar next to the clip is used when the clip embeds none (unless
    *find_sidecar* is false).
    *policy* (see :mod:`provenance.verify.policy`) says who the clip must
    come from: a verified clip that fails it gets ``Verdict.WRONG_SIGNER``.

    There is no verification-time argument: c2pa-rs 0.91 checks certificate
    validity against the system clock (or a trusted time-stamp), with no
    setting to choose another time.

    >>> from provenance import verify, TrustStore, SourceKind
    >>> store = TrustStore().with_pem_file(Path("keys/root-ca.pem"), kind=SourceKind.ANCHORS)  # doctest: +SKIP
    >>> verify("signed.mp4", trust=store).verdict  # doctest: +SKIP
    <Verdict.VERIFIED: 'verified'>
    """
    path = Path(path)
    trust = trust or TrustStore()
    try:
        credentials = load_credentials(path, trust=trust, manifest=manifest, find_sidecar=find_sidecar)
        report = report_from_store(path, credentials, trust=trust)
    except ProvenanceError as exc:
        # Whatever is wrong with the input (the clip, a sidecar, credentials
        # c2pa cannot parse) is a report, never an exception.
        return VerificationReport(file=str(path), verdict=Verdict.ERROR, error=_unreadable(path, exc))
    return apply_policy(report, policy) if policy is not None else report


def _unreadable(path: Path, exc: ProvenanceError) -> str:
    """One line saying why *path* could not be verified."""
    if isinstance(exc, InputError):
        return exc.diagnostics()
    detail = exc.message.removeprefix(f"{path}: ")
    return (f"{path}: its content credentials cannot be read ({detail}); "
            "the manifest store is damaged or not C2PA: verify an intact copy")


def apply_policy(report: VerificationReport, policy: Policy) -> VerificationReport:
    """*report* judged against an identity *policy*: a verified clip that
    fails it becomes ``wrong_signer``; any other verdict is kept (an
    untrusted signer is not vouched for, whatever its certificate says),
    with the reasons recorded in ``policy_failures`` either way."""
    reasons = policy.failures(report) if report.verdict is not Verdict.ERROR else ()
    if not reasons:
        return report
    verdict = Verdict.WRONG_SIGNER if report.verdict is Verdict.VERIFIED else report.verdict
    judged = replace(report, verdict=verdict, policy_failures=tuple(reasons))
    if judged.chain_summary is not None:
        judged = replace(judged, chain_summary=chain.summarize(judged)[0])
    return judged
