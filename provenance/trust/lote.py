"""The JSON form of the C2PA trust lists: an ETSI TS 119 602 "List of
Trusted Entities" (LoTE).

The C2PA publishes each list twice, as PEM and as this JSON
(``C2PA-TRUST-LIST.json``, ``C2PA-TSA-TRUST-LIST.json``)::

    {"LoTE": {"ListAndSchemeInformation": {...},
              "TrustedEntitiesList": [
                {"TrustedEntityInformation": {"TEName": [...]},
                 "TrustedEntityServices": [
                   {"ServiceInformation": {
                      "ServiceName": [...],
                      "ServiceDigitalIdentity": {"X509Certificates": [{"val": "<base64 DER>"}]},
                      "ServiceStatus": "http://c2pa.org/conformance/trust-list/trusted"}}]}]}}

Only the certificates of services whose status is *trusted* (or ETSI's
*granted*) are taken; a withdrawn service's are left out. The JSON signature
of the list (a JAdES envelope, when there is one) is not checked: like the
PEM form, the list is trusted for where it was fetched from. Every file is
hostile: the structure is checked at each step, and a certificate that does
not parse makes the whole list an error (a half-valid list is never used).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography import x509

from provenance.errors import UsageError

#: Service statuses whose certificates are trusted (the last path segment).
TRUSTED_STATUSES = frozenset({"trusted", "granted"})
MAX_CERTIFICATES = 10_000  # the official list has 30


def looks_like_json(data: bytes) -> bool:
    """Whether *data* is JSON rather than PEM (its first non-blank byte)."""
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return start in (b"{", b"[")


def _damaged(where: str, what: str) -> UsageError:
    return UsageError(
        f"{where}: not a C2PA/ETSI JSON trust list ({what})",
        hint="give the list as published (C2PA-TRUST-LIST.json) or its PEM form",
        reason="trust_list_damaged",
    )


def _items(value: Any, key: str, where: str) -> list[Any]:
    items = value.get(key, []) if isinstance(value, dict) else None
    if not isinstance(items, list):
        raise _damaged(where, f"{key} is not a list")
    return items


def _status(info: dict[str, Any]) -> str:
    status = info.get("ServiceStatus")
    return status.rstrip("/").rsplit("/", 1)[-1].lower() if isinstance(status, str) else ""


def lote_certificates(data: bytes, where: str) -> tuple[x509.Certificate, ...]:
    """The certificates of the trusted services of the LoTE JSON *data*.
    Raises :class:`UsageError` (one line) when it is not such a list, a
    certificate is damaged, or no service is trusted."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _damaged(where, "not UTF-8") from None
    except RecursionError:
        raise _damaged(where, "nested too deeply") from None
    except ValueError as exc:
        raise _damaged(where, f"invalid JSON: {str(exc).split(':')[0]}") from None
    lote = document.get("LoTE") if isinstance(document, dict) else None
    if not isinstance(lote, dict):
        raise _damaged(where, 'no "LoTE" object')
    certs: list[x509.Certificate] = []
    withdrawn = 0
    for n, entity in enumerate(_items(lote, "TrustedEntitiesList", where), start=1):
        for service in _items(entity, "TrustedEntityServices", where):
            info = service.get("ServiceInformation") if isinstance(service, dict) else None
            if not isinstance(info, dict):
                raise _damaged(where, f"entity {n}: a service has no ServiceInformation")
            identity = info.get("ServiceDigitalIdentity")
            listed = _items(identity, "X509Certificates", where)
            if _status(info) not in TRUSTED_STATUSES:
                withdrawn += len(listed)
                continue
            for entry in listed:
                value = entry.get("val") if isinstance(entry, dict) else None
                if not isinstance(value, str):
                    raise _damaged(where, f"entity {n}: a certificate has no base64 'val'")
                try:
                    certs.append(x509.load_der_x509_certificate(base64.b64decode(value, validate=True)))
                except (binascii.Error, ValueError):
                    raise UsageError(
                        f"{where}: entity {n} holds a certificate that is not valid",
                        hint="the list is damaged or not a trust list; get a correct copy",
                        reason="trust_list_damaged",
                    ) from None
                if len(certs) > MAX_CERTIFICATES:
                    raise _damaged(where, f"over {MAX_CERTIFICATES:,} certificates")
    if not certs:
        what = f"its {withdrawn} certificates are of services not trusted" if withdrawn else "no certificates"
        raise UsageError(f"{where}: no trusted certificates in the JSON trust list ({what})", hint="check the list")
    return tuple(certs)
