"""Turn what c2pa-rs reports into a :class:`VerificationReport`.

The verdict of a manifest comes from the failure codes c2pa-rs attaches to
it (each status URL names the manifest it concerns), so every node of the
ingredient chain gets a verdict of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.x509.oid import NameOID

from provenance.credentials import bridge
from provenance.credentials.manifest import is_ai
from provenance.errors import InputError
from provenance.identity.certificates import attribute
from provenance.media import formats
from provenance.media.xmp import stripped_manifest_reference
from provenance.trust.store import TrustStore
from provenance.verify.report import (
    Action,
    Ingredient,
    SignerIdentity,
    Status,
    StatusKind,
    Thumbnail,
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

    def verdict(self, label: str) -> Verdict:
        return classify(self.groups.get(label, []))

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
        if chain:
            from cryptography import x509

            try:
                san = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                emails = san.get_values_for_type(x509.RFC822Name)
                email = emails[0] if emails else None
            except x509.ExtensionNotFound:
                email = attribute(chain[0].subject, NameOID.EMAIL_ADDRESS)
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
        headers = self.data.signatures.get(label)
        validated = any(s.code == "timeStamp.validated" for s in self.groups.get(label, []))
        return validated or bool(headers and headers.timestamped and (self.manifests.get(label, {}).get("signature_info") or {}).get("time"))

    def ingredients(self, label: str, depth: int, seen: frozenset[str]) -> tuple[Ingredient, ...]:
        nodes: list[Ingredient] = []
        for ing in (self.manifests.get(label) or {}).get("ingredients") or []:
            child = ing.get("active_manifest")
            if child and child in self.manifests and child not in seen and depth < _MAX_DEPTH:
                verdict = self.verdict(child)
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
                        status=tuple(self.groups.get(child, [])),
                        ingredients=self.ingredients(child, depth + 1, seen | {child}),
                    )
                )
            else:
                nodes.append(
                    Ingredient(
                        title=ing.get("title"),
                        relationship=ing.get("relationship"),
                        verdict=Verdict.NO_CREDENTIALS,
                        status=tuple(_statuses(ing.get("validation_results", {}).get("activeManifest"))),
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
        return VerificationReport(
            file=str(path),
            verdict=verdict,
            signer=self.signer(label, verdict),
            signed_at=self.signed_at(label, actions),
            timestamped=self.timestamped(label),
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


def _source_type(actions: Sequence[Action]) -> str | None:
    return next((a.digital_source_type for a in actions if a.digital_source_type), None)


def _inherited_source_type(ingredients: Sequence[Ingredient]) -> str | None:
    """The capture source type of the original, found down the parent chain."""
    for node in ingredients:
        if node.relationship == "parentOf":
            return node.digital_source_type or _inherited_source_type(node.ingredients)
    return None


def verify(
    path: Path | str,
    *,
    trust: TrustStore | None = None,
    manifest: Path | None = None,
) -> VerificationReport:
    """Verify the content credentials of the video at *path*.

    Never raises for a bad input: an unreadable or unsupported file gives a
    report with ``Verdict.ERROR`` and the reason in ``error``. *trust* is
    the set of anchors and pinned certificates to judge signers by; with
    none, no signer is trusted and the best verdict is ``untrusted``.

    >>> from provenance import verify, TrustStore, SourceKind
    >>> store = TrustStore().with_pem_file(Path("keys/root-ca.pem"), kind=SourceKind.ANCHORS)  # doctest: +SKIP
    >>> verify("signed.mp4", trust=store).verdict  # doctest: +SKIP
    <Verdict.VERIFIED: 'verified'>
    """
    path = Path(path)
    trust = trust or TrustStore()
    try:
        fmt = formats.detect(path)
        sidecar = manifest.read_bytes() if manifest is not None else None
        data = bridge.read_store(path, mime_type=fmt.mime_type, trust=trust, manifest_data=sidecar)
    except InputError as exc:
        return VerificationReport(file=str(path), verdict=Verdict.ERROR, error=exc.diagnostics())
    except OSError as exc:
        return VerificationReport(file=str(path), verdict=Verdict.ERROR, error=f"{manifest}: cannot read manifest ({exc.strerror})")
    if data is None:
        notes: tuple[str, ...] = ()
        ref = stripped_manifest_reference(path)
        if ref:
            notes = (f"credentials were stripped: the file's XMP still points to manifest {ref}, which is gone",)
        return VerificationReport(file=str(path), verdict=Verdict.NO_CREDENTIALS, notes=notes)
    source = "sidecar" if manifest is not None else "embedded"
    return _Builder(data, trust).report(path, credentials_source=source)
