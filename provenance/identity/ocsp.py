"""OCSP (RFC 6960) for claim-signing certificates: the delegated responder
certificate, answers signed with it, and the client that fetches a
signer's status so it can travel with the clip.

c2pa-rs 0.91.3 only uses an OCSP response that embeds the certificate
that signed it, and only when that certificate carries id-kp-OCSPSigning
and chains to a trust anchor (``crypto/cose/ocsp.rs``); so answers are
signed by a delegated responder certificate issued by the issuing CA,
never by the CA key itself, and carry it.

>>> status = fetch_status(signer.chain)  # doctest: +SKIP
>>> status.state, status.url  # doctest: +SKIP
('good', 'http://ocsp.example.com/')
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from provenance.errors import CredentialError, IdentityError
from provenance.identity import certificates as certs
from provenance.identity.keys import PrivateKey

MAX_REQUEST_BYTES = 64 * 1024  # a single-certificate request is ~100 bytes
MAX_RESPONSE_BYTES = 1 << 20  # what c2pa-rs reads of an answer, too
DEFAULT_TIMEOUT = 10.0
NEXT_UPDATE = dt.timedelta(days=1)

#: Revocation reasons an operator may give (RFC 5280 CRLReason), by CLI name.
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key-compromise": x509.ReasonFlags.key_compromise,
    "affiliation-changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation-of-operation": x509.ReasonFlags.cessation_of_operation,
    "privilege-withdrawn": x509.ReasonFlags.privilege_withdrawn,
}


class CertState(str, enum.Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Revocation:
    """One revoked certificate, as the CA records it."""

    serial: int
    revoked_at: dt.datetime
    reason: str  # a key of REASONS


# -- the responder certificate ---------------------------------------------------


def responder_certificate(
    subject: certs.Subject,
    public_key: object,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    *,
    days: float,
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    """A delegated OCSP responder certificate (RFC 6960 §4.2.2.2): issued by
    the CA whose certificates it answers for, EKU id-kp-OCSPSigning only
    (critical, as C2PA asks of OCSP and TSA certificates), and
    id-pkix-ocsp-nocheck so clients do not ask about the responder itself."""
    nb = not_before or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return (
        certs._base(subject.name(), public_key, issuer.subject, issuer_key, not_before=nb, days=days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(certs._LEAF_KEY_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=True)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(certs._POLICIES, critical=False)
        .sign(issuer_key, certs._signing_hash(issuer_key))  # type: ignore[arg-type]
    )


def check_responder_url(url: str) -> str:
    """*url* when it is an absolute http(s) URL (what c2pa-rs fetches), else
    a usage error."""
    from provenance.errors import UsageError

    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{url!r} is not an http(s) URL for an OCSP responder",
            hint="give it like http://ocsp.example.com/",
            reason="ocsp_url_scheme",
        )
    return url


def responder_urls(cert: x509.Certificate) -> tuple[str, ...]:
    """The http(s) OCSP responder URLs in *cert*'s AIA extension."""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (x509.ExtensionNotFound, ValueError):
        return ()
    return tuple(
        str(d.access_location.value)
        for d in aia
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
        and urllib.parse.urlsplit(str(d.access_location.value)).scheme.lower() in ("http", "https")
    )


# -- answering -------------------------------------------------------------------


