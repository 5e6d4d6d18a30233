"""``provenance serve``: the HTTP service and the verify page, on uvicorn."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from provenance._sign_step import check_signer
from provenance.batch.pool import default_jobs
from provenance.cli.common import build_trust, console_err, service_trust_options
from provenance.cli.signers import SERVICE_SIGNER_ENV, signer_from_options, signer_options_from_env
from provenance.errors import UsageError
from provenance.identity.signer import Signer
from provenance.service.config import (
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
    DEFAULT_MAX_UPLOADS,
    DEFAULT_MAX_UPLOADS_PER_CLIENT,
    DEFAULT_QUEUE,
    DEFAULT_UPLOAD_GRACE,
    DEFAULT_UPLOAD_TIMEOUT,
    BearerTokens,
    ServiceConfig,
    default_request_timeout,
    parse_size,
    public_trust,
)
from provenance.trust.store import TrustStore

if TYPE_CHECKING:
    from provenance.repository import Repository

ENV = "PROVENANCE_"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror})", hint="choose another --host or --port"
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar=ENV + "HOST",
    help="Address to listen on [env PROVENANCE_HOST].",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    envvar=ENV + "PORT",
    help="Port (0: any free port; the address is printed) [env PROVENANCE_PORT].",
)
@service_trust_options
@click.option(
    "--tokens-file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=ENV + "TOKENS_FILE",
    help="Bearer tokens allowed to sign, one per line; enables POST /v1/sign [env PROVENANCE_TOKENS_FILE]. "
    "Tokens may also come comma-separated in PROVENANCE_TOKENS.",
)
@signer_options_from_env(SERVICE_SIGNER_ENV)
@click.option(
    "--max-upload",
    default="2G",
    show_default=True,
    envvar=ENV + "MAX_UPLOAD",
    help="Largest upload accepted, e.g. 500M; larger gets 413 [env PROVENANCE_MAX_UPLOAD].",
)
@click.option(
    "--max-verifications",
    type=click.IntRange(min=1),
    default=None,
    envvar=ENV + "MAX_VERIFICATIONS",
    help="Verifications/signings worked on at once [default: one per core; env PROVENANCE_MAX_VERIFICATIONS].",
)
@click.option(
    "--queue",
    type=click.IntRange(min=0),
    default=DEFAULT_QUEUE,
    show_default=True,
    envvar=ENV + "QUEUE",
    help="Requests that may wait beyond those; more get 503 [env PROVENANCE_QUEUE].",
)
@click.option(
    "--upload-timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_UPLOAD_TIMEOUT,
    show_default=True,
    envvar=ENV + "UPLOAD_TIMEOUT",
    help="Seconds an upload may stall before 408 [env PROVENANCE_UPLOAD_TIMEOUT].",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0.1),
    default=None,
    envvar=ENV + "REQUEST_TIMEOUT",
    help="Seconds to receive a whole request, headers and body; then 408 and the connection is closed "
    "[default: time for --max-upload at --min-upload-rate; env PROVENANCE_REQUEST_TIMEOUT].",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_HEADER_TIMEOUT,
    show_default=True,
    envvar=ENV + "HEADER_TIMEOUT",
    help="Seconds to receive a request's headers; then the connection is closed [env PROVENANCE_HEADER_TIMEOUT].",
)
@click.option(
    "--min-upload-rate",
    default="64K",
    show_default=True,
    envvar=ENV + "MIN_UPLOAD_RATE",
    help="Slowest average upload accepted after --upload-grace, in bytes/s, e.g. 64K (0: none); slower "
    "gets 408 [env PROVENANCE_MIN_UPLOAD_RATE].",
)
@click.option(
    "--upload-grace",
    type=click.FloatRange(min=0),
    default=DEFAULT_UPLOAD_GRACE,
    show_default=True,
    envvar=ENV + "UPLOAD_GRACE",
    help="Seconds before --min-upload-rate applies [env PROVENANCE_UPLOAD_GRACE].",
)
@click.option(
    "--max-uploads",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_UPLOADS,
    show_default=True,
    envvar=ENV + "MAX_UPLOADS",
    help="Uploads arriving at once; more get 503 [env PROVENANCE_MAX_UPLOADS].",
)
@click.option(
    "--max-uploads-per-client",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_UPLOADS_PER_CLIENT,
    show_default=True,
    envvar=ENV + "MAX_UPLOADS_PER_CLIENT",
    help="Uploads arriving at once from one address (0: no limit, e.g. behind a proxy); more get 429 "
    "[env PROVENANCE_MAX_UPLOADS_PER_CLIENT].",
)
@click.option(
    "--max-connections-per-client",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
    show_default=True,
    envvar=ENV + "MAX_CONNECTIONS_PER_CLIENT",
    help="Open connections from one address (0: no limit); more are closed at once "
    "[env PROVENANCE_MAX_CONNECTIONS_PER_CLIENT].",
)
@click.option(
    "--tmp-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=ENV + "TMP_DIR",
    help="Where uploads are streamed to [default: the system temp folder; env PROVENANCE_TMP_DIR].",
)
@click.option(
    "--repo",
    "repository",
    metavar="URL|PATH",
    envvar=ENV + "REPO",
    help="Serve the C2PA Soft Binding Resolution API over this manifest repository (an SQLite file "
    "or a postgresql:// URL); tokens also enable registering (POST /manifests) [env PROVENANCE_REPO].",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    envvar=ENV + "LOG_LEVEL",
    help="Server log level [env PROVENANCE_LOG_LEVEL].",
)
def serve(
    host: str,
    port: int,
    anchors: tuple[Path, ...],
    allowed: tuple[Path, ...],
    tsa: tuple[Path, ...],
    trust_dir: Path | None,
    no_trust_store: bool,
    tokens_file: Path | None,
    max_upload: str,
    max_verifications: int | None,
    queue: int,
    upload_timeout: float,
    request_timeout: float | None,
    header_timeout: float,
    min_upload_rate: str,
    upload_grace: float,
    max_uploads: int,
    max_uploads_per_client: int,
    max_connections_per_client: int,
    tmp_dir: Path | None,
    repository: str | None,
    log_level: str,
    **signing: Any,
) -> None:
    """Run the HTTP service: POST /v1/verify, POST /v1/sign (bearer token),
    GET /healthz, GET /openapi.json, and the verify page at /; with --repo,
    the C2PA Soft Binding Resolution API (/matches/byBinding,
    /matches/byContent, /manifests/{id}, /services/supportedAlgorithms).

    Verification trusts what ``verify`` trusts (the trust store and
    --trust/--allowed/--tsa-trust). Signing is enabled by
    bearer tokens and uses the identity the signer options name (a key
    file, the development PKI, --pkcs11 or --signer-command).
    """
    if tmp_dir is not None and not tmp_dir.is_dir():
        raise UsageError(f"{tmp_dir}: temp folder does not exist", hint="create it or drop --tmp-dir")
    trust = build_trust(anchors=anchors, allowed=allowed, tsa=tsa, trust_dir=trust_dir, use_store=not no_trust_store)
    trust = public_trust(trust, files=(*anchors, *allowed, *tsa))  # answers name no server path
    tokens = BearerTokens.load(file=tokens_file, env_value=os.environ.get(ENV + "TOKENS"))
    with contextlib.ExitStack() as stack:
        signer = stack.enter_context(signer_from_options(signing)) if tokens else None
        if signer is not None:
            check_signer(signer)  # refuse at start what validators would reject, not at the first request
        repo = None
        if repository is not None:  # opened now: an unreachable repository stops the start, in one line
            from provenance.repository import open_repository

            repo = stack.enter_context(open_repository(repository, create=True))
        limits = dict(
            upload_timeout=upload_timeout,
            request_timeout=request_timeout,
            header_timeout=header_timeout,
            min_upload_rate=parse_size(min_upload_rate),
            upload_grace=upload_grace,
            max_uploads=max_uploads,
            max_uploads_per_client=max_uploads_per_client,
            max_connections_per_client=max_connections_per_client,
        )
        _run(
            host,
            port,
            trust=trust,
            signer=signer,
            tokens=tokens,
            max_upload=max_upload,
            max_verifications=max_verifications,
            queue=queue,
            tmp_dir=tmp_dir,
            log_level=log_level,
            repository=repo,
            **limits,
        )


def _run(
    host: str,
    port: int,
    *,
    trust: TrustStore,
    signer: Signer | None,
    tokens: BearerTokens,
    max_upload: str,
    max_verifications: int | None,
    queue: int,
    tmp_dir: Path | None,
    log_level: str,
    upload_timeout: float,
    request_timeout: float | None,
    header_timeout: float,
    min_upload_rate: int,
    upload_grace: float,
    max_uploads: int,
    max_uploads_per_client: int,
    max_connections_per_client: int,
    repository: Repository | None = None,
) -> None:
    import uvicorn

    from provenance.service import create_app
    from provenance.service.protocol import deadline_protocol

    limit = parse_size(max_upload)
    if request_timeout is None:
        request_timeout = default_request_timeout(
            max_upload=limit, min_upload_rate=min_upload_rate, header_timeout=header_timeout, grace=upload_grace
        )
    config = ServiceConfig(
        trust=trust,
        signer=signer,
        tokens=tokens,
        max_upload=limit,
        max_verifications=max_verifications or default_jobs(),
        queue=queue,
        upload_timeout=upload_timeout,
        tmp_dir=tmp_dir,
        request_timeout=request_timeout,
        min_upload_rate=min_upload_rate,
        upload_grace=upload_grace,
        max_uploads=max_uploads,
        max_uploads_per_client=max_uploads_per_client,
        repository=repository,
    )
    # uvicorn's h11 protocol, with the header deadline, request backstop and
    # per-address connection cap it lacks (see provenance.service.protocol).
    protocol = deadline_protocol(
        header_timeout=header_timeout,
        request_timeout=request_timeout,
        max_connections_per_client=max_connections_per_client,
    )
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    signing = f"signing enabled for {len(tokens)} token(s)" if signer else "signing disabled (no tokens)"
    if repository is not None:
        signing += f"; resolving manifests from {repository.location}"
    console_err.print(
        f"provenance service listening on http://{shown}:{bound_port} ({signing})", highlight=False, soft_wrap=True
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            http=protocol,
            log_level=log_level,
            lifespan="off",
            timeout_keep_alive=5,
            server_header=False,
            timeout_graceful_shutdown=10,
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
