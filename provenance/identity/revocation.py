"""Revocation in an organisation CA folder: which creator certificates the
CA revoked (``revoked.json``), its delegated OCSP responder
(``ocsp-responder.pem``/``.key``) and the responder URL issued
certificates carry (``ocsp.json``).

Every file is written atomically; the responder re-reads ``revoked.json``
on each request, so a revocation takes effect at once.

>>> ca = OrganisationCA(Path("ca"))  # doctest: +SKIP
>>> revoke(ca, "3f2a…", reason="key-compromise").revoked_at  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from provenance._files import atomic_write
from provenance.errors import IdentityError, OutputError, UsageError
from provenance.identity import certificates as certs
from provenance.identity import ocsp
from provenance.identity.algorithms import SigningAlgorithm, generate_key
from provenance.identity.ca import OrganisationCA
from provenance.identity.keys import PrivateKey, load_private_key, write_private_key

MAX_RECORD_BYTES = 16 << 20


def revoked_file(ca: OrganisationCA) -> Path:
    return ca.directory / "revoked.json"


def config_file(ca: OrganisationCA) -> Path:
    return ca.directory / "ocsp.json"


def responder_cert_file(ca: OrganisationCA) -> Path:
    return ca.directory / "ocsp-responder.pem"


def responder_key_file(ca: OrganisationCA) -> Path:
    return ca.directory / "ocsp-responder.key"


def _damaged(path: Path, why: str) -> IdentityError:
    return IdentityError(f"{path}: {why}", hint="restore the CA folder from its backup", reason="ca_damaged")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise _damaged(path, "too large")
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _damaged(path, f"cannot be read ({exc.strerror})") from None
    except ValueError:
        raise _damaged(path, "not JSON") from None
    if not isinstance(data, dict):
        raise _damaged(path, "not a JSON object")
    return data


# -- the record of revocations ----------------------------------------------------


def revocations(ca: OrganisationCA) -> dict[int, ocsp.Revocation]:
    """Every certificate *ca* revoked, by serial number."""
    path = revoked_file(ca)
    data = _read_json(path)
    if data is None:
        return {}
    out: dict[int, ocsp.Revocation] = {}
    entries = data.get("revoked")
    if not isinstance(entries, dict):
        raise _damaged(path, "no 'revoked' table")
    for serial, entry in entries.items():
        try:
            when = dt.datetime.fromisoformat(entry["revoked_at"])
            reason = entry["reason"]
            if reason not in ocsp.REASONS or when.tzinfo is None:
                raise ValueError(reason)
            out[int(serial, 16)] = ocsp.Revocation(int(serial, 16), when, reason)
        except (TypeError, KeyError, ValueError):
            raise _damaged(path, f"entry {str(serial)[:48]!r} is malformed") from None
    return out


def issued_serials(ca: OrganisationCA) -> frozenset[int]:
    """Serial numbers of the certificates *ca* issued (its ``issued/`` records)."""
    if not ca.issued.is_dir():
        return frozenset()
    serials = set()
    for record in ca.issued.glob("*.pem"):
        try:
            serials.add(int(record.stem, 16))
        except ValueError:
            continue
    return frozenset(serials)


@dataclass(frozen=True)
class RevokeResult:
    revocation: ocsp.Revocation
    subject: str | None  # the revoked certificate's subject, when its record is at hand
    already: bool  # it was revoked before; the first record is kept


def _parse_serial(text: str) -> int | None:
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    if not cleaned or len(cleaned) > 40:
        return None
    try:
        return int(cleaned, 16)
    except ValueError:
        return None


def _target(ca: OrganisationCA, target: str | Path) -> tuple[int, x509.Certificate | None]:
    """The serial to revoke: a certificate file this CA issued, or a serial
    (hex) of its ``issued/`` records."""
    issuing = ca.issuing_certificate()
    path = Path(target)
    if path.is_file():
        cert = certs.read_chain(path)[0]
        try:
            cert.verify_directly_issued_by(issuing)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            raise IdentityError(
                f"{path}: {cert.subject.rfc4514_string()} was not issued by this CA ({ca.issuing_cert.name})",
                hint="revoke it at the CA that issued it",
                reason="not_issued_here",
            ) from None
        return cert.serial_number, cert
    serial = _parse_serial(str(target))
    if serial is None:
        raise UsageError(
            f"{str(target)[:80]!r} is neither a certificate file nor a hexadecimal serial number",
            hint="give the certificate (PEM) or the serial the CA printed when it issued it",
            reason="revoke_target",
        )
    record = ca.issued / f"{serial:040x}.pem"
    if not record.is_file():
        raise IdentityError(
            f"serial {serial:x} is not among the certificates this CA issued ({ca.issued})",
            hint="check the serial, or give the certificate file",
            reason="serial_not_issued",
        )
    return serial, certs.read_chain(record)[0]


def revoke(
    ca: OrganisationCA, target: str | Path, *, reason: str = "unspecified", at: dt.datetime | None = None
) -> RevokeResult:
    """Record that *ca* revoked the certificate *target* (a certificate file
    or a serial of its ``issued/`` records) for *reason*, as of *at*
    (default now; earlier for a key compromised before today)."""
    if reason not in ocsp.REASONS:
        raise UsageError(f"unknown revocation reason {reason!r}", hint=f"use one of {', '.join(ocsp.REASONS)}")
    serial, cert = _target(ca, target)
    with _record_lock(ca):  # read, add, write: two revocations at once must not lose one
        return _revoke(ca, serial, cert, reason=reason, at=at)


@contextlib.contextmanager
def _record_lock(ca: OrganisationCA) -> Iterator[None]:
    import fcntl

    try:
        lock = open(ca.directory / ".revoked.lock", "a")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise OutputError(
            f"{ca.directory}: the CA folder cannot be written ({exc.strerror})", hint="check its permissions"
        ) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _revoke(
    ca: OrganisationCA, serial: int, cert: x509.Certificate | None, *, reason: str, at: dt.datetime | None
) -> RevokeResult:
    subject = cert.subject.rfc4514_string() if cert is not None else None
    current = revocations(ca)
    if serial in current:
        return RevokeResult(current[serial], subject, already=True)
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    entry = ocsp.Revocation(serial, when, reason)
    if cert is not None and not (ca.issued / f"{serial:040x}.pem").exists():
        ca.issued.mkdir(exist_ok=True)  # a certificate issued before records were kept: keep it now
        atomic_write(ca.issued / f"{serial:040x}.pem", certs.pem(cert))
    table = {f"{s:040x}": {"revoked_at": r.revoked_at.isoformat(), "reason": r.reason} for s, r in current.items()}
    table[f"{serial:040x}"] = {"revoked_at": when.isoformat(), "reason": reason}
    atomic_write(revoked_file(ca), (json.dumps({"version": 1, "revoked": table}, indent=2) + "\n").encode())
    return RevokeResult(entry, subject, already=False)


# -- the responder ----------------------------------------------------------------


def responder_url(ca: OrganisationCA) -> str | None:
    """The OCSP responder URL issued certificates carry, when configured."""
    data = _read_json(config_file(ca))
    if data is None:
        return None
    url = data.get("url")
    if not isinstance(url, str):
        raise _damaged(config_file(ca), "no 'url'")
    return ocsp.check_responder_url(url)


@dataclass(frozen=True)
class ResponderSetup:
    url: str
    certificate: x509.Certificate
    cert_file: Path
    key_file: Path


def setup_responder(
    ca: OrganisationCA,
    *,
    url: str,
    passphrase: bytes | None = None,
    days: float = 365,
    now: dt.datetime | None = None,
) -> ResponderSetup:
    """Issue (or renew) *ca*'s delegated OCSP responder certificate and
    record *url* as the responder URL of certificates issued from now on.
    The responder key is P-256, written 0600 (encrypted with *passphrase*,
    the CA key's, when given)."""
    ocsp.check_responder_url(url)
    if not 0 < days <= certs.LEAF_MAX_DAYS:
        raise UsageError(
            f"a responder certificate is valid for 1 to {certs.LEAF_MAX_DAYS} days",
            hint=f"ask for {certs.LEAF_MAX_DAYS} days or less",
        )
    issuing = ca.issuing_certificate()
    issuer_key: PrivateKey = load_private_key(ca.issuing_key, passphrase=passphrase)
    if issuer_key.public_key() != issuing.public_key():
        raise _damaged(ca.issuing_key, f"key does not belong to {ca.issuing_cert.name}")
    start = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    end = min(start + dt.timedelta(days=days), issuing.not_valid_after_utc)
    ca_subject = certs.Subject.from_name(issuing.subject)
    subject = certs.Subject(f"{ca_subject.organization} OCSP Responder", ca_subject.organization, ca_subject.country)
    key = generate_key(SigningAlgorithm.ES256)
    cert = ocsp.responder_certificate(
        subject, key.public_key(), issuing, issuer_key, days=(end - start).total_seconds() / 86400, not_before=start
    )
    write_private_key(responder_key_file(ca), key, passphrase=passphrase)
    atomic_write(responder_cert_file(ca), certs.pem(cert))
    atomic_write(config_file(ca), (json.dumps({"version": 1, "url": url}, indent=2) + "\n").encode())
    return ResponderSetup(url, cert, responder_cert_file(ca), responder_key_file(ca))


@dataclass(frozen=True)
class Responder:
    """What answers OCSP requests for one CA: its issuing certificate and the
    delegated responder's certificate and key. :meth:`answer` re-reads the
    CA's records, so revocations take effect at once."""

    ca: OrganisationCA
    issuer: x509.Certificate
    certificate: x509.Certificate
    key: PrivateKey
    validity: dt.timedelta = ocsp.NEXT_UPDATE

    @classmethod
    def load(cls, ca: OrganisationCA, *, passphrase: bytes | None = None) -> Responder:
        if not responder_cert_file(ca).exists():
            raise UsageError(
                f"{ca.directory}: this CA has no OCSP responder certificate",
                hint="set up the CA's OCSP responder first",
                reason="no_ocsp_responder_setup",
            )
        issuer = ca.issuing_certificate()
        cert = certs.read_chain(responder_cert_file(ca))[0]
        key = load_private_key(responder_key_file(ca), passphrase=passphrase)
        if key.public_key() != cert.public_key():
            raise _damaged(responder_key_file(ca), f"key does not belong to {responder_cert_file(ca).name}")
        return cls(ca, issuer, cert, key)

    def answer(self, request_der: bytes, *, now: dt.datetime | None = None) -> tuple[bytes, str]:
        """The DER response to *request_der* and a word for the log."""
        return ocsp.answer(
            request_der,
            issuer=self.issuer,
            responder=self.certificate,
            responder_key=self.key,
            issued=issued_serials(self.ca),
            revoked=revocations(self.ca),
            now=now,
            validity=self.validity,
        )

    def response_for(self, cert: x509.Certificate, *, now: dt.datetime | None = None) -> tuple[bytes, str]:
        """The response about *cert*, for an operator who publishes files."""
        return self.answer(ocsp.request_for(cert, self.issuer), now=now)
