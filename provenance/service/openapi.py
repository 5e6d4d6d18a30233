"""The OpenAPI 3.1 description of the service, served at ``/openapi.json``.

Written out rather than generated, so that it documents the verify JSON
contract field for field; tests check every route is described and every
answer the service gives validates against it.
"""

from __future__ import annotations

from typing import Any

from provenance._version import __version__
from provenance.credentials.manifest import SourceType
from provenance.verification.report import SCHEMA, StatusKind, TimeSource, Verdict

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_VERDICT = {"type": "string", "enum": [v.value for v in Verdict]}
_NAME = {"type": "object", "additionalProperties": {"type": "array", "items": _STR}}


def _obj(
    properties: dict[str, Any], *, required: list[str] | None = None, description: str | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(name: str) -> dict[str, Any]:
    return {"oneOf": [_ref(name), {"type": "null"}]}


SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {"error": _STR, "hint": _NSTR}, description="A refused or failed request: what is wrong; what to do."
    ),
    "Status": _obj(
        {
            "code": _STR,
            "kind": {"type": "string", "enum": [k.value for k in StatusKind]},
            "explanation": _STR,
            "url": _NSTR,
        },
        description="One C2PA validation status code with its explanation.",
    ),
    "SignerIdentity": _obj(
        {
            "common_name": _NSTR,
            "organization": _NSTR,
            "issuer": _NSTR,
            "trusted_by": {"type": ["string", "null"], "description": "The trust source that vouches (verified only)."},
            "email": _NSTR,
            "not_before": _NSTR,
            "not_after": _NSTR,
            "subject": {**_NAME, "description": 'Every subject attribute: {"CN": [...], "O": [...], ...}.'},
            "issuer_name": {**_NAME, "description": "Every issuer attribute, likewise."},
            "emails": {"type": "array", "items": _STR, "description": "Every e-mail address of the certificate."},
        },
        description="Who signed, read from the claim-signing certificate.",
    ),
    "TimeStamp": _obj(
        {
            "time": _STR,
            "authority": _STR,
            "trusted": {"type": "boolean"},
            "trusted_by": _NSTR,
        },
        description="The RFC 3161 time-stamp on the claim signature.",
    ),
    "Action": _obj(
        {
            "action": _STR,
            "when": _NSTR,
            "digital_source_type": _NSTR,
            "software_agent": _NSTR,
            "parameters": {"type": "object"},
        }
    ),
    "Ingredient": _obj(
        {
            "title": _NSTR,
            "relationship": _NSTR,
            "verdict": _VERDICT,
            "signer": _nullable("SignerIdentity"),
            "manifest_id": _NSTR,
            "signed_at": _NSTR,
            "actions": {"type": "array", "items": _ref("Action")},
            "digital_source_type": _NSTR,
            "status": {"type": "array", "items": _ref("Status")},
            "ingredients": {"type": "array", "items": _ref("Ingredient")},
        },
        description="A node of the provenance chain, with its own verdict.",
    ),
    "Thumbnail": _obj(
        {"mime_type": _STR, "data_base64": {"type": "string", "contentEncoding": "base64"}},
        description="The claim thumbnail the signer embedded.",
    ),
    "Expectation": _obj(
        {
            "expected": _obj(
                {"signer": _NSTR, "org": _NSTR, "issuer": _NSTR, "require_timestamp": {"type": "boolean"}}
            ),
            "met": {"type": "boolean"},
            "problems": {"type": "array", "items": _STR},
        },
        description="Present when expect_* or require_timestamp was given; the verdict is `wrong_signer` "
        "when a verified clip does not meet it (as `provenance verify --expect-*`).",
    ),
    "VerificationReport": {
        **_obj(
            {
                "schema": {"type": "string", "const": SCHEMA},
                "file": _STR,
                "verdict": _VERDICT,
                "signer": _nullable("SignerIdentity"),
                "signed_at": _NSTR,
                "timestamped": {"type": "boolean"},
                "generator": _NSTR,
                "title": _NSTR,
                "manifest_id": _NSTR,
                "actions": {"type": "array", "items": _ref("Action")},
                "digital_source_type": _NSTR,
                "ai_generated": {"type": "boolean"},
                "ingredients": {"type": "array", "items": _ref("Ingredient")},
                "status": {"type": "array", "items": _ref("Status")},
                "credentials_source": {"type": ["string", "null"], "enum": ["embedded", "sidecar", None]},
                "notes": {"type": "array", "items": _STR},
                "error": _NSTR,
                "sidecar": {"type": ["string", "null"], "description": "The sidecar manifest used, if any."},
                "chain_summary": {"type": ["string", "null"], "description": "One line over the ingredient chain."},
                "chain_verdict": {
                    "oneOf": [_VERDICT, {"type": "null"}],
                    "description": "The worst verdict among the ingredients.",
                },
                "time_source": {
                    "type": ["string", "null"],
                    "enum": [t.value for t in TimeSource] + [None],
                    "description": "Where signed_at comes from.",
                },
                "timestamp": _nullable("TimeStamp"),
                "policy_failures": {
                    "type": "array",
                    "items": _STR,
                    "description": "Why the expect_*/require_timestamp policy was not met.",
                },
                "policy_unmet": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Which kinds of expectation were not met.",
                },
                "warnings": {
                    "type": "array",
                    "items": _ref("Status"),
                    "description": "Failures that did not decide the verdict (CAWG identity, unknown codes).",
                },
                "error_reason": {"type": ["string", "null"], "description": "For verdict error: a stable reason key."},
                "recovery": {
                    "type": ["object", "null"],
                    "description": "What a repository lookup found (verify --lookup): repository, "
                    "file_verdict, candidates (manifest_id, score, matched_span, verdict, "
                    "accepted, signer, signed_at, title, chain_summary, why_not), note.",
                },
                # CAWG identities (issue 10, part 1)
                "identities": {
                    "type": "array",
                    "items": {"type": "object"},
                    "description": "The CAWG identity assertions of the active manifest, each with its own "
                    "status (trusted, untrusted, broken) that never changes the verdict: label, status, "
                    "sig_type, name, credential (as signer), issuer, verified_identities, covers, roles, "
                    "explanation, problems (see docs/schema/verify.schema.json).",
                },
                "policy_matched": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "enum": ["c2pa_signer", "cawg_identity"]},
                    "description": "For a clip with a CAWG identity: which credential met each expectation.",
                },
                "thumbnail": {**_nullable("Thumbnail"), "description": "Only with ?thumbnail=1."},
                "expectation": _ref("Expectation"),
            },
            description="The verify JSON contract (as `provenance verify --json`).",
        ),
        "required": [
            "schema",
            "file",
            "verdict",
            "signer",
            "signed_at",
            "timestamped",
            "generator",
            "title",
            "manifest_id",
            "actions",
            "digital_source_type",
            "ai_generated",
            "ingredients",
            "status",
            "credentials_source",
            "notes",
            "error",
            "sidecar",
            "chain_summary",
            "chain_verdict",
            "time_source",
            "timestamp",
            "policy_failures",
        ],
    },
    "Health": _obj(
        {
            "status": {"type": "string", "const": "ok"},
            "version": _STR,
            "c2pa": _STR,
            "signing": {"type": "boolean", "description": "Whether POST /v1/sign is enabled."},
            "lookup": {"type": "boolean", "description": "Whether /v1/verify?lookup=1 looks clips up (serve --repo)."},
            "work": _obj(
                {
                    "admitted": {"type": "integer"},
                    "workers": {"type": "integer"},
                    "queue": {"type": "integer"},
                    "uploading": {"type": "integer", "description": "Uploads arriving now (they hold no work slot)."},
                }
            ),
            "max_upload": {"type": "integer"},
        }
    ),
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or _STR}


