"""The HTTP service: verify uploads, sign for authenticated callers, and
the verify page. A thin layer over :func:`provenance.verification` and
:func:`provenance.sign`; the work runs in threads, bounded by a gate."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provenance._version import __version__
from provenance.credentials.bridge import C2PA_VERSION
from provenance.credentials.manifest import SOURCE_LABELS, SourceType
from provenance.errors import InputError, OutputError, ProvenanceError, UnsupportedFormatError, UsageError
from provenance.media import formats
from provenance.service.config import ServiceConfig
from provenance.service.expectations import SignerExpectation, check_expectation, flag
from provenance.service.hints import http_hint, http_note
from provenance.service.limits import REQUEST_STARTED, UploadLimitError, UploadSlots
from provenance.service.openapi import openapi_document
from provenance.service.uploads import Pace, Upload, UploadError, receive_upload, safe_filename, upload_folder
from provenance.signing import SignResult, sign
from provenance.text import MESSAGE_LIMIT, inert
from provenance.trust.store import TrustStore
from provenance.verification.explain import CODES, HEADLINES
from provenance.verification.policy import Policy
from provenance.verification.report import Verdict, VerificationReport
from provenance.verification.verifier import verify

if TYPE_CHECKING:
    from provenance.repository import Repository

log = logging.getLogger("provenance.service")

STATIC = Path(__file__).resolve().parent / "static"
CHUNK = 1 << 20
T = TypeVar("T")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]


class ServiceError(Exception):
    """An answer other than 2xx, as JSON ``{"error", "hint"}``."""

    def __init__(
        self, status: int, message: str, *, hint: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.headers = headers or {}


def error_response(
    status: int, message: str, hint: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message, "hint": hint}, status_code=status, headers=headers)


class WorkGate:
    """At most *workers* verifications or signings run at once and *queue*
    more wait; a request beyond that is answered 503 at once. A request
    enters only once its whole body is on disk, so a slow sender holds no
    slot."""

    def __init__(self, *, workers: int, queue: int) -> None:
        self.limiter = anyio.CapacityLimiter(workers)
        self.capacity = workers + queue
        self.admitted = 0

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        # One event loop: these counters need no lock.
        if self.admitted >= self.capacity:
            raise ServiceError(503, "the service is busy", hint="retry in a moment", headers={"Retry-After": "1"})
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=self.limiter)


#: How the service's manifest repository is named in its answers.
PUBLIC_REPOSITORY = "this service's repository"


def _scrub(text: str | None, upload: Upload) -> str | None:
    """Messages name the file as the client did, never the server's temp path."""
    if text is None:
        return None
    text = text.replace(str(upload.clip), upload.filename).replace(str(upload.clip.parent) + os.sep, "")
    if upload.sidecar is not None:
        text = text.replace(str(upload.sidecar), upload.sidecar.name)
    return text


def _check_format(upload: Upload, *, endpoint: str) -> formats.MediaFormat:
    try:
        return formats.detect(upload.clip)
    except InputError as exc:
        raise _client_error(exc, upload, endpoint=endpoint) from None


def _client_error(exc: InputError, upload: Upload, *, endpoint: str) -> ServiceError:
    """415 for a container the endpoint cannot take, 422 for other bad input;
    the hint is the service's own (see provenance.service.hints)."""
    status = 415 if isinstance(exc, UnsupportedFormatError) else 422
    return ServiceError(status, _scrub(exc.message, upload) or exc.message, hint=http_hint(exc, endpoint=endpoint))


def verify_upload(
    upload: Upload, trust: TrustStore, policy: Policy | None = None, repository: Repository | None = None
) -> VerificationReport:
    """Verify an uploaded clip (in a worker thread), judged by the identity
    *policy* as the CLI judges it, and looked up by its content in
    *repository* when it has no valid credentials; the report names the
    file as the client did."""
    if upload.sidecar is None:  # with a sidecar, any container will do (WebM, MKV…)
        _check_format(upload, endpoint="verify")
    lookup = None
    if repository is not None:
        from provenance.verification.recovery import LocalSource

        lookup = LocalSource(repository)  # the service owns the repository: never closed here
        lookup.location = PUBLIC_REPOSITORY  # answers name no server path or database address
    report = verify(upload.clip, trust=trust, manifest=upload.sidecar, policy=policy, lookup=lookup)
    return dataclasses.replace(
        report,
        file=upload.filename,
        error=_scrub(report.error, upload),
        notes=tuple(http_note(_scrub(n, upload) or "") for n in report.notes),
        sidecar=_scrub(report.sidecar, upload),
        chain_summary=_scrub(report.chain_summary, upload),
    )


