"""Bounded HTTP(S) downloads for trust lists.

A trust list is small (the official C2PA list is about 60 KB), so a
download is capped in size and in total time, follows redirects only to
http(s), and never touches anything but the URL it was given.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from provenance._version import __version__
from provenance.errors import ExitCode, ProvenanceError, UsageError

MAX_BYTES = 8 << 20  # 8 MiB: two orders of magnitude above any real trust list
TIMEOUT = 30.0  # seconds, for the whole download

Fetcher = Callable[[str], bytes]


class TrustSourceError(ProvenanceError):
    """A trust list could not be fetched or is not a valid list."""

    exit_code = ExitCode.BAD_INPUT


def is_url(origin: str) -> bool:
    return urllib.parse.urlsplit(origin).scheme.lower() in ("http", "https")


def _opener() -> Any:
    import urllib.request  # only when something is fetched: it costs start-up time

    class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
            if not is_url(newurl):
                raise TrustSourceError(
                    f"{req.full_url}: redirected to {newurl!r}, which is not http(s)", hint="use the list's final URL"
                )
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        _HttpOnlyRedirects(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.HTTPDefaultErrorHandler(),
    ):
        opener.add_handler(handler)
    return opener


def download(
    url: str,
    *,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    data: bytes | None = None,
    content_type: str | None = None,
    error: type[ProvenanceError] = TrustSourceError,
) -> bytes:
    """GET *url* (POST *data* as *content_type* when given) and return its
    body; at most *max_bytes*, within *timeout* seconds in all. Raises
    *error* (by default :class:`TrustSourceError`) with a one-line reason."""
    if not is_url(url):
        raise UsageError(f"{url}: not an http(s) URL", hint="give an http:// or https:// URL, or a local file")
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    headers = {"User-Agent": f"provenance/{__version__}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with _opener().open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise error(
                    f"{url}: the answer is {int(length):,} bytes, over the {max_bytes:,}-byte limit",
                    hint="check the URL",
                )
            chunks: list[bytes] = []
            total = 0
            while True:
                if time.monotonic() > deadline:
                    raise error(f"{url}: download took longer than {timeout:g} s", hint="try again later")
                chunk = response.read(64 * 1024)
                if not chunk:
                    break
                total += len(chunk)
                if total > max_bytes:
                    raise error(
                        f"{url}: the answer is over the {max_bytes:,}-byte limit",
                        hint="check the URL",
                    )
                chunks.append(chunk)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        raise error(
            f"{url}: the server answered HTTP {exc.code} {exc.reason}", hint="check the URL, or try again later"
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason.strerror if isinstance(exc.reason, OSError) and exc.reason.strerror else exc.reason
        raise error(f"{url}: cannot download ({reason})", hint="check the URL and the network") from None
    except TimeoutError:
        raise error(f"{url}: no answer within {timeout:g} s", hint="try again later") from None
    except (OSError, ValueError) as exc:
        raise error(f"{url}: cannot download ({exc})", hint="check the URL and the network") from None