_FLAG = {"type": "string", "enum": ["0", "1", "true", "false", "yes", "no", "on", "off"]}


def _upload_body(*, sidecar: bool) -> dict[str, Any]:
    form: dict[str, Any] = {
        "file": {"type": "string", "contentMediaType": "application/octet-stream", "description": "The clip."}
    }
    if sidecar:
        form["sidecar"] = {
            "type": "string",
            "contentMediaType": "application/octet-stream",
            "description": "A detached C2PA manifest store (.c2pa) for the clip.",
        }
    return {
        "required": True,
        "description": "The clip as the raw body (any content type), or a multipart form. Streamed to disk, "
        "never held in memory.",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": form, "required": ["file"]}},
        },
    }


_SLOW = (
    "The request did not arrive in time: headers and body past the request deadline, the body slower than "
    "the minimum upload rate, or stalled. The connection is closed."
)
_PER_CLIENT = _error(
    "Too many uploads at once from this client address; retry after the Retry-After delay. "
    "The body is not read and the connection is closed."
)


def openapi_document(*, max_upload: int, resolution: bool = False) -> dict[str, Any]:
    """The document, with this service's upload limit written in; with
    *resolution*, the C2PA Soft Binding Resolution API (``serve --repo``)."""
    limit = f"Uploads larger than {max_upload} bytes are refused with 413."
    filename = _query("filename", "The clip's file name, for a raw body (a form carries its own).")
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "provenance",
            "version": __version__,
            "description": "Verify and sign C2PA content credentials on video. " + limit,
        },
        "paths": {
            "/v1/verify": {
                "post": {
                    "operationId": "verify",
                    "summary": "Verify the content credentials of an uploaded clip",
                    "parameters": [
                        filename,
                        _query("thumbnail", "Include the claim thumbnail, base64, in the answer.", _FLAG),
                        _query(
                            "lookup",
                            "With serve --repo: a clip without valid credentials is looked up by "
                            "its content; verdict `recovered` when a trusted signed original matches.",
                            _FLAG,
                        ),
                        _query(
                            "expect_signer",
                            "Expected signer: certificate common name or e-mail, exact. "
                            "A verified clip from anyone else is `wrong_signer`.",
                        ),
                        _query("expect_org", "Expected signer organisation (O), exact."),
                        _query("expect_issuer", "Expected issuing CA (its CN or O), exact."),
                        _query("require_timestamp", "Require a trusted time-stamp.", _FLAG),
                    ],
                    "requestBody": _upload_body(sidecar=True),
                    "responses": {
                        "200": {
                            "description": "Checked: the verdict says what was found.",
                            "content": {"application/json": {"schema": _ref("VerificationReport")}},
                        },
                        "400": _error("A malformed request or form."),
                        "408": _error(_SLOW),
                        "413": _error(limit),
                        "415": _error(
                            "Not a container provenance supports (MP4, MOV, M4V, AVI), and no sidecar was sent."
                        ),
                        "422": {
                            "description": "The clip or its sidecar could not be read (verdict `error`), or is empty.",
                            "content": {
                                "application/json": {"schema": {"oneOf": [_ref("VerificationReport"), _ref("Error")]}}
                            },
                        },
                        "429": _PER_CLIENT,
                        "503": _error(
                            "Busy: too many uploads arriving, or requests being worked on, at once; retry "
                            "after the Retry-After delay."
                        ),
                    },
                }
            },
            "/v1/sign": {
                "post": {
                    "operationId": "sign",
                    "summary": "Sign an uploaded clip with the service's identity",
                    "security": [{"bearer": []}],
                    "parameters": [
                        filename,
                        _query("title", "Title recorded in the manifest [default: the file name]."),
                        _query("author", "Author recorded in the manifest [default: the certificate's CN]."),
                        _query(
                            "source",
                            "How the content was made (IPTC digital source type).",
                            {"type": "string", "enum": [s.value for s in SourceType], "default": "camera"},
                        ),
                        _query(
                            "register",
                            "With serve --repo: record the clip's content fingerprint (c2pa.soft-binding) and "
                            "register the signed manifest in the repository.",
                            _FLAG,
                        ),
                    ],
                    "requestBody": _upload_body(sidecar=False),
                    "responses": {
                        "200": {
                            "description": "The signed clip, streamed.",
                            "headers": {
                                "X-Provenance-Manifest-Id": {"schema": _STR, "description": "The new manifest's id."},
                                "X-Provenance-Signer": {"schema": _STR, "description": "The signer's common name."},
                                "X-Provenance-Registered": {
                                    "schema": _STR,
                                    "description": "true when register=1 registered the signed manifest.",
                                },
                            },
                            "content": {
                                m: {"schema": {"type": "string", "contentMediaType": m}}
                                for m in ("video/mp4", "video/quicktime", "video/x-m4v", "video/x-msvideo")
                            },
                        },
                        "400": _error("A malformed request, form or parameter."),
                        "401": _error("No valid bearer token."),
                        "408": _error(_SLOW),
                        "413": _error(limit),
                        "415": _error("Not a container provenance supports (MP4, MOV, M4V, AVI)."),
                        "422": _error("The clip is damaged and cannot be signed."),
                        "429": _PER_CLIENT,
                        "503": _error("Signing is not enabled, or the service is busy (Retry-After)."),
                        "507": _error("The server cannot write the signed clip (its disk is full or read-only)."),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness and configuration",
                    "responses": {
                        "200": {"description": "Up.", "content": {"application/json": {"schema": _ref("Health")}}}
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
                }
            },
            "/": {
                "get": {
                    "operationId": "page",
                    "summary": "The verify page: drop a clip, see its credentials",
                    "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from the operator's tokens file or PROVENANCE_TOKENS.",
                }
            },
        },
    }
    if resolution:
        document["paths"].update(_resolution_paths(limit, filename))
        document["components"]["schemas"] = {**SCHEMAS, **RESOLUTION_SCHEMAS}
    return document


# --- the C2PA Soft Binding Resolution API (serve --repo) -----------------------

_SPEC = "C2PA Soft Binding Resolution API 1.1 (https://spec.c2pa.org)"

RESOLUTION_SCHEMAS: dict[str, Any] = {
    "c2pa.softBindingQuery": _obj(
        {
            "alg": {"type": "string", "description": "The soft binding algorithm (GET /services/supportedAlgorithms)."},
            "value": {
                "type": "string",
                "contentEncoding": "base64",
                "description": "Base64 of a whole fingerprint (as embedded in the c2pa.soft-binding assertion) "
                "or of one 32-byte per-second hash.",
            },
        },
        description="A soft binding to look up.",
    ),
    "c2pa.softBindingQueryResult": _obj(
        {
            "matches": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["manifestId"],
                    "properties": {
                        "manifestId": {
                            "type": "string",
                            "description": "The matched manifest (its store: GET /manifests/{id}).",
                        },
                        "endpoint": {"type": "string"},
                        "similarityScore": {"type": "integer", "minimum": 0, "maximum": 100},
                        "score": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": 1,
                            "description": "provenance: the fingerprint comparison score, 0-1.",
                        },
                        "matchedSpan": {
                            **_obj({"start": {"type": "number"}, "end": {"type": "number"}}),
                            "description": "provenance: the seconds of the registered original the query matches.",
                        },
                        "signer": {
                            **_obj({"name": _NSTR, "organization": _NSTR, "issuer": _NSTR, "signed_at": _NSTR}),
                            "description": "provenance: who signed, as registered (display only: validate the "
                            "manifest store).",
                        },
                        "title": _NSTR,
                    },
                },
            },
        },
        description="Matches, best first. " + _SPEC + " shapes, with provenance's additions.",
    ),
    "c2pa.softBindingAlgList": _obj(
        {
            "fingerprints": {"type": "array", "items": _obj({"alg": _STR})},
            "watermarks": {"type": "array", "items": _obj({"alg": _STR})},
        }
    ),
    "Registration": _obj(
        {
            "manifestId": _STR,
            "created": {"type": "boolean", "description": "false: it was registered already (nothing changed)."},
            "fingerprinted": {
                "type": "boolean",
                "description": "false: too short or too uniform to fingerprint; stored without one.",
            },
            "hashes": {"type": "integer"},
            "reason": _NSTR,
        }
    ),
}