def sign_upload(
    upload: Upload,
    folder: Path,
    config: ServiceConfig,
    *,
    title: str | None,
    author: str | None,
    source: SourceType,
    register: bool = False,
) -> tuple[Path, SignResult, formats.MediaFormat]:
    """Sign an uploaded clip with the service's identity (in a worker
    thread); with *register*, record its content fingerprint and register
    it in the service's repository (``serve --repo``)."""
    assert config.signer is not None
    fmt = _check_format(upload, endpoint="sign")
    stem, ext = os.path.splitext(upload.filename)
    name = upload.filename if ext.lower() in fmt.extensions else f"{stem or 'clip'}{fmt.extensions[0]}"
    (folder / "out").mkdir()
    output = folder / "out" / name
    try:
        result = sign(
            upload.clip,
            output,
            signer=config.signer,
            title=title or upload.filename,
            author=author,
            source=source,
            register=config.repository if register else None,
        )
    except InputError as exc:
        raise _client_error(exc, upload, endpoint="sign") from None
    return output, result, fmt


def _file_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := fh.read(CHUNK):
            yield chunk
    finally:
        fh.close()


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f'attachment; filename="{ascii_name}"'


def render_page() -> str:
    """The page, with the same plain-language labels as the CLI card (one
    source of truth) embedded as a JSON data block."""
    labels = {
        "headlines": {verdict.value: text for verdict, text in HEADLINES.items()},
        "codes": CODES,
        "sources": SOURCE_LABELS,
    }
    blob = json.dumps(labels, ensure_ascii=False).replace("</", "<\\/")
    return (STATIC / "index.html").read_text(encoding="utf-8").replace("{{labels}}", blob)


class Service:
    """The endpoints, over one :class:`ServiceConfig`."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.gate = WorkGate(workers=config.max_verifications, queue=config.queue)
        self.uploads = UploadSlots(total=config.max_uploads, per_client=config.max_uploads_per_client)
        self._page = render_page()

    async def page(self, request: Request) -> Response:
        return HTMLResponse(self._page)

    async def healthz(self, request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "c2pa": C2PA_VERSION,
                "signing": self.config.signing_enabled,
                "lookup": self.config.repository is not None,
                "work": {
                    "admitted": self.gate.admitted,
                    "workers": self.config.max_verifications,
                    "queue": self.config.queue,
                    "uploading": self.uploads.active,
                },
                "max_upload": self.config.max_upload,
            }
        )

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(
            openapi_document(max_upload=self.config.max_upload, resolution=self.config.repository is not None)
        )

    async def verify(self, request: Request) -> Response:
        try:
            expected = SignerExpectation.from_query(request.query_params)
            thumbnail = flag(request.query_params.get("thumbnail"), name="thumbnail")
            lookup = flag(request.query_params.get("lookup"), name="lookup")
        except ValueError as exc:
            raise ServiceError(400, str(exc), hint="see /openapi.json") from None
        policy = expected.policy()
        async with upload_folder(self.config.tmp_dir) as folder:
            upload = await self.receive(request, folder)
            with self.gate.admit():
                repository = self.config.repository if lookup else None
                report = await self.gate.run(verify_upload, upload, self.config.trust, policy, repository)
        body = report.to_dict(thumbnail=thumbnail)
        if expected.given:
            body["expectation"] = check_expectation(report, expected)
        return JSONResponse(body, status_code=422 if report.verdict is Verdict.ERROR else 200)

    async def receive(self, request: Request, folder: Path) -> Upload:
        """The whole body, on disk, within the request's deadline (counted
        from its first byte, headers included), holding an upload slot of
        this client's, and no work slot."""
        config = self.config
        started = request.scope.get("extensions", {}).get(REQUEST_STARTED, time.monotonic())
        pace = Pace(
            started=started,
            request_timeout=config.request_deadline,
            idle_timeout=config.upload_timeout,
            min_rate=config.min_upload_rate,
            grace=config.upload_grace,
        )
        try:
            with self.uploads.hold(request.client.host if request.client else None):
                return await receive_upload(request, folder=folder, limit=config.max_upload, pace=pace)
        except UploadLimitError as exc:
            # Refused before the body is read: the connection closes after the answer.
            raise ServiceError(
                exc.status, exc.message, hint=exc.hint, headers={"Retry-After": "1", "Connection": "close"}
            ) from None

    def _authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.config.tokens.accepts(token.strip() or None):
            raise ServiceError(
                401,
                "a valid bearer token is required to sign",
                hint="send 'Authorization: Bearer <token>' with a token the operator issued",
                headers={"WWW-Authenticate": 'Bearer realm="provenance"'},
            )

    async def sign(self, request: Request) -> Response:
        if not self.config.signing_enabled:
            raise ServiceError(
                503,
                "signing is not enabled on this service",
                hint="the operator enables signing with bearer tokens and a signing identity",
            )
        self._authenticate(request)
        query = request.query_params
        try:
            register = flag(query.get("register"), name="register")
        except ValueError as exc:
            raise ServiceError(400, str(exc), hint="see /openapi.json") from None
        if register and self.config.repository is None:
            raise ServiceError(
                400, "register=1 needs a repository", hint="the operator starts the service with a manifest repository"
            )
        try:
            source = SourceType(query.get("source", SourceType.CAMERA.value))
        except ValueError:
            raise ServiceError(
                400,
                f"source={query.get('source')!r} is not a source type",
                hint="one of " + ", ".join(s.value for s in SourceType),
            ) from None
        async with upload_folder(self.config.tmp_dir) as folder:
            upload = await self.receive(request, folder)
            if upload.sidecar is not None:
                raise ServiceError(400, "signing takes no sidecar", hint="send only the clip")
            with self.gate.admit():
                output, result, fmt = await self.gate.run(
                    sign_upload,
                    upload,
                    folder,
                    self.config,
                    title=query.get("title") or upload.fields.get("title") or None,
                    author=query.get("author") or upload.fields.get("author") or None,
                    source=source,
                    register=register,
                )
            # Open, then let the folder go: the signed bytes live on in the
            # open file until the response is sent (or the client leaves),
            # with no name on disk to leak.
            fh = open(output, "rb")  # noqa: ASYNC230, SIM115 - a local temp file, closed when the response ends
        size = os.fstat(fh.fileno()).st_size
        return StreamingResponse(
            _file_chunks(fh),
            media_type=fmt.mime_type,
            headers={
                "Content-Length": str(size),
                "Content-Disposition": _attachment(safe_filename(output.name)),
                "X-Provenance-Manifest-Id": result.manifest_id,
                "X-Provenance-Signer": result.signer.encode("ascii", "replace").decode(),
                **({"X-Provenance-Registered": "true"} if result.registered_in else {}),
            },
        )


