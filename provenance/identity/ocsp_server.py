"""A small OCSP responder over HTTP (RFC 6960 Appendix A): POST with an
``application/ocsp-request`` body, or GET with the request base64- and
URL-encoded in the path, answered with an ``application/ocsp-response``
signed by the CA's delegated responder (:class:`Responder`).

Hostile clients get an OCSP error answer or an HTTP error, never a hang:
bodies are capped at 64 KiB and every connection has a socket timeout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.x509 import ocsp as x509_ocsp

from provenance.errors import ProvenanceError
from provenance.identity import ocsp
from provenance.identity.revocation import Responder

CONTENT_TYPE = "application/ocsp-response"
SOCKET_TIMEOUT = 10.0


def make_server(
    responder: Responder, *, host: str, port: int, log: Callable[[str], None] | None = None
) -> ThreadingHTTPServer:
    """An HTTP server answering OCSP requests with *responder*; call
    ``serve_forever()`` on it. *log* gets one line per request."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "provenance-ocsp"
        timeout = SOCKET_TIMEOUT

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._plain(HTTPStatus.LENGTH_REQUIRED)
                return
            if not 0 < length <= ocsp.MAX_REQUEST_BYTES:
                self._plain(HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length > 0 else HTTPStatus.BAD_REQUEST)
                return
            body = self.rfile.read(length)
            self._answer(body)

        def do_GET(self) -> None:  # noqa: N802
            der = ocsp.decode_get_path(self.path[:8192])
            if der is None:
                self._send(ocsp.unsuccessful(x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST), "malformed")
                return
            self._answer(der)

        def _answer(self, der: bytes) -> None:
            try:
                body, word = responder.answer(der)
            except ProvenanceError as exc:  # a damaged CA folder: say so in the log, answer internalError
                body, word = ocsp.unsuccessful(x509_ocsp.OCSPResponseStatus.INTERNAL_ERROR), f"error: {exc}"
            self._send(body, word)

        def _send(self, body: bytes, word: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            if log is not None:
                log(f"{self.command} {word}")

        def _plain(self, status: HTTPStatus) -> None:
            self.send_error(status)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            # http.server's own lines quote the raw request line: never
            # echo what a client sent; requests are logged by _send.
            return

    return _Server((host, port), Handler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that times out or drops the connection is not news; the
        # default prints a traceback.
        return


def stderr_log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