def _resolution_paths(limit: str, filename: dict[str, Any]) -> dict[str, Any]:
    max_results = _query(
        "maxResults", "Matches returned at most.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
    )
    alg = _query("alg", "The soft binding algorithm.")
    result = {
        "description": "Matches, best first (none: an empty list).",
        "content": {"application/json": {"schema": _ref("c2pa.softBindingQueryResult")}},
    }
    unavailable = _error("The repository is unavailable, or the service is busy.")
    return {
        "/matches/byBinding": {
            "get": {
                "operationId": "queryByBinding",
                "tags": ["query"],
                "summary": "Manifests whose fingerprint matches a soft binding value",
                "parameters": [
                    {**alg, "required": True},
                    {**_query("value", "Base64 soft binding value (see c2pa.softBindingQuery)."), "required": True},
                    max_results,
                ],
                "responses": {
                    "200": result,
                    "400": _error("A missing or malformed alg, value or maxResults."),
                    "503": unavailable,
                },
            },
            "post": {
                "operationId": "queryByLargeBinding",
                "tags": ["query"],
                "summary": "The same, for a value too large for a URL",
                "parameters": [max_results],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("c2pa.softBindingQuery")}},
                },
                "responses": {
                    "200": result,
                    "400": _error("A malformed query."),
                    "413": _error("Too large."),
                    "503": unavailable,
                },
            },
        },
        "/matches/byContent": {
            "post": {
                "operationId": "uploadFile",
                "tags": ["query"],
                "summary": "Manifests whose content matches an uploaded clip (fingerprinted here)",
                "parameters": [alg, max_results, filename],
                "requestBody": _upload_body(sidecar=False),
                "responses": {
                    "200": result,
                    "400": _error("A malformed request or parameter."),
                    "408": _error("The upload stalled."),
                    "413": _error(limit),
                    "415": _error("Not a video this service can decode."),
                    "422": _error("Too short or too uniform to fingerprint, or damaged."),
                    "503": unavailable,
                },
            }
        },
        "/manifests/{manifestId}": {
            "get": {
                "operationId": "getManifestById",
                "tags": ["fetch"],
                "summary": "A registered manifest store (the whole store, also with returnActiveManifest)",
                "parameters": [
                    {"name": "manifestId", "in": "path", "required": True, "schema": _STR},
                    _query(
                        "returnActiveManifest",
                        "Accepted; the whole store is returned (validating the active "
                        "manifest needs its ingredients' manifests).",
                        {"type": "boolean"},
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "The C2PA manifest store (JUMBF).",
                        "content": {
                            "application/c2pa": {"schema": {"type": "string", "contentMediaType": "application/c2pa"}}
                        },
                    },
                    "404": _error("No such manifest here."),
                    "503": unavailable,
                },
            }
        },
        "/manifests": {
            "post": {
                "operationId": "registerClip",
                "tags": ["store"],
                "summary": "Register a signed clip: its manifest store and its fingerprint (provenance)",
                "security": [{"bearer": []}],
                "parameters": [filename],
                "requestBody": _upload_body(sidecar=True),
                "responses": {
                    "201": {
                        "description": "Registered.",
                        "content": {"application/json": {"schema": _ref("Registration")}},
                    },
                    "200": {
                        "description": "Registered already; nothing changed.",
                        "content": {"application/json": {"schema": _ref("Registration")}},
                    },
                    "401": _error("No valid bearer token."),
                    "408": _error("The upload stalled."),
                    "413": _error(limit),
                    "415": _error("Not a container provenance reads."),
                    "422": _error("Unsigned, tampered or invalid credentials, or a damaged clip."),
                    "503": _error("Registering is not enabled, the repository is unavailable, or the service is busy."),
                },
            }
        },
        "/services/supportedAlgorithms": {
            "get": {
                "operationId": "getSupportedBindings",
                "tags": ["service"],
                "summary": "The soft binding algorithms this service answers for",
                "responses": {
                    "200": {
                        "description": "The algorithms.",
                        "content": {"application/json": {"schema": _ref("c2pa.softBindingAlgList")}},
                    },
                    "503": unavailable,
                },
            }
        },
    }
