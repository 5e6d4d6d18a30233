"""Read RFC 3161 time-stamp tokens carried in a claim signature.

c2pa-rs validates the token (message imprint, TSA signature, TSA trust) and
reports it with ``timeStamp.*`` status codes; this module only reads what
people need to see: when, and which authority said so, plus the TSA's
certificates so that provenance can name the trust source that vouched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.oid import NameOID

from provenance.identity.certificates import attribute

if TYPE_CHECKING:  # asn1crypto loads only when a time-stamp is read
    from asn1crypto import cms, tsp


@dataclass(frozen=True)
class TimeStampToken:
    """The unverified content of one time-stamp token (c2pa-rs verifies it)."""

    gen_time: dt.datetime
    authority: str  # the TSA certificate's CN (and O), or the TSTInfo tsa name
    chain: tuple[x509.Certificate, ...]  # TSA signer certificate first
    serial_number: int
    policy: str


def _signed_data(raw: bytes) -> cms.SignedData | None:
    """The SignedData of a TimeStampToken (sigTst2) or of the token inside a
    TimeStampResp (sigTst v1)."""
    for parse in (_from_token, _from_response):
        try:
            sd = parse(raw)
        except (ValueError, TypeError, KeyError):
            continue
        if sd is not None:
            return sd
    return None


def _from_token(raw: bytes) -> cms.SignedData | None:
    from asn1crypto import cms

    info = cms.ContentInfo.load(raw, strict=True)
    if info["content_type"].native != "signed_data":
        return None
    return info["content"]


def _from_response(raw: bytes) -> cms.SignedData | None:
    from asn1crypto import tsp

    resp = tsp.TimeStampResp.load(raw, strict=True)
    token = resp["time_stamp_token"]
    if not token or token.native is None:
        return None
    return token["content"]


def _authority_name(cert: x509.Certificate | None, tst: tsp.TSTInfo) -> str:
    if cert is not None:
        cn = attribute(cert.subject, NameOID.COMMON_NAME)
        org = attribute(cert.subject, NameOID.ORGANIZATION_NAME)
        if cn and org and org not in cn:
            return f"{cn} ({org})"
        if cn or org:
            return str(cn or org)
    name = tst["tsa"]
    if name and name.native is not None:
        return str(name.chosen.human_friendly if hasattr(name.chosen, "human_friendly") else name.native)
    return "unknown time-stamp authority"


# What a damaged certificate raises when cryptography parses it: not all are
# ValueErrors (x509.InvalidVersion for a changed version byte).
_BAD_CERTIFICATE = (
    ValueError,
    TypeError,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    UnsupportedAlgorithm,
)


def _certificate(der: bytes) -> x509.Certificate | None:
    """*der* as a certificate, or ``None`` when it is damaged. cryptography
    parses fields lazily, so the ones provenance reads later (names,
    serial, extensions, validity, key) are parsed here, where a damaged
    one can still be dropped."""
    try:
        cert = x509.load_der_x509_certificate(der)
        cert.subject, cert.issuer, cert.serial_number, cert.extensions  # noqa: B018 - force the parse
        cert.not_valid_before_utc, cert.not_valid_after_utc, cert.public_key(), cert.signature_hash_algorithm  # noqa: B018
    except _BAD_CERTIFICATE:
        return None
    return cert


def parse_token(raw: bytes) -> TimeStampToken | None:
    """Parse one token; ``None`` when it is not a readable RFC 3161 token."""
    from asn1crypto import tsp

    sd = _signed_data(raw)
    if sd is None:
        return None
    try:
        tst = sd["encap_content_info"]["content"].parsed
        if not isinstance(tst, tsp.TSTInfo):
            tst = tsp.TSTInfo.load(sd["encap_content_info"]["content"].contents)
        gen_time = tst["gen_time"].native
        # a damaged certificate is left out: the token then names no
        # authority by it and no trust source vouches for it
        certs = [
            cert
            for cert in (
                _certificate(choice.chosen.dump())
                for choice in sd["certificates"] or []
                if choice.name == "certificate"
            )
            if cert is not None
        ]
        signer = _signer_cert(sd, certs)
        chain = ([signer] if signer else []) + [c for c in certs if c is not signer]
        return TimeStampToken(
            gen_time=gen_time.astimezone(dt.UTC),
            authority=_authority_name(signer, tst),
            chain=tuple(chain),
            serial_number=int(tst["serial_number"].native),
            policy=str(tst["policy"].native),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _signer_cert(sd: cms.SignedData, certs: list[x509.Certificate]) -> x509.Certificate | None:
    infos = sd["signer_infos"]
    if not len(infos):
        return None
    sid = infos[0]["sid"]
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            if (
                cert.serial_number == sid.chosen["serial_number"].native
                and cert.issuer.public_bytes() == sid.chosen["issuer"].dump()
            ):
                return cert
        else:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.chosen.native:
                return cert
    return certs[0] if certs else None
