"""A task's file: a path on storage the workers share, or an http(s) URL
the worker downloads into a temporary file, bounded in size and time."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from provenance.errors import InputError, UsageError

CHUNK = 1 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class FetchUnavailable(InputError):
    """The file's server did not answer, or answered "try later" (5xx,
    429): a transient fault, retried."""

    reason = "fetch_unavailable"


class _HttpOnly(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (never file: or ftp:)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise InputError(f"{req.full_url}: redirected to {urlsplit(newurl).scheme}:, refused")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def is_url(location: str) -> bool:
    return urlsplit(location).scheme.lower() in ("http", "https")


@contextlib.contextmanager
def local_file(location: str, *, max_bytes: int, timeout: float) -> Iterator[Path]:
    """*location* as a file this process can open: the path itself, or a
    download of the URL (deleted afterwards). A download past *max_bytes*
    or *timeout* seconds is refused (InputError); an unreachable server is
    :class:`FetchUnavailable`."""
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        with tempfile.TemporaryDirectory(prefix="provenance-fetch-") as folder:
            yield _download(location, Path(folder), max_bytes=max_bytes, timeout=timeout)
        return
    if scheme and len(scheme) > 1:  # "C:" is a drive, not a scheme
        raise UsageError(
            f"{location}: {scheme}: locations are not fetched", hint="give a path on shared storage or an http(s) URL"
        )
    yield Path(location)


def _download(url: str, folder: Path, *, max_bytes: int, timeout: float) -> Path:
    name = _UNSAFE.sub("_", os.path.basename(urlsplit(url).path))[-100:] or "download"
    target = folder / name
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_HttpOnly)
    try:
        with opener.open(url, timeout=timeout) as response, open(target, "wb") as out:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise InputError(f"{url}: {int(declared)} bytes, more than the {max_bytes} a worker fetches")
            total = 0
            while chunk := response.read(CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise InputError(f"{url}: more than the {max_bytes} bytes a worker fetches")
                if time.monotonic() > deadline:
                    raise InputError(f"{url}: not fetched within {timeout:g} s")
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise FetchUnavailable(f"{url}: the server answered {exc.code}") from None
        raise InputError(f"{url}: the server answered {exc.code}", hint="check the URL") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        why = getattr(exc, "reason", None) or exc
        raise FetchUnavailable(f"{url}: cannot fetch ({why})") from None
    return target