def _issuer_hashes(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
    name = hashes.Hash(algorithm)
    name.update(issuer.subject.public_bytes())
    key = hashes.Hash(algorithm)
    spki = issuer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    # the hash covers the subjectPublicKey BIT STRING's value, not the SPKI
    key.update(_bit_string_value(spki))
    return name.finalize(), key.finalize()


def _bit_string_value(spki_der: bytes) -> bytes:
    """The subjectPublicKey bits of a DER SubjectPublicKeyInfo."""
    from asn1crypto import keys

    return bytes(keys.PublicKeyInfo.load(spki_der)["public_key"].contents[1:])


def unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def answer(
    request_der: bytes,
    *,
    issuer: x509.Certificate,
    responder: x509.Certificate,
    responder_key: PrivateKey,
    issued: frozenset[int],
    revoked: dict[int, Revocation],
    now: dt.datetime | None = None,
    validity: dt.timedelta = NEXT_UPDATE,
) -> tuple[bytes, str]:
    """The DER OCSP response to *request_der*, and a word for the log
    (``good``, ``revoked``, ``unknown``, ``malformed``, ``unauthorized``).

    A certificate *issuer* did not issue is ``unauthorized`` (RFC 6960
    §2.3); a serial it never issued is ``unknown``; a nonce is echoed."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        algorithm = request.hash_algorithm
        serial = request.serial_number
        name_hash, key_hash = request.issuer_name_hash, request.issuer_key_hash
    except (ValueError, UnsupportedAlgorithm):
        return unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST), "malformed"
    if (name_hash, key_hash) != _issuer_hashes(issuer, algorithm):
        return unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED), "unauthorized"
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    record = revoked.get(serial)
    if record is not None:
        state = CertState.REVOKED
    elif serial in issued:
        state = CertState.GOOD
    else:
        state = CertState.UNKNOWN
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        issuer_name_hash=name_hash,
        issuer_key_hash=key_hash,
        serial_number=serial,
        algorithm=algorithm,
        cert_status=ocsp.OCSPCertStatus[state.name],
        this_update=when,
        next_update=when + validity,
        revocation_time=record.revoked_at if record else None,
        revocation_reason=REASONS[record.reason] if record else None,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder).certificates([responder])
    try:
        nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
        builder = builder.add_extension(nonce, critical=False)
    except x509.ExtensionNotFound:
        pass
    response = builder.sign(responder_key, certs._signing_hash(responder_key))
    return response.public_bytes(serialization.Encoding.DER), state.value


def request_for(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """A DER OCSP request for *cert* (SHA-1 CertID, as c2pa-rs asks)."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
    return builder.build().public_bytes(serialization.Encoding.DER)


def decode_get_path(path: str) -> bytes | None:
    """The DER request of an RFC 6960 GET (``/{url-encoded base64}``),
    under any path prefix: c2pa-rs joins unescaped base64, which may hold
    ``/``, to the responder URL. ``None`` when no suffix of *path* is one."""
    parts = urllib.parse.unquote(path.split("?", 1)[0]).split("/")
    for start in range(1, len(parts)):
        candidate = "/".join(parts[start:])
        if not candidate:
            continue
        try:
            der = base64.b64decode(candidate, validate=True)
            ocsp.load_der_ocsp_request(der)
        except (ValueError, UnsupportedAlgorithm):
            continue
        return der
    return None


# -- fetching a signer's status --------------------------------------------------


@dataclass(frozen=True)
class CertificateStatus:
    """A checked OCSP answer about a signer certificate."""

    der: bytes  # the response, as it travels in the manifest
    state: CertState
    url: str
    this_update: dt.datetime
    next_update: dt.datetime | None
    revoked_at: dt.datetime | None = None
    reason: str | None = None
    responder: str = ""  # the responder certificate's subject

    def describe(self) -> str:
        if self.state is CertState.REVOKED and self.revoked_at is not None:
            why = f" ({self.reason.replace('_', ' ')})" if self.reason else ""
            return f"revoked on {self.revoked_at:%Y-%m-%d %H:%M} UTC{why}"
        return self.state.value


def _responder_ok(responder: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        responder.verify_directly_issued_by(issuer)
        eku = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm, x509.ExtensionNotFound):
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in eku


def check_response(der: bytes, chain: Sequence[x509.Certificate], *, url: str) -> CertificateStatus:
    """Parse and check the answer *der* about ``chain[0]``: successful,
    about this certificate, signed by a delegated responder certificate it
    carries, issued by ``chain[1]`` with id-kp-OCSPSigning (what c2pa-rs
    can check)."""
    cert, issuer = chain[0], chain[1]

    def bad(why: str) -> CredentialError:
        return CredentialError(
            f"the OCSP responder at {url} gave an unusable answer ({why})",
            hint="check the responder; validators cannot use this answer either",
            reason="ocsp_unusable",
        )

    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError:
        raise bad("not an OCSP response") from None
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise bad(f"status {response.response_status.name.lower()}")
    try:
        single = next(
            (
                r
                for r in response.responses
                if r.serial_number == cert.serial_number
                and (r.issuer_name_hash, r.issuer_key_hash) == _issuer_hashes(issuer, r.hash_algorithm)
            ),
            None,
        )
    except (ValueError, UnsupportedAlgorithm):
        single = None
    if single is None:
        raise bad("it is not about this certificate")
    responders = response.certificates
    if not responders or not _responder_ok(responders[0], issuer):
        raise bad("not signed by a responder certificate with id-kp-OCSPSigning from the issuing CA")
    try:
        key = responders[0].public_key()
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15

        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(response.signature_hash_algorithm))  # type: ignore[arg-type]
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(response.signature, response.tbs_response_bytes, PKCS1v15(), response.signature_hash_algorithm)  # type: ignore[arg-type]
        else:
            key.verify(response.signature, response.tbs_response_bytes)  # type: ignore[union-attr,call-arg]
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        raise bad("its signature does not verify") from None
    state = CertState[single.certificate_status.name]
    reason = single.revocation_reason.name if single.revocation_reason is not None else None
    return CertificateStatus(
        der=der,
        state=state,
        url=url,
        this_update=single.this_update_utc,
        next_update=single.next_update_utc,
        revoked_at=single.revocation_time_utc,
        reason=reason,
        responder=responders[0].subject.rfc4514_string(),
    )


