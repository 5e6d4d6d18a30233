"""The HTTP/1.1 connection handling for ``provenance serve``: uvicorn's h11
protocol with the deadlines it lacks.

uvicorn (0.54 as of writing) arms no timer on a new connection and cancels
its keep-alive timer at the first byte of a request, so a client that sends
half a header line, or a body the application does not read, holds its
connection forever. This subclass adds:

- a header deadline: the request line and headers must be complete within
  *header_timeout* seconds of the request's first byte (or of the
  connection, for its first request), else 408 (when something came) and the
  connection is closed;
- a backstop on the whole request: if the client is still sending
  *request_timeout* (+1 s) after the request began, the connection is
  closed (the application answers 408 itself a second before, when it is
  the one reading); a body left unread by an early answer (401, 405...)
  may drain for *header_timeout* seconds, no longer;
- at most *max_connections_per_client* open connections per peer address;
  more are closed at once.

The time the request began is handed to the application in
``scope["extensions"]["provenance.request_started"]`` (``time.monotonic()``),
so that its deadline covers the headers too.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from provenance.service.limits import REQUEST_STARTED

BACKSTOP_SLACK = 1.0  # the application's own 408 comes first


def _raw_408(message: str) -> bytes:
    body = json.dumps({"error": message, "hint": "send the whole request without pauses"}).encode()
    return (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n%s" % (len(body), body)
    )


def deadline_protocol(
    *, header_timeout: float, request_timeout: float, max_connections_per_client: int
) -> type[H11Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with these limits
    (each class counts its own connections)."""
    open_per_client: dict[str, int] = {}

    class DeadlineH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._peer: str | None = None
            self._started: float | None = None
            self._got_bytes = False
            self._header_timer: asyncio.TimerHandle | None = None
            self._request_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._peer = self.client[0] if self.client else None
            if self._peer is not None:
                count = open_per_client.get(self._peer, 0) + 1
                open_per_client[self._peer] = count
                if max_connections_per_client and count > max_connections_per_client:
                    self.logger.debug(
                        "%s: more than %d connections; closing one", self._peer, max_connections_per_client
                    )
                    transport.close()
                    return
            self._request_begins()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_timers()
            if self._peer is not None:
                left = open_per_client.get(self._peer, 1) - 1
                if left > 0:
                    open_per_client[self._peer] = left
                else:
                    open_per_client.pop(self._peer, None)
                self._peer = None
            super().connection_lost(exc)

        def _request_begins(self) -> None:
            self._started = time.monotonic()
            self._got_bytes = False
            self._cancel_timers()
            self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)
            self._request_timer = self.loop.call_later(request_timeout + BACKSTOP_SLACK, self._request_too_slow)

        def _cancel_timers(self) -> None:
            for timer in (self._header_timer, self._request_timer):
                if timer is not None:
                    timer.cancel()
            self._header_timer = self._request_timer = None

        def data_received(self, data: bytes) -> None:
            if self._started is None and self.conn.their_state is h11.IDLE:
                self._request_begins()  # the next request on a kept-alive connection
            self._got_bytes = self._got_bytes or bool(data)
            super().data_received(data)
            if self.conn.their_state is h11.IDLE and self._header_timer is None and not self.transport.is_closing():
                # The rest of an unread body came with the start of the next request.
                self._request_begins()
                self._got_bytes = True

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a request's headers are complete
                if self._header_timer is not None:
                    self._header_timer.cancel()
                    self._header_timer = None
                # The task that runs the request has been created, not started.
                extensions = cast("dict[str, Any]", self.cycle.scope.setdefault("extensions", {}))
                extensions[REQUEST_STARTED] = self._started if self._started is not None else time.monotonic()

        def on_response_complete(self) -> None:
            if self._request_timer is not None:
                self._request_timer.cancel()
                self._request_timer = None
            if self.conn.their_state is h11.SEND_BODY:
                # Answered without reading the body (401, 405, ...): uvicorn
                # would read and drop the rest for as long as it comes.
                self._request_timer = self.loop.call_later(header_timeout, self._request_too_slow)
            self._started = None
            super().on_response_complete()

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.transport.is_closing():
                return
            if self._got_bytes:
                self.transport.write(_raw_408(f"the request headers did not arrive within {header_timeout:g} s"))
            self.transport.close()

        def _request_too_slow(self) -> None:
            self._request_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.SEND_BODY:
                return
            # Still sending: a body nobody reads, or one that is too slow.
            self.transport.close()

    return DeadlineH11Protocol
