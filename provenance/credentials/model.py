"""A file's manifest store as a frozen model, built once per file.

:func:`parse_store` is the only code in provenance that reads c2pa's JSON
(the Reader's manifest-store report). With the COSE headers of each claim
signature (certificate chain, RFC 3161 time-stamp tokens, read by
:mod:`provenance.credentials.cose`) and the claim thumbnails it makes a
:class:`ManifestStore`: manifests, their signature info, actions, ingredient
links with their relationships and recorded validation results, and the
statuses c2pa-rs reports now, each attached to the manifest its URL names.

The one ingredient walk lives here too (:meth:`ManifestStore.tree`), with
its rules: an ingredient whose manifest is in the store becomes a node with
that manifest and its own ingredients, unless the manifest is already on
the path from the active manifest (a cycle) or the node would lie deeper
than :data:`MAX_DEPTH`; then, like an ingredient without credentials, it is
a leaf with no manifest.

Certificates are checked when the model is built: a certificate of the
x5chain whose fields do not parse (a changed byte in the COSE header) ends
the chain there, so nothing downstream meets a half-parsed certificate.

The model round-trips through JSON (:meth:`ManifestStore.to_dict`,
:meth:`ManifestStore.from_dict`), so the verdict rules are unit-tested on
recorded stores without c2pa or PyAV.

>>> store = ManifestStore.from_dict(json.loads(Path("tests/verification/fixtures/signed.json").read_text()))  # doctest: +SKIP
>>> store.active.title, [n.link.relationship for n in store.tree]  # doctest: +SKIP
('clip.mp4', [])
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import enum
import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from provenance.credentials.cose import IdentitySignature, SignatureHeaders
from provenance.credentials.timestamp import TimeStampToken, parse_token

MAX_DEPTH = 32
_MANIFEST_IN_URL = re.compile(r"self#jumbf=/c2pa/([^/]+)")


class StatusKind(str, enum.Enum):
    """How c2pa-rs classes a validation status code."""

    SUCCESS = "success"
    INFORMATIONAL = "informational"
    FAILURE = "failure"


@dataclass(frozen=True)
class Status:
    """One C2PA validation status code with its explanation."""

    code: str
    kind: StatusKind
    explanation: str
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "kind": self.kind.value, "explanation": self.explanation, "url": self.url}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Status:
        return cls(str(data["code"]), StatusKind(data["kind"]), str(data.get("explanation") or ""), data.get("url"))


@dataclass(frozen=True)
class Action:
    """One entry of a manifest's ``c2pa.actions`` assertion."""

    action: str
    when: str | None = None
    digital_source_type: str | None = None
    software_agent: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "when": self.when,
            "digital_source_type": self.digital_source_type,
            "software_agent": self.software_agent,
            "parameters": self.parameters,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        return cls(
            str(data["action"]),
            data.get("when"),
            data.get("digital_source_type"),
            data.get("software_agent"),
            dict(data.get("parameters") or {}),
        )


@dataclass(frozen=True)
class Thumbnail:
    """The claim thumbnail the signer embedded: what the clip looked like
    when it was signed (not a frame of the file as it is now)."""

    mime_type: str
    data: bytes = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"mime_type": self.mime_type, "data_base64": base64.b64encode(self.data).decode("ascii")}


# --- signature info -----------------------------------------------------------

_SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "1.2.840.113549.1.9.1": "E",
    "2.5.4.5": "serialNumber",
    "2.5.4.97": "organizationIdentifier",
}

Attributes = tuple[tuple[str, str], ...]


def _attributes(name: x509.Name) -> Attributes:
    return tuple((_SHORT_NAMES.get(a.oid.dotted_string, a.oid.dotted_string), str(a.value)) for a in name)


def _readable(cert: x509.Certificate) -> bool:
    """True when every field provenance reads parses (cryptography parses
    lazily, so a damaged certificate can load and fail later)."""
    try:
        _attributes(cert.subject)
        _attributes(cert.issuer)
        list(cert.extensions)
        cert.not_valid_before_utc, cert.not_valid_after_utc  # noqa: B018 - parsed for the check
        cert.public_bytes(serialization.Encoding.DER)
        return True
    except (ValueError, TypeError, x509.InvalidVersion):
        return False