def fetch_status(chain: Sequence[x509.Certificate], *, timeout: float = DEFAULT_TIMEOUT) -> CertificateStatus:
    """Ask the OCSP responder named in ``chain[0]``'s AIA about it (POST,
    RFC 6960 A.1) and return the checked answer, whatever the status."""
    if len(chain) < 2:
        raise IdentityError(
            "the certificate chain has no issuing CA, so its OCSP status cannot be asked",
            hint="give the signer certificate and its issuing CA",
            reason="ocsp_no_issuer",
        )
    urls = responder_urls(chain[0])
    if not urls:
        raise IdentityError(
            f"the signer certificate ({chain[0].subject.rfc4514_string()}) names no OCSP responder (no AIA)",
            hint="ask the CA for a certificate issued with its OCSP responder URL",
            reason="no_ocsp_responder",
        )
    import urllib.error
    import urllib.request

    body = request_for(chain[0], chain[1])
    failures = []
    for url in urls:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/ocsp-request"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer_fh:  # noqa: S310 - http(s) only, checked above
                der = answer_fh.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            failures.append(f"{url}: HTTP {exc.code}")
            continue
        except (urllib.error.URLError, OSError, ValueError) as exc:
            why = getattr(exc, "reason", exc)
            failures.append(f"{url}: {why}")
            continue
        if len(der) > MAX_RESPONSE_BYTES:
            failures.append(f"{url}: answer too large")
            continue
        return check_response(der, chain, url=url)
    raise CredentialError(
        f"the OCSP responder could not be reached ({'; '.join(failures)})",
        hint="check that the responder is running and reachable, or sign without the status",
        reason="ocsp_unreachable",
    )


def usable_status(
    chain: Sequence[x509.Certificate],
    *,
    response: bytes | None = None,
    source: str = "",
    timeout: float = DEFAULT_TIMEOUT,
    now: dt.datetime | None = None,
) -> CertificateStatus:
    """The signer's status to attach to a manifest: *response* (an operator's
    published file named *source*) when given, else fetched from the
    responder in ``chain[0]``'s AIA. A revoked or unknown certificate is
    refused (it cannot sign as its creator any more), and so is an answer
    past its nextUpdate (c2pa-rs then reports the signer as revoked)."""
    status = (
        check_response(response, chain, url=source or "the response file")
        if response is not None
        else fetch_status(chain, timeout=timeout)
    )
    subject = chain[0].subject.rfc4514_string()
    if status.state is CertState.REVOKED:
        raise IdentityError(
            f"the signer certificate ({subject}) is {status.describe()}, says its CA's OCSP responder",
            hint="a revoked certificate cannot sign; ask the CA for a new one",
            reason="signer_revoked",
        )
    if status.state is CertState.UNKNOWN:
        raise IdentityError(
            f"the OCSP responder at {status.url} does not know the signer certificate ({subject})",
            hint="check that the certificate comes from the CA this responder serves",
            reason="signer_status_unknown",
        )
    when = now or dt.datetime.now(dt.UTC)
    if status.next_update is not None and status.next_update < when:
        raise CredentialError(
            f"the OCSP response ({status.url}) is out of date (next update was {status.next_update:%Y-%m-%d %H:%M} UTC)",
            hint="get a fresh response",
            reason="ocsp_stale",
        )
    return status
