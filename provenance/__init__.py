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
private key and does not pickle, so each worker process loads its own (see
``examples/``). Batch work over many files lives in :mod:`provenance.batch`.
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
    VerificationReport,
    Verdict,
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
