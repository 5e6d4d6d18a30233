"""The C2PA Soft Binding Resolution API over the manifest repository
(``provenance serve --repo``): find manifests by a fingerprint value
(``/matches/byBinding``) or by an uploaded clip (``/matches/byContent``),
fetch a manifest store (``/manifests/{manifestId}``), list the algorithms
(``/services/supportedAlgorithms``), and register a signed clip
(``POST /manifests``, bearer token, like signing).

Shapes follow the API's OpenAPI document (C2PA Soft Binding API 1.1): a
match is ``{"manifestId", "similarityScore"}`` (0-100); provenance adds the
matched time span of the original, the score as 0-1, and the signer's
display names (``matchedSpan``, ``score``, ``signer``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from provenance.errors import InputError, RepositoryError, UnsupportedFormatError
from provenance.repository.bands import HASH_BYTES
from provenance.repository.records import Candidate
from provenance.repository.repository import DEFAULT_MAX_RESULTS
from provenance.service.app import ServiceError, _scrub, log
from provenance.service.uploads import upload_folder
from provenance.text import MESSAGE_LIMIT, inert

if TYPE_CHECKING:
    from provenance.media.fingerprint import Fingerprint
    from provenance.repository import Repository
    from provenance.service.app import Service

MAX_RESULTS = 100
MAX_BINDING_BYTES = 1 << 20  # a fingerprint value: an hour of hashes is ~150 KB
C2PA_MEDIA_TYPE = "application/c2pa"


def supported_algorithms(repo: Repository) -> list[str]:
    """The fingerprint algorithm this service computes, and those of the
    registered clips."""
    from provenance.media import fingerprint as fp

    own = getattr(fp, "ALGORITHM", None)
    return sorted({*([own] if own else []), *repo.algorithms()})


def match_body(candidates: list[Candidate]) -> dict[str, Any]:
    return {
        "matches": [
            {
                "manifestId": c.manifest_id,
                "similarityScore": c.similarity,
                "score": round(c.score, 4),
                "matchedSpan": {"start": round(c.start, 3), "end": round(c.end, 3)},
                "signer": c.signer.to_dict(),
                "title": c.title,
            }
            for c in candidates
        ]
    }


def _max_results(request: Request) -> int:
    text = request.query_params.get("maxResults")
    if text is None:
        return DEFAULT_MAX_RESULTS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_RESULTS:
        raise ServiceError(400, f"maxResults={text!r} is not a number from 1 to {MAX_RESULTS}")
    return value


def binding_fingerprint(alg: str | None, value: str | None, *, supported: list[str]) -> Fingerprint:
    """The query a soft-binding value stands for: base64 of a whole
    fingerprint (``Fingerprint.to_bytes()``) or of one 32-byte per-second
    hash."""
    from provenance.media import fingerprint as fp

    if not alg or value is None:
        raise ServiceError(400, "alg and value are required", hint="see /openapi.json")
    if alg not in supported:
        raise ServiceError(
            400, f"alg {alg!r} is not supported here", hint="GET /services/supportedAlgorithms lists the algorithms"
        )
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError(400, "value is not base64") from None
    if not raw or len(raw) > MAX_BINDING_BYTES:
        raise ServiceError(400, f"value must decode to 1 to {MAX_BINDING_BYTES} bytes")
    if len(raw) == HASH_BYTES:
        return fp.Fingerprint(algorithm=alg, hashes=((0.0, raw),), duration=1.0)
    try:
        query = fp.Fingerprint.from_bytes(raw)
    except (ValueError, InputError, IndexError, TypeError) as exc:
        raise ServiceError(400, f"value is not a {alg} fingerprint ({exc})") from None
    if query.algorithm != alg:
        raise ServiceError(400, f"value is a {query.algorithm} fingerprint, not {alg}")
    return query


class Resolution:
    """The endpoints, sharing the service's work gate, limits and tokens."""

    def __init__(self, service: Service, repo: Repository) -> None:
        self.service = service
        self.config = service.config
        self.repo = repo

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/matches/byBinding", self.by_binding, methods=["GET", "POST"]),
            Route("/matches/byContent", self.by_content, methods=["POST"]),
            Route("/manifests/{manifestId}", self.manifest, methods=["GET"]),
            Route("/manifests", self.register, methods=["POST"]),
            Route("/services/supportedAlgorithms", self.algorithms, methods=["GET"]),
        ]

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self.service.gate.run(fn, *args, **kwargs)
        except RepositoryError as exc:
            # the message names the repository's path or address: for the log, not the client
            log.error("manifest repository unavailable: %s", inert(exc.diagnostics(), limit=MESSAGE_LIMIT))
            raise ServiceError(503, "the manifest repository is unavailable", hint="retry later") from None

    async def algorithms(self, request: Request) -> Response:
        names = await self._run(supported_algorithms, self.repo)
        return JSONResponse({"fingerprints": [{"alg": n} for n in names], "watermarks": []})

    async def by_binding(self, request: Request) -> Response:
        limit = _max_results(request)
        if request.method == "POST":
            body = await request.body()
            if len(body) > 2 * MAX_BINDING_BYTES:
                raise ServiceError(413, "the soft binding query is too large")
            try:
                query = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise ServiceError(400, "the body is not JSON", hint='send {"alg": ..., "value": ...}') from None
            if not isinstance(query, dict):
                raise ServiceError(400, "the body is not a soft binding query", hint='send {"alg": ..., "value": ...}')
            alg, value = query.get("alg"), query.get("value")
            if not isinstance(alg, str) or not isinstance(value, str):
                raise ServiceError(400, "alg and value must be strings")
        else:
            alg, value = request.query_params.get("alg"), request.query_params.get("value")
        with self.service.gate.admit():
            supported = await self._run(supported_algorithms, self.repo)
            fingerprint = binding_fingerprint(alg, value, supported=supported)
            found = await self._run(self.repo.lookup, fingerprint, max_results=limit)
        return JSONResponse(match_body(found))

    async def by_content(self, request: Request) -> Response:
        from provenance.repository.clips import fingerprint_clip

        limit = _max_results(request)
        alg = request.query_params.get("alg")
        supported = await self._run(supported_algorithms, self.repo)
        if alg is not None and alg not in supported:
            raise ServiceError(
                400, f"alg {alg!r} is not supported here", hint="GET /services/supportedAlgorithms lists the algorithms"
            )
        async with upload_folder(self.config.tmp_dir) as folder:
            # the whole body first, within the service's deadlines; a work slot only then
            upload = await self.service.receive(request, folder)
            with self.service.gate.admit():
                try:
                    computed = await self._run(fingerprint_clip, upload.clip, dense=True)
                except InputError as exc:
                    status = 415 if isinstance(exc, UnsupportedFormatError) else 422
                    raise ServiceError(
                        status, _scrub(exc.message, upload) or exc.message, hint="send a video clip"
                    ) from None
                if computed.fingerprint is None:
                    raise ServiceError(
                        422,
                        _scrub(f"cannot be looked up: {computed.reason}", upload) or "",
                        hint="send a clip of a few seconds with visible content",
                    )
                found = await self._run(self.repo.lookup, computed.fingerprint, max_results=limit)
        return JSONResponse(match_body(found))

    async def manifest(self, request: Request) -> Response:
        manifest_id = request.path_params["manifestId"]
        stored = await self._run(self.repo.manifest, manifest_id)
        if stored is None:
            raise ServiceError(404, f"no manifest {manifest_id!r} in this repository")
        # The whole store also when returnActiveManifest=true: the active
        # manifest cannot be validated without the ingredients' manifests.
        return Response(
            stored.store,
            media_type=C2PA_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="manifest.c2pa"'},
        )

    async def register(self, request: Request) -> Response:
        from provenance.repository.clips import register_clip

        if not len(self.config.tokens):
            raise ServiceError(
                503,
                "registering is not enabled on this service",
                hint="the operator enables it with bearer tokens",
            )
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.config.tokens.accepts(token.strip() or None):
            raise ServiceError(
                401,
                "a valid bearer token is required to register",
                hint="send 'Authorization: Bearer <token>' with a token the operator issued",
                headers={"WWW-Authenticate": 'Bearer realm="provenance"'},
            )
        async with upload_folder(self.config.tmp_dir) as folder:
            upload = await self.service.receive(request, folder)  # the body first, no work slot held meanwhile
            with self.service.gate.admit():
                try:
                    registration = await self._run(
                        register_clip, self.repo, upload.clip, trust=self.config.trust, sidecar=upload.sidecar
                    )
                except InputError as exc:
                    status = 415 if isinstance(exc, UnsupportedFormatError) else 422
                    raise ServiceError(status, _scrub(exc.message, upload) or exc.message, hint=exc.hint) from None
        body = {
            "manifestId": registration.manifest_id,
            "created": registration.created,
            "fingerprinted": registration.fingerprinted,
            "hashes": registration.hashes,
            "reason": registration.reason,
        }
        return JSONResponse(body, status_code=201 if registration.created else 200)
