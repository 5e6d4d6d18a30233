"""What the HTTP service tells a client to do about a library error: its own
hints, naming request parts rather than command-line flags, for each error
``reason`` (see :mod:`provenance.errors`), per endpoint where they differ.
A reason not listed here keeps the library's hint."""

from __future__ import annotations

import re

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


# Notes the library words for the command line (they name its options), as
# the service says them: (the note's CLI tail, the service's tail).
NOTE_TAILS: tuple[tuple[str, str], ...] = (
    (
        "; verify it with --segments GLOB",
        "; this service checks one file at a time, so the segments are not checked here",
    ),
)
_CLI_SIDECAR = re.compile(r"\. Verify the sidecar with --manifest .*$")


def http_note(note: str) -> str:
    """*note* as an HTTP client reads it: no command-line options."""
    for tail, ours in NOTE_TAILS:
        if note.endswith(tail):
            return note[: -len(tail)] + ours
    return _CLI_SIDECAR.sub(". Send the sidecar as the 'sidecar' part to check it", note)


def http_hint(exc: ProvenanceError, *, endpoint: str = "*") -> str | None:
    """The hint an HTTP client gets for *exc* at *endpoint*."""
    reason = exc.reason or ""
    return HTTP_HINTS.get((endpoint, reason)) or HTTP_HINTS.get(("*", reason)) or exc.hint
