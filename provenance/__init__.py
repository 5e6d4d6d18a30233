"""provenance: sign and verify C2PA content credentials on video.

The public API, for embedding in a platform's own code::

    from provenance import KeySigner, SourceKind, TrustStore, Verdict, sign, verify

    signer = KeySigner.from_files(key=Path("keys/signer.key"), chain=Path("keys/chain.pem"))
    trust = TrustStore().with_pem_file(Path("keys/root-ca.pem"), kind=SourceKind.ANCHORS)

    sign("clip.mp4", "clip.signed.mp4", signer=signer, title="Harbour at dawn")
    report = verify("upload.mp4", trust=trust)
    if report.verdict is Verdict.TAMPERED:
        ...

Build the signer and the trust store once and reuse them: both are
immutable after construction and safe to share between threads. A trust
store also pickles, so it can be handed to a process pool; a signer holds a
private key (or a token session) and does not pickle, so each worker process
opens its own from a picklable factory (``KeyFileSignerFactory``,
``Pkcs11SignerFactory``, ``CommandSignerFactory``; see ``examples/``). An
identity policy (``ExpectSigner``, ``ExpectOrganization``, ``AllOf``, ...)
passed to ``verify(..., policy=)`` turns a verified clip from anyone else
into ``Verdict.WRONG_SIGNER``. Batch work over many files lives in
:mod:`provenance.batch`; edits that keep the chain in :mod:`provenance.edit`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from provenance._version import __version__

# Each public name and the module that defines it. Names load on first use
# (PEP 562), so `import provenance` (and `provenance --help`) does not pull
# in c2pa, PyAV or numpy; the imports under TYPE_CHECKING give type checkers
# and IDEs the same names statically.
_EXPORTS: dict[str, str] = {
    "SourceType": "provenance.credentials.manifest",
    "CredentialError": "provenance.errors",
    "ExitCode": "provenance.errors",
    "IdentityError": "provenance.errors",
    "InputError": "provenance.errors",
    "InsecureKeyError": "provenance.errors",
    "MalformedMediaError": "provenance.errors",
    "OutputExistsError": "provenance.errors",
    "PassphraseError": "provenance.errors",
    "ProvenanceError": "provenance.errors",
    "UnsupportedFormatError": "provenance.errors",
    "UsageError": "provenance.errors",
    "SigningAlgorithm": "provenance.identity.algorithms",
    "CommandSignerFactory": "provenance.identity.factories",
    "KeyFileSignerFactory": "provenance.identity.factories",
    "Pkcs11SignerFactory": "provenance.identity.factories",
    "SecretSource": "provenance.identity.factories",
    "KeySigner": "provenance.identity.signer",
    "Signer": "provenance.identity.signer",
    "SignResult": "provenance.signing",
    "sign": "provenance.signing",
    "SourceKind": "provenance.trust.store",
    "TrustSource": "provenance.trust.store",
    "TrustStore": "provenance.trust.store",
    "Action": "provenance.verification.report",
    "Ingredient": "provenance.verification.report",
    "SignerIdentity": "provenance.verification.report",
    "Status": "provenance.verification.report",
    "StatusKind": "provenance.verification.report",
    "Thumbnail": "provenance.verification.report",
    "TimeSource": "provenance.verification.report",
    "TimeStampInfo": "provenance.verification.report",
    "VerificationReport": "provenance.verification.report",
    "Verdict": "provenance.verification.report",
    "AllOf": "provenance.verification.policy",
    "AnyOf": "provenance.verification.policy",
    "ExpectIssuer": "provenance.verification.policy",
    "ExpectOrganization": "provenance.verification.policy",
    "ExpectSigner": "provenance.verification.policy",
    "Policy": "provenance.verification.policy",
    "PolicyError": "provenance.verification.policy",
    "RequireTimestamp": "provenance.verification.policy",
    "verify": "provenance.verification.verifier",
}

if TYPE_CHECKING:
    from provenance.credentials.manifest import SourceType
    from provenance.errors import (
        CredentialError,
        ExitCode,
        IdentityError,
        InputError,
        InsecureKeyError,
        MalformedMediaError,
        OutputExistsError,
        PassphraseError,
        ProvenanceError,
        UnsupportedFormatError,
        UsageError,
    )
    from provenance.identity.algorithms import SigningAlgorithm
    from provenance.identity.factories import (
        CommandSignerFactory,
        KeyFileSignerFactory,
        Pkcs11SignerFactory,
        SecretSource,
    )
    from provenance.identity.signer import KeySigner, Signer
    from provenance.signing import SignResult, sign
    from provenance.trust.store import SourceKind, TrustSource, TrustStore
    from provenance.verification.policy import (
        AllOf,
        AnyOf,
        ExpectIssuer,
        ExpectOrganization,
        ExpectSigner,
        Policy,
        PolicyError,
        RequireTimestamp,
    )
    from provenance.verification.report import (
        Action,
        Ingredient,
        SignerIdentity,
        Status,
        StatusKind,
        Thumbnail,
        TimeSource,
        TimeStampInfo,
        Verdict,
        VerificationReport,
    )
    from provenance.verification.verifier import verify


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "__version__",
    # signing
    "sign",
    "SignResult",
    "SourceType",
    "Signer",
    "KeySigner",
    "SigningAlgorithm",
    # signers for worker processes (picklable; each worker opens its own)
    "KeyFileSignerFactory",
    "Pkcs11SignerFactory",
    "CommandSignerFactory",
    "SecretSource",
    # verifying
    "verify",
    "VerificationReport",
    "Verdict",
    "SignerIdentity",
    "Ingredient",
    "Action",
    "Status",
    "StatusKind",
    "Thumbnail",
    "TimeSource",
    "TimeStampInfo",
    # who a clip must come from (verify(..., policy=))
    "Policy",
    "ExpectSigner",
    "ExpectOrganization",
    "ExpectIssuer",
    "RequireTimestamp",
    "AllOf",
    "AnyOf",
    "PolicyError",
    # trust
    "TrustStore",
    "TrustSource",
    "SourceKind",
    # errors
    "ProvenanceError",
    "UsageError",
    "OutputExistsError",
    "InputError",
    "UnsupportedFormatError",
    "MalformedMediaError",
    "IdentityError",
    "InsecureKeyError",
    "PassphraseError",
    "CredentialError",
    "ExitCode",
]
