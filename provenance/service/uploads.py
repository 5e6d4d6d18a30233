"""Uploads streamed to a private temp folder, never held whole in memory.

The body is either the clip itself (any content type but multipart) or a
``multipart/form-data`` form with a ``file`` part (the clip) and an
optional ``sidecar`` part (a detached C2PA manifest store). Bytes go to
disk as they arrive; past the size limit the upload stops with 413.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

FILE_FIELDS = ("file", "sidecar")
SIDECAR_NAME = "sidecar.c2pa"
MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 16


class UploadError(Exception):
    """An upload that cannot be taken, with the HTTP status that says why."""

    def __init__(self, status: int, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint


@dataclass
class Upload:
    clip: Path
    filename: str
    size: int = 0
    sidecar: Path | None = None
    fields: dict[str, str] = field(default_factory=dict)


def safe_filename(name: str | None) -> str:
    """The last component of a client-given name, printable, bounded."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable() and c not in "\"'<>")[:200].strip(". ")
    return base or "upload"


def clip_path(folder: Path, filename: str) -> Path:
    """Where the clip lands: under its own (safe) name, so that messages and
    a kept parent ingredient carry the name the client gave, in a subfolder
    of the private upload folder."""
    (folder / "in").mkdir(exist_ok=True)
    return folder / "in" / filename


@contextlib.asynccontextmanager
async def upload_folder(tmp_dir: Path | None) -> AsyncIterator[Path]:
    """A private (0700) temp folder, removed on every way out: success,
    error, cancellation or a client that went away."""
    folder = Path(tempfile.mkdtemp(prefix="provenance-upload-", dir=tmp_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Pace:
    """How fast a request body must arrive: no pause longer than
    *idle_timeout*; all of it within *request_timeout* of *started* (when the
    request's first byte came, ``time.monotonic()``); and, once *grace*
    seconds have passed, on average at least *min_rate* bytes a second
    (0: no minimum)."""

    started: float
    request_timeout: float
    idle_timeout: float
    min_rate: int = 0
    grace: float = 10.0

    @property
    def deadline(self) -> float:
        return self.started + self.request_timeout


def _too_slow(message: str) -> UploadError:
    return UploadError(408, message, hint="send the whole request without pauses, on a faster connection")


async def _chunks(request: Request, pace: Pace) -> AsyncIterator[bytes]:
    stream = request.stream().__aiter__()
    received = 0
    while True:
        remaining = pace.deadline - time.monotonic()
        wait = min(pace.idle_timeout, remaining)
        try:
            if wait <= 0:
                raise TimeoutError
            with anyio.fail_after(wait):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            if wait < pace.idle_timeout:
                raise _too_slow(f"the request did not arrive within {pace.request_timeout:g} s") from None
            raise UploadError(
                408, f"the upload stalled for {pace.idle_timeout:g} s", hint="send the body without pauses"
            ) from None
        received += len(chunk)
        late = time.monotonic() - pace.started - pace.grace
        if pace.min_rate and late > 0 and received < pace.min_rate * late:
            raise _too_slow(f"the upload is arriving slower than {_rate(pace.min_rate)}")
        if chunk:
            yield chunk


def _rate(rate: int) -> str:
    return f"{rate / 1024:g} KiB/s" if rate >= 1024 else f"{rate} B/s"


class _Limit:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen = 0

    def add(self, n: int) -> None:
        self.seen += n
        if self.seen > self.limit:
            raise UploadError(
                413,
                f"the upload is larger than the limit of {self.limit} bytes",
                hint="send a smaller file, or ask the operator to raise the upload limit",
            )


async def receive_upload(request: Request, *, folder: Path, limit: int, pace: Pace) -> Upload:
    """Stream the request body into *folder*; return where the clip (and
    sidecar) landed, at the *pace* it sets. Raises :class:`UploadError`
    (400, 408, 413) or
    starlette's ``ClientDisconnect``."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise UploadError(
            413,
            f"the upload ({length} bytes) is larger than the limit of {limit} bytes",
            hint="send a smaller file, or ask the operator to raise the upload limit",
        )
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    budget = _Limit(limit)
    if content_type == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise UploadError(400, "multipart upload without a boundary", hint="let the HTTP client build the form")
        upload = await _receive_multipart(request, folder, boundary, budget, pace)
    else:
        filename = safe_filename(request.query_params.get("filename"))
        clip = clip_path(folder, filename)
        with open(clip, "wb") as fh:  # noqa: ASYNC230 - a local temp file: opening it does not block on the network
            async for chunk in _chunks(request, pace):
                budget.add(len(chunk))
                fh.write(chunk)
        upload = Upload(clip=clip, filename=filename)
    upload.size = budget.seen
    if not upload.clip.exists() or upload.clip.stat().st_size == 0:
        raise UploadError(
            400,
            "the upload has no clip in it",
            hint="send the video as the request body, or as the 'file' field of a form",
        )
    return upload


class _Form:
    """Callbacks for python-multipart's streaming parser: file parts go
    straight to disk, small text fields are kept."""

    def __init__(self, folder: Path, budget: _Limit) -> None:
        self.folder = folder
        self.budget = budget
        self.upload = Upload(clip=clip_path(folder, "upload"), filename="upload")
        self.parts = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._file: IO[bytes] | None = None
        self._text = bytearray()

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise UploadError(
                400, f"the form has more than {MAX_PARTS} parts", hint="send the clip and at most a sidecar"
            )
        self._disposition = b""
        self._text = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            self._file = None
            return
        if self._name not in FILE_FIELDS:
            raise UploadError(
                400, f"unexpected file field {self._name!r}", hint="send the clip as 'file' (and a 'sidecar')"
            )
        if self._name == "file":
            filename = safe_filename(options[b"filename"].decode("utf-8", "replace"))
            if self.upload.clip.exists():
                raise UploadError(400, "the form has two 'file' parts", hint="send one clip per request")
            self.upload.filename = filename
            path = self.upload.clip = clip_path(self.folder, filename)
        else:
            path = self.upload.sidecar = self.folder / SIDECAR_NAME
        if path.exists():
            raise UploadError(400, f"the form has two {self._name!r} files", hint="send one of each")
        self._file = open(path, "wb")  # noqa: SIM115 - written part by part as the form arrives, closed at its end

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.budget.add(end - start)
        if self._file is not None:
            self._file.write(data[start:end])
        else:
            self._text += data[start:end]
            if len(self._text) > MAX_FIELD_BYTES:
                raise UploadError(400, f"form field {self._name!r} is too long", hint="text fields are short")

    def on_part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self._name:
            self.upload.fields[self._name] = self._text.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


async def _receive_multipart(request: Request, folder: Path, boundary: bytes, budget: _Limit, pace: Pace) -> Upload:
    form = _Form(folder, budget)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": form.on_part_begin,
            "on_part_data": form.on_part_data,
            "on_part_end": form.on_part_end,
            "on_header_field": form.on_header_field,
            "on_header_value": form.on_header_value,
            "on_header_end": form.on_header_end,
            "on_headers_finished": form.on_headers_finished,
        },
    )
    try:
        async for chunk in _chunks(request, pace):
            parser.write(chunk)
        parser.finalize()
    except (UploadError, ClientDisconnect):
        raise
    except Exception as exc:  # noqa: BLE001 - python-multipart's parse errors
        raise UploadError(400, f"the form is malformed ({exc})", hint="let the HTTP client build the form") from None
    finally:
        form.close()
    return form.upload
