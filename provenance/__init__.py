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

__version__ = "0.1.0"

from provenance import _pickle

_pickle.register()

from provenance.credentials.manifest import SourceType  # noqa: E402
from provenance.errors import (  # noqa: E402
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
from provenance.identity.algorithms import SigningAlgorithm  # noqa: E402
from provenance.identity.factories import (  # noqa: E402
    CommandSignerFactory,
    KeyFileSignerFactory,
    Pkcs11SignerFactory,
    SecretSource,
)
from provenance.identity.signer import KeySigner, Signer  # noqa: E402
from provenance.sign import SignResult, sign  # noqa: E402
from provenance.trust.store import SourceKind, TrustSource, TrustStore  # noqa: E402
from provenance.verify.report import (  # noqa: E402
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
from provenance.verify.policy import (  # noqa: E402
    AllOf,
    AnyOf,
    ExpectIssuer,
    ExpectOrganization,
    ExpectSigner,
    Policy,
    PolicyError,
    RequireTimestamp,
)
from provenance.verify.verifier import verify  # noqa: E402

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