def usable_chain(chain: Sequence[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """*chain* up to its first certificate that does not parse."""
    usable: list[x509.Certificate] = []
    for cert in chain:
        if not _readable(cert):
            break
        usable.append(cert)
    return tuple(usable)


def _emails(cert: x509.Certificate) -> tuple[str | None, tuple[str, ...]]:
    """``(email, emails)``: the first e-mail SAN (or, without a SAN, the
    subject emailAddress), and every e-mail address the certificate names."""
    subject_emails = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        emails = [str(e) for e in san.get_values_for_type(x509.RFC822Name)]
        email = emails[0] if emails else None
    except x509.ExtensionNotFound:
        emails = []
        email = subject_emails[0] if subject_emails else None
    emails += [e for e in subject_emails if e not in emails]
    return email, tuple(emails)


class _CertificateNames:
    """The names of a credential's leaf certificate, for a frozen record
    with a ``chain`` (leaf first): a claim signature, a CAWG identity."""

    chain: tuple[x509.Certificate, ...]

    @property
    def leaf(self) -> x509.Certificate | None:
        return self.chain[0] if self.chain else None

    @property
    def subject(self) -> Attributes:
        return _attributes(self.leaf.subject) if self.leaf else ()

    @property
    def issuer_name(self) -> Attributes:
        return _attributes(self.leaf.issuer) if self.leaf else ()

    @property
    def emails(self) -> tuple[str | None, tuple[str, ...]]:
        return _emails(self.leaf) if self.leaf else (None, ())


@dataclass(frozen=True)
class SignatureInfo(_CertificateNames):
    """A claim signature: what c2pa-rs says of it and what its COSE headers
    hold. Name fields come from the leaf certificate when it parses, else
    from what c2pa-rs reported."""

    chain: tuple[x509.Certificate, ...] = ()  # leaf first; only certificates that parse
    timestamp_tokens: tuple[bytes, ...] = ()  # raw RFC 3161 tokens
    time: str | None = None  # c2pa-rs's signing time (from a time-stamp, when there is one)
    reported_issuer: str | None = None  # c2pa-rs's signature_info.issuer
    reported_common_name: str | None = None  # c2pa-rs's signature_info.common_name

    @functools.cached_property
    def timestamps(self) -> tuple[TimeStampToken, ...]:
        return tuple(t for t in (parse_token(raw) for raw in self.timestamp_tokens) if t is not None)

    @property
    def validity(self) -> tuple[str | None, str | None]:
        if self.leaf is None:
            return None, None
        return self.leaf.not_valid_before_utc.isoformat(), self.leaf.not_valid_after_utc.isoformat()

    def to_dict(self) -> dict[str, Any]:
        return {
            "chain": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in self.chain],
            "timestamp_tokens": [base64.b64encode(t).decode() for t in self.timestamp_tokens],
            "time": self.time,
            "reported_issuer": self.reported_issuer,
            "reported_common_name": self.reported_common_name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignatureInfo:
        chain = tuple(x509.load_der_x509_certificate(base64.b64decode(c)) for c in data.get("chain") or ())
        return cls(
            chain=usable_chain(chain),
            timestamp_tokens=tuple(base64.b64decode(t) for t in data.get("timestamp_tokens") or ()),
            time=data.get("time"),
            reported_issuer=data.get("reported_issuer"),
            reported_common_name=data.get("reported_common_name"),
        )


# --- manifests and ingredients ------------------------------------------------


@dataclass(frozen=True)
class Assertion:
    """An assertion of a manifest: its label and its data as c2pa-rs decoded it."""

    label: str
    data: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "data": self.data}


@dataclass(frozen=True)
class IngredientLink:
    """An ingredient as a manifest lists it."""

    title: str | None
    relationship: str | None
    manifest_label: str | None  # its active manifest, when it carried credentials
    recorded: tuple[Status, ...] = ()  # the validation results the signer recorded when it added it
    thumbnail_id: str | None = None
    thumbnail_format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "relationship": self.relationship,
            "manifest_label": self.manifest_label,
            "recorded": [s.to_dict() for s in self.recorded],
            "thumbnail_id": self.thumbnail_id,
            "thumbnail_format": self.thumbnail_format,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IngredientLink:
        return cls(
            data.get("title"),
            data.get("relationship"),
            data.get("manifest_label"),
            tuple(Status.from_dict(s) for s in data.get("recorded") or ()),
            data.get("thumbnail_id"),
            data.get("thumbnail_format"),
        )


# --- CAWG identity assertions (issue 10, part 1) -----------------------------


@dataclass(frozen=True)
class VerifiedIdentity:
    """One verified identity of an identity-claims-aggregation credential
    (``verifiedIdentities[]``): a social account, a web site, a document…"""

    type: str  # cawg.social_media, cawg.web_site, cawg.document_verification, …
    name: str | None = None
    username: str | None = None
    uri: str | None = None
    address: str | None = None
    provider: str | None = None  # provider.name
    provider_id: str | None = None  # provider.id
    verified_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "username": self.username,
            "uri": self.uri,
            "address": self.address,
            "provider": self.provider,
            "provider_id": self.provider_id,
            "verified_at": self.verified_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VerifiedIdentity:
        return cls(**{k: _text(data.get(k)) for k in cls.__dataclass_fields__ if k != "type"}, type=str(data["type"]))


@dataclass(frozen=True)
class IdentityAssertion(_CertificateNames):
    """A ``cawg.identity`` assertion of a manifest: the credential that
    signed it, the assertions it covers, and what c2pa-rs found (the
    statuses whose URL names it)."""

    label: str  # cawg.identity, cawg.identity__2, …
    sig_type: str | None  # cawg.x509.cose, cawg.identity_claims_aggregation, …
    referenced: tuple[str, ...] = ()  # labels of the assertions it covers
    roles: tuple[str, ...] = ()
    chain: tuple[x509.Certificate, ...] = ()  # the X.509 credential, leaf first; only certificates that parse
    reported_common_name: str | None = None  # c2pa-rs's signature_info.common_name
    reported_organization: str | None = None  # c2pa-rs's signature_info.issuer (the subject's O)
    issuer: str | None = None  # the verifiable credential's issuer (identity-claims-aggregation form)
    verified_identities: tuple[VerifiedIdentity, ...] = ()
    statuses: tuple[Status, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "sig_type": self.sig_type,
            "referenced": list(self.referenced),
            "roles": list(self.roles),
            "chain": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in self.chain],
            "reported_common_name": self.reported_common_name,
            "reported_organization": self.reported_organization,
            "issuer": self.issuer,
            "verified_identities": [v.to_dict() for v in self.verified_identities],
            "statuses": [s.to_dict() for s in self.statuses],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IdentityAssertion:
        chain = tuple(x509.load_der_x509_certificate(base64.b64decode(c)) for c in data.get("chain") or ())
        return cls(
            label=str(data["label"]),
            sig_type=data.get("sig_type"),
            referenced=tuple(data.get("referenced") or ()),
            roles=tuple(data.get("roles") or ()),
            chain=usable_chain(chain),
            reported_common_name=data.get("reported_common_name"),
            reported_organization=data.get("reported_organization"),
            issuer=data.get("issuer"),
            verified_identities=tuple(VerifiedIdentity.from_dict(v) for v in data.get("verified_identities") or ()),
            statuses=tuple(Status.from_dict(s) for s in data.get("statuses") or ()),
        )


def is_identity_label(label: str) -> bool:
    """Whether *label* names a CAWG identity assertion."""
    return label == "cawg.identity" or label.startswith("cawg.identity__")


def _identity(
    label: str, data: Mapping[str, Any], statuses: Sequence[Status], signature: IdentitySignature | None
) -> IdentityAssertion:
    """The model of one ``cawg.identity`` assertion from c2pa-rs's JSON of
    it (``signer_payload``, and ``signature_info`` once c2pa-rs validated
    the X.509 signature) and its COSE signature (*signature*)."""
    payload = _map(data.get("signer_payload"))
    info = _map(data.get("signature_info"))
    referenced = []
    for ref in _list(payload.get("referenced_assertions")):
        url = str(_map(ref).get("url") or "")
        if url:
            referenced.append(url.rsplit("/", 1)[-1])
    credential = _ica_credential(signature.payload if signature else None)
    subject = _map(credential.get("credentialSubject"))
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    verified = []
    for item in _list(subject.get("verifiedIdentities")):
        item = _map(item)
        provider = _map(item.get("provider"))
        if item.get("type"):
            verified.append(
                VerifiedIdentity(
                    type=str(item["type"]),
                    name=_text(item.get("name")),
                    username=_text(item.get("username")),
                    uri=_text(item.get("uri")),
                    address=_text(item.get("address")),
                    provider=_text(provider.get("name")),
                    provider_id=_text(provider.get("id")),
                    verified_at=_text(item.get("verifiedAt")),
                )
            )
    suffix = f"c2pa.assertions/{label}"
    return IdentityAssertion(
        label=label,
        sig_type=_text(payload.get("sig_type")),
        referenced=tuple(referenced),
        roles=tuple(str(r) for r in _list(payload.get("roles"))),
        chain=usable_chain(signature.chain) if signature else (),
        reported_common_name=_text(info.get("common_name")),
        reported_organization=_text(info.get("issuer")),
        issuer=_text(issuer),
        verified_identities=tuple(verified),
        statuses=tuple(s for s in statuses if (s.url or "").endswith(suffix)),
    )


def _identities(
    manifest: Mapping[str, Any], statuses: Sequence[Status], signatures: Mapping[str, IdentitySignature]
) -> tuple[IdentityAssertion, ...]:
    """Every ``cawg.identity`` assertion of one manifest of c2pa's report."""
    out = []
    for assertion in _list(manifest.get("assertions")):
        label = str(_map(assertion).get("label", ""))
        if is_identity_label(label):
            out.append(_identity(label, _map(_map(assertion).get("data")), statuses, signatures.get(label)))
    return tuple(out)


def _ica_credential(payload: bytes | None) -> Mapping[str, Any]:
    """The verifiable credential an identity-claims-aggregation signature
    carries as its COSE payload (JSON), or ``{}``."""
    if not payload:
        return {}
    try:
        return _map(json.loads(payload))
    except (ValueError, UnicodeDecodeError):
        return {}


@dataclass(frozen=True)
class Manifest:
    """One manifest of the store."""

    label: str
    title: str | None = None
    generator: str | None = None
    actions: tuple[Action, ...] = ()
    assertions: tuple[Assertion, ...] = ()
    ingredients: tuple[IngredientLink, ...] = ()
    signature: SignatureInfo = field(default_factory=SignatureInfo)
    statuses: tuple[Status, ...] = ()  # what c2pa-rs reports for this manifest now
    thumbnail: Thumbnail | None = field(default=None, repr=False)
    thumbnail_id: str | None = None
    identities: tuple[IdentityAssertion, ...] = ()  # its cawg.identity assertions

    def assertion(self, prefix: str) -> Assertion | None:
        """The first assertion whose label starts with *prefix* (``"c2pa.hash.bmff"``)."""
        return next((a for a in self.assertions if a.label.startswith(prefix)), None)

    @property
    def digital_source_type(self) -> str | None:
        return next((a.digital_source_type for a in self.actions if a.digital_source_type), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "title": self.title,
            "generator": self.generator,
            "actions": [a.to_dict() for a in self.actions],
            "assertions": [a.to_dict() for a in self.assertions],
            "ingredients": [i.to_dict() for i in self.ingredients],
            "signature": self.signature.to_dict(),
            "statuses": [s.to_dict() for s in self.statuses],
            "thumbnail": self.thumbnail.to_dict() if self.thumbnail else None,
            "thumbnail_id": self.thumbnail_id,
            "identities": [i.to_dict() for i in self.identities],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        thumb = data.get("thumbnail")
        return cls(
            label=str(data["label"]),
            title=data.get("title"),
            generator=data.get("generator"),
            actions=tuple(Action.from_dict(a) for a in data.get("actions") or ()),
            assertions=tuple(Assertion(str(a["label"]), a.get("data")) for a in data.get("assertions") or ()),
            ingredients=tuple(IngredientLink.from_dict(i) for i in data.get("ingredients") or ()),
            signature=SignatureInfo.from_dict(data.get("signature") or {}),
            statuses=tuple(Status.from_dict(s) for s in data.get("statuses") or ()),
            thumbnail=Thumbnail(thumb["mime_type"], base64.b64decode(thumb["data_base64"])) if thumb else None,
            thumbnail_id=data.get("thumbnail_id"),
            identities=tuple(IdentityAssertion.from_dict(i) for i in data.get("identities") or ()),
        )


@dataclass(frozen=True)
class ChainNode:
    """A node of the ingredient tree: the link, the ingredient's manifest
    (``None`` without credentials, in a cycle or too deep), its children,
    and its *path*, the indices that lead to it from the active manifest."""

    link: IngredientLink
    manifest: Manifest | None
    children: tuple[ChainNode, ...]
    path: tuple[int, ...]

    @property
    def depth(self) -> int:
        return len(self.path) - 1


@dataclass(frozen=True)
class ManifestStore:
    """A file's manifest store: every manifest, the active one named."""

    active_label: str | None
    manifests: tuple[Manifest, ...]
    validation_state: str = ""
    embedded: bool = True
    # c2pa-rs's validation results, kept opaque: an edit hands them back to
    # c2pa-rs with a sidecar parent's store; provenance never reads them.
    raw_validation_results: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def _by_label(self) -> dict[str, Manifest]:
        return {m.label: m for m in self.manifests}

    def get(self, label: str | None) -> Manifest | None:
        return self._by_label.get(label) if label else None

    @property
    def active(self) -> Manifest | None:
        return self.get(self.active_label)

    @functools.cached_property
    def tree(self) -> tuple[ChainNode, ...]:
        """The active manifest's ingredients as a tree, newest first."""
        active = self.active
        if active is None:
            return ()
        return self._children(active, (), frozenset({active.label}))

    def _children(self, manifest: Manifest, path: tuple[int, ...], seen: frozenset[str]) -> tuple[ChainNode, ...]:
        nodes = []
        for i, link in enumerate(manifest.ingredients):
            child = self.get(link.manifest_label)
            here = path + (i,)
            if child is None or child.label in seen or len(path) >= MAX_DEPTH:
                nodes.append(ChainNode(link, None, (), here))
            else:
                nodes.append(ChainNode(link, child, self._children(child, here, seen | {child.label}), here))
        return tuple(nodes)

    def walk(self) -> Iterator[ChainNode]:
        """Every node of :attr:`tree`, depth first, in the order ``show`` numbers them."""

        def visit(nodes: Sequence[ChainNode]) -> Iterator[ChainNode]:
            for node in nodes:
                yield node
                yield from visit(node.children)

        return visit(self.tree)

    def to_dict(self) -> dict[str, Any]:
        return {
            "active_label": self.active_label,
            "manifests": [m.to_dict() for m in self.manifests],
            "validation_state": self.validation_state,
            "embedded": self.embedded,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ManifestStore:
        return cls(
            data.get("active_label"),
            tuple(Manifest.from_dict(m) for m in data.get("manifests") or ()),
            str(data.get("validation_state") or ""),
            bool(data.get("embedded", True)),
        )


# --- from c2pa's JSON -----------------------------------------------------------


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _statuses(block: Any) -> list[Status]:
    out: list[Status] = []
    for kind in StatusKind:
        for item in _list(_map(block).get(kind.value)):
            item = _map(item)
            out.append(
                Status(str(item.get("code", "?")), kind, str(item.get("explanation") or ""), _text(item.get("url")))
            )
    return out


def _group_by_manifest(report: Mapping[str, Any], active: str) -> dict[str, list[Status]]:
    """Statuses per manifest label, from the URL each names (the active
    manifest when it names none)."""
    results = _map(report.get("validation_results"))
    groups: dict[str, list[Status]] = {}

    def add(status: Status) -> None:
        match = _MANIFEST_IN_URL.match(status.url or "")
        groups.setdefault(match.group(1) if match else active, []).append(status)

    for status in _statuses(results.get("activeManifest")):
        add(status)
    for delta in _list(results.get("ingredientDeltas")):
        for status in _statuses(_map(delta).get("validationDeltas")):
            add(status)
    if not results:  # older stores report a flat list of failures
        for item in _list(report.get("validation_status")):
            item = _map(item)
            add(
                Status(
                    str(item.get("code", "?")),
                    StatusKind.FAILURE,
                    str(item.get("explanation") or ""),
                    _text(item.get("url")),
                )
            )
    return groups


def _actions(manifest: Mapping[str, Any]) -> tuple[Action, ...]:
    out: list[Action] = []
    for assertion in _list(manifest.get("assertions")):
        assertion = _map(assertion)
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for act in _list(_map(assertion.get("data")).get("actions")):
            act = _map(act)
            agent = act.get("softwareAgent")
            if isinstance(agent, Mapping):
                agent = " ".join(str(v) for v in (agent.get("name"), agent.get("version")) if v)
            out.append(
                Action(
                    action=str(act.get("action", "?")),
                    when=_text(act.get("when")),
                    digital_source_type=_text(act.get("digitalSourceType")),
                    software_agent=_text(agent),
                    parameters=dict(_map(act.get("parameters"))),
                )
            )
    return tuple(out)


def _generator(manifest: Mapping[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info:
        first = _map(info[0])
        return " ".join(str(first[k]) for k in ("name", "version") if first.get(k))
    gen = manifest.get("claim_generator")
    return str(gen) if gen else None


def _link(ingredient: Mapping[str, Any]) -> IngredientLink:
    thumb = _map(ingredient.get("thumbnail"))
    return IngredientLink(
        title=_text(ingredient.get("title")),
        relationship=_text(ingredient.get("relationship")),
        manifest_label=_text(ingredient.get("active_manifest")),
        recorded=tuple(_statuses(_map(ingredient.get("validation_results")).get("activeManifest"))),
        thumbnail_id=_text(thumb.get("identifier")),
        thumbnail_format=_text(thumb.get("format")),
    )


def demote_crjson_statuses(
    document: dict[str, Any], *, label: str, demote: Mapping[str, tuple[str, str]]
) -> dict[str, Any]:
    """A copy of the crJSON *document* where manifest *label*'s success
    statuses named in *demote* (code -> (failure code, explanation)) are
    failures instead: how the verdict rules judged what c2pa-rs reported."""
    manifests = document.get("manifests")
    if not demote or not isinstance(manifests, list):
        return document
    out = copy.deepcopy(document)
    for entry in out["manifests"]:
        results = entry.get("validationResults") if isinstance(entry, dict) else None
        if entry.get("label") != label or not isinstance(results, dict):
            continue
        success = results.get("success") or []
        moved = [e for e in success if isinstance(e, dict) and e.get("code") in demote]
        results["success"] = [e for e in success if e not in moved]
        results["failure"] = [
            *(results.get("failure") or []),
            *({**e, "code": demote[e["code"]][0], "explanation": demote[e["code"]][1]} for e in moved),
        ]
    return out


def active_label(report: Mapping[str, Any]) -> str | None:
    """The active manifest a Reader report names."""
    return _text(report.get("active_manifest"))


def claim_thumbnail_ids(report: Mapping[str, Any]) -> dict[str, str]:
    """Manifest label -> resource identifier of its claim thumbnail."""
    out = {}
    for label, data in _map(report.get("manifests")).items():
        ident = _map(_map(data).get("thumbnail")).get("identifier")
        if ident:
            out[str(label)] = str(ident)
    return out


def parse_store(
    report: Mapping[str, Any],
    *,
    signatures: Mapping[str, SignatureHeaders],
    thumbnails: Mapping[str, bytes],
    validation_state: str = "",
    embedded: bool = True,
    identities: Mapping[str, Mapping[str, IdentitySignature]] | None = None,
) -> ManifestStore:
    """The model of c2pa's manifest-store report *report* (``Reader.json()``),
    with the COSE *signatures* and claim *thumbnails* of each manifest label,
    and the signatures of its CAWG identity assertions (*identities*:
    manifest label -> assertion label -> signature)."""
    active = _text(report.get("active_manifest")) or ""
    groups = _group_by_manifest(report, active)
    manifests: list[Manifest] = []
    for label, data in _map(report.get("manifests")).items():
        data = _map(data)
        headers = signatures.get(label)
        sig = _map(data.get("signature_info"))
        thumb = _map(data.get("thumbnail"))
        thumb_bytes = thumbnails.get(label)
        statuses = tuple(groups.get(str(label), ()))
        manifests.append(
            Manifest(
                label=str(label),
                title=_text(data.get("title")),
                generator=_generator(data),
                actions=_actions(data),
                assertions=tuple(
                    Assertion(str(_map(a).get("label", "")), _map(a).get("data")) for a in _list(data.get("assertions"))
                ),
                ingredients=tuple(_link(_map(i)) for i in _list(data.get("ingredients"))),
                signature=SignatureInfo(
                    chain=usable_chain(headers.chain) if headers else (),
                    timestamp_tokens=headers.timestamp_tokens if headers else (),
                    time=_text(sig.get("time")),
                    reported_issuer=_text(sig.get("issuer")),
                    reported_common_name=_text(sig.get("common_name")),
                ),
                statuses=statuses,
                thumbnail=Thumbnail(str(thumb.get("format") or "image/jpeg"), thumb_bytes) if thumb_bytes else None,
                thumbnail_id=_text(thumb.get("identifier")),
                identities=_identities(data, statuses, _map((identities or {}).get(str(label)))),
            )
        )
    results = report.get("validation_results")
    return ManifestStore(
        active or None,
        tuple(manifests),
        validation_state,
        embedded,
        dict(results) if isinstance(results, Mapping) else None,
    )


def utc_text(when: dt.datetime) -> str:
    """An aware time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