class SecurityHeaders:
    """Adds nosniff, no-referrer and a strict CSP to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_response(exc.status, exc.message, exc.hint, exc.headers)


async def _upload_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UploadError)
    # The rest of a refused body is not read; the connection closes after this.
    return error_response(exc.status, exc.message, exc.hint, {"Connection": "close"})


async def _provenance_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProvenanceError)
    if isinstance(exc, OutputError):  # the server's own disk is full or read-only: not the client's fault
        status = 507
    else:
        status = 400 if isinstance(exc, UsageError) else 500
    if status >= 500:
        # The message names the client's file and what it holds: one inert line in the log.
        log.error("request failed: %s", inert(exc.diagnostics(), limit=MESSAGE_LIMIT))
        # ...and the server's own paths and repository address: the client gets the gist only
        what = "cannot write its output (disk full or read-only)" if status == 507 else "could not finish the request"
        return error_response(status, f"the service {what}", "retry later; the service's log says why")
    return error_response(status, exc.message, http_hint(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail, headers=dict(exc.headers or {}))


async def _client_gone(request: Request, exc: Exception) -> Response:
    return Response(status_code=499)  # nobody is listening; the upload folder is already gone


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("internal error")
    return error_response(500, "internal error", "this is a bug in provenance; the server log has the details")


def create_app(config: ServiceConfig) -> Starlette:
    """The ASGI application for *config*; run it with any ASGI server
    (``provenance serve`` uses uvicorn).

    >>> app = create_app(ServiceConfig(trust=store))  # doctest: +SKIP
    """
    service = Service(config)
    resolution: list[BaseRoute] = []
    if config.repository is not None:
        from provenance.service.resolution import Resolution

        resolution = Resolution(service, config.repository).routes()
    app = Starlette(
        routes=[
            *resolution,
            Route("/", service.page, methods=["GET"]),
            Route("/healthz", service.healthz, methods=["GET"]),
            Route("/openapi.json", service.openapi, methods=["GET"]),
            Route("/v1/verify", service.verify, methods=["POST"]),
            Route("/v1/sign", service.sign, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={
            ServiceError: _service_error,
            UploadError: _upload_error,
            ProvenanceError: _provenance_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _internal_error,
        },
    )
    app.add_middleware(SecurityHeaders)
    return app
