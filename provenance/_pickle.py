"""Let X.509 certificates cross process boundaries.

cryptography's certificates cannot be pickled, so a :class:`TrustStore`
could not be handed to a process pool. Registering a reducer (DER bytes in,
certificate out) makes every frozen object that holds certificates
picklable, without each of them knowing about it. Certificates are public
data; private keys are deliberately left unpicklable: a worker process
loads its signer itself (see ``examples/``).

Internal: every module that loads certificates imports this one, which
registers the reducer on import (``import provenance`` itself stays free
of cryptography).
"""

from __future__ import annotations

import copyreg

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding


def certificate_from_der(der: bytes) -> x509.Certificate:
    """Unpickle a certificate (a module-level function, so pickle can name it)."""
    return x509.load_der_x509_certificate(der)


def _reduce_certificate(cert: x509.Certificate) -> tuple[object, tuple[bytes]]:
    return certificate_from_der, (cert.public_bytes(Encoding.DER),)


def register() -> None:
    """Idempotent; called when this module is imported."""
    copyreg.pickle(x509.Certificate, _reduce_certificate)  # type: ignore[arg-type]


register()
