"""What the HTTP service tells a client to do about a library error: its own
hints, naming request parts rather than command-line flags, for each error
``reason`` (see :mod:`provenance.errors`), per endpoint where they differ.
A reason not listed here keeps the library's hint."""

from __future__ import annotations

from provenance.errors import ProvenanceError

# (endpoint or "*", reason) -> hint
HTTP_HINTS: dict[tuple[str, str], str] = {
    ("verify", "container_cannot_embed"): "send MP4, MOV, M4V or AVI, or this clip with its sidecar manifest "
    "as the 'sidecar' part",
    ("sign", "container_cannot_embed"): "this service embeds credentials in MP4, MOV, M4V or AVI files; "
    "remux the clip to MP4 first",
    ("*", "tsa_failed"): "the service's time-stamp authority is unreachable; retry later",
    ("*", "signer_command_timeout"): "the service's signer did not answer; retry later",
}


def http_hint(exc: ProvenanceError, *, endpoint: str = "*") -> str | None:
    """The hint an HTTP client gets for *exc* at *endpoint*."""
    reason = exc.reason or ""
    return HTTP_HINTS.get((endpoint, reason)) or HTTP_HINTS.get(("*", reason)) or exc.hint
