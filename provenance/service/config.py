"""How a service is set up: trust, the signing identity and who may use it,
and the limits that keep it standing."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.batch.pool import default_jobs
from provenance.errors import UsageError
from provenance.identity.signer import Signer
from provenance.trust.store import SourceKind, TrustStore

if TYPE_CHECKING:
    from provenance.repository import Repository

DEFAULT_MAX_UPLOAD = 2 * 1024**3  # 2 GiB
DEFAULT_QUEUE = 32
DEFAULT_UPLOAD_TIMEOUT = 60.0
DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_MIN_UPLOAD_RATE = 64 * 1024  # bytes/s: 512 kbit/s
DEFAULT_UPLOAD_GRACE = 10.0
DEFAULT_MAX_UPLOADS = 64
DEFAULT_MAX_UPLOADS_PER_CLIENT = 4
DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 32


def default_request_timeout(
    *,
    max_upload: int,
    min_upload_rate: int,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    grace: float = DEFAULT_UPLOAD_GRACE,
) -> float:
    """Time enough for the headers, the grace period and the largest upload
    at the minimum rate (at least 60 s; one hour without a minimum rate)."""
    if not min_upload_rate:
        return 3600.0
    return max(60.0, header_timeout + grace + max_upload / min_upload_rate)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"2G"``, ``"500M"``, ``"1024"`` (bytes); binary multiples."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"{text!r} is not a size", hint="write it like 2G, 500M or 1048576")
    number, unit = match.groups()
    return int(float(number) * 1024 ** " kmgt".index(unit.lower() or " "))


class BearerTokens:
    """The tokens that may call ``/v1/sign``, kept only as SHA-256 digests
    and compared in constant time (every token is compared, always)."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._digests = tuple(hashlib.sha256(t.encode()).digest() for t in tokens if t)

    def __bool__(self) -> bool:
        return bool(self._digests)

    def __len__(self) -> int:
        return len(self._digests)

    def accepts(self, token: str | None) -> bool:
        given = hashlib.sha256((token or "").encode()).digest()
        match = False
        for digest in self._digests:
            match |= hmac.compare_digest(given, digest)
        return match and token is not None

    @classmethod
    def load(cls, *, file: Path | None = None, env_value: str | None = None) -> BearerTokens:
        """Tokens from a file (one per line, ``#`` comments) and/or a
        comma-separated environment value."""
        tokens: list[str] = []
        if file is not None:
            try:
                text = file.read_text()
            except OSError as exc:
                raise UsageError(
                    f"{file}: cannot read the tokens file ({exc.strerror})", hint="check the path"
                ) from None
            tokens += [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if env_value:
            tokens += [t.strip() for t in env_value.split(",") if t.strip()]
        short = [t for t in tokens if len(t) < 16]
        if short:
            raise UsageError(
                "a bearer token is shorter than 16 characters", hint="use long random tokens (openssl rand -hex 32)"
            )
        return cls(tokens)


# How a trust file given on the operator's command line is named to web
# visitors: the card says who vouches, never where the file is on the server.
_PUBLIC_TITLES = {
    SourceKind.ANCHORS: "this service's trust anchors",
    SourceKind.ALLOWED: "this service's pinned certificates",
    SourceKind.TSA: "this service's time-stamping roots",
    SourceKind.EKUS: "this service's EKU list",
}


def public_trust(store: TrustStore, *, files: Iterable[Path | str]) -> TrustStore:
    """*store* with the sources read from *files* (``serve --trust``,
    ``--allowed``, ``--tsa-trust``: named after their server paths) titled
    for the people who read the service's answers; named trust-store
    sources keep their names."""
    paths = {str(f) for f in files}
    counts: dict[SourceKind, int] = {}
    sources = []
    for source in store.sources:
        if source.title is None and source.name in paths:
            counts[source.kind] = counts.get(source.kind, 0) + 1
            number = counts[source.kind]
            title = _PUBLIC_TITLES[source.kind] + (f" ({number})" if number > 1 else "")
            source = replace(source, title=title)
        sources.append(source)
    return TrustStore(tuple(sources))


@dataclass(frozen=True)
class ServiceConfig:
    """Everything :func:`provenance.service.create_app` needs.

    *signer* and *tokens* together enable ``POST /v1/sign``; without both,
    it answers 503. Uploads stream to temp files under *tmp_dir* (the
    system's by default) and are refused past *max_upload* bytes.
    *max_verifications* requests are worked on at once (default: one per
    core), *queue* more wait; beyond that the service answers 503. A
    request holds no work slot while its body arrives: at most
    *max_uploads* bodies arrive at once (503 beyond), *max_uploads_per_client*
    from one peer address (429 beyond; 0: no such limit). A body must arrive
    within *request_timeout* seconds of the request's first byte (default:
    :func:`default_request_timeout`), with no pause past *upload_timeout*,
    and after *upload_grace* seconds at *min_upload_rate* bytes/s or more
    on average (0: no minimum); else 408.
    """

    trust: TrustStore = field(default_factory=TrustStore)
    signer: Signer | None = None
    tokens: BearerTokens = field(default_factory=lambda: BearerTokens(()))
    max_upload: int = DEFAULT_MAX_UPLOAD
    max_verifications: int = field(default_factory=default_jobs)
    queue: int = DEFAULT_QUEUE
    upload_timeout: float = DEFAULT_UPLOAD_TIMEOUT
    tmp_dir: Path | None = None
    # The manifest repository: serves the C2PA Soft Binding Resolution API
    # (provenance.service.resolution); tokens also enable POST /manifests.
    repository: Repository | None = None
    request_timeout: float | None = None
    min_upload_rate: int = DEFAULT_MIN_UPLOAD_RATE
    upload_grace: float = DEFAULT_UPLOAD_GRACE
    max_uploads: int = DEFAULT_MAX_UPLOADS
    max_uploads_per_client: int = DEFAULT_MAX_UPLOADS_PER_CLIENT

    @property
    def request_deadline(self) -> float:
        """*request_timeout*, or its default for these limits."""
        if self.request_timeout is not None:
            return self.request_timeout
        return default_request_timeout(
            max_upload=self.max_upload, min_upload_rate=self.min_upload_rate, grace=self.upload_grace
        )

    @property
    def signing_enabled(self) -> bool:
        return self.signer is not None and bool(self.tokens)
