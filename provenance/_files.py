"""Files provenance reads and writes.

Inputs: only regular files are read. A FIFO, a device or a socket would
block the open or the first read forever (or never end), so inputs are
opened non-blocking and the *opened* descriptor is checked (no window
between a check and the use of another file).

Outputs appear complete or not at all, and never replace an existing name
unless asked. The bytes are written to an unnamed file in the output folder
(``O_TMPFILE``) that the kernel frees when the writer dies, however it dies;
when it is complete it gets its name with ``link()``, which fails if the name
exists (a file, a folder, or a dangling symlink), so two writers racing for
one name cannot both win. Replacing (``--force``) links a temporary name and
renames it over the old file.

On file systems without ``O_TMPFILE`` a named temporary file is used
instead, always named ``.provenance-tmp-<random>.part``
(:func:`is_temporary`). Its writer holds an ``flock`` on it while it lives;
the next run writing into that folder removes the ones whose lock is free
(their writer is dead), and batch folder walks never take them as input.

Every output step works relative to a file descriptor of the output folder,
so the folder cannot be swapped for a symlink between a check and a write
(see :func:`anchored_folder`, used by batch runs).
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import fcntl
import io
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from provenance.errors import InputError, OutputError, OutputExistsError, UsageError

TEMP_PREFIX = ".provenance-tmp-"
TEMP_SUFFIX = ".part"
_TEMP_NAME = re.compile(r"\.provenance-tmp-[0-9a-f]{16}\.part")
# Names provenance 0.x gave its temporary files (tempfile.mkstemp next to the
# output): recognised so that a batch does not take one as a clip.
_LEGACY_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.(part|media\.[A-Za-z0-9]+)")
# A named temporary file is created, then locked: one that is unlocked but
# younger than this may be between the two steps, so it is left alone.
_STALE_AFTER = 10.0
_PROC_FD = "/proc/self/fd"
# Whether to try O_TMPFILE first (the tests turn it off to exercise named
# temporary files, what file systems without O_TMPFILE get).
_UNNAMED = True
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC

# Folders opened safely by the caller (a batch: component by component,
# never following a link), by the path outputs name them with.
_anchors: contextvars.ContextVar[dict[str, int]] = contextvars.ContextVar("provenance_anchors", default={})  # noqa: B039 - never mutated: set() gets a new dict
# Folders this process cleaned of dead runs' leftovers, and when: once a
# minute at most, so a batch writing thousands of files into one folder does
# not list it for each.
_cleaned: dict[tuple[int, int], float] = {}
_CLEAN_EVERY = 60.0


def is_temporary(name: str) -> bool:
    """Whether the file name *name* is one of provenance's temporary files
    (a leftover of a run that was killed, or one still being written)."""
    return bool(_TEMP_NAME.fullmatch(name) or _LEGACY_TEMP_NAME.fullmatch(name))


# --- inputs -----------------------------------------------------------------


def open_input(path: Path | str) -> BinaryIO:
    """Open *path* for reading; refuse anything but a regular file
    (:class:`InputError`, exit code 5) without ever blocking on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", hint="check the path") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})", hint="check its permissions") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{path}: is a directory", hint="give a video file")
        if not stat.S_ISREG(mode):
            raise InputError(
                f"{path}: is not a regular file ({kind_of(mode)})",
                hint="give a video file; FIFOs, devices and sockets are not read",
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def kind_of(mode: int) -> str:
    """What a file that is not regular is: "a FIFO", "a socket"..."""
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


@contextlib.contextmanager
def readable_name(path: Path | str) -> Iterator[str]:
    """A name through which a library that opens files itself (FFmpeg) reads
    *path*: ``/proc/self/fd/N`` of a descriptor checked by :func:`open_input`
    where there is one, so what it opens is what was checked."""
    with open_input(path) as fh:
        proc = f"{_PROC_FD}/{fh.fileno()}"
        yield proc if os.path.isdir(_PROC_FD) else str(path)


# --- outputs ----------------------------------------------------------------


def output_error(folder: Path | str, exc: OSError | int | None) -> OutputError:
    """The one-line error for an output that could not be written into
    *folder* (disk full, read-only, quota, file too large...)."""
    if exc is None or isinstance(exc, int):
        code = exc or errno.EIO
        reason = os.strerror(code)
    else:
        code = exc.errno or errno.EIO
        reason = exc.strerror or os.strerror(code)
    if code in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some space there, or choose another output folder"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "choose a writable output folder"
    else:
        hint = "choose another output folder"
    return OutputError(f"{folder}: cannot write the output there ({reason})", hint=hint, errno=code)


@contextlib.contextmanager
def anchored_folder(path: Path, fd: int) -> Iterator[None]:
    """While this lasts, outputs into the folder *path* are written through
    the open folder descriptor *fd* (opened safely by the caller), not by
    resolving *path* again."""
    key = os.path.normpath(path)
    token = _anchors.set({**_anchors.get(), key: fd})
    try:
        yield
    finally:
        _anchors.reset(token)


def _folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


@contextlib.contextmanager
def _open_folder(folder: Path) -> Iterator[int]:
    anchored = _anchors.get().get(os.path.normpath(folder))
    if anchored is not None:
        fd = os.dup(anchored)
    else:
        try:
            fd = os.open(folder, _FOLDER_FLAGS)
        except FileNotFoundError:
            raise UsageError(f"{folder}: output folder does not exist", hint="create it first") from None
        except NotADirectoryError:
            raise UsageError(f"{folder}: is not a folder", hint="choose another output path") from None
        except OSError as exc:
            raise output_error(folder, exc) from None
    try:
        yield fd
    finally:
        os.close(fd)


class _Recording(io.FileIO):
    """A file that remembers the first OS error of a write, so a failure
    reported by a library that swallows it (c2pa's stream callbacks turn it
    into "I/O error") can be blamed on the output, not on the input."""

    error: OSError | None = None

    def write(self, data: bytes) -> int:  # type: ignore[override]
        try:
            return super().write(data)
        except OSError as exc:
            self.error = self.error or exc
            raise


class _Temp:
    """The file an output is written to before it gets its name."""

    def __init__(self, folder: Path, dir_fd: int, mode: int) -> None:
        self.folder, self.dir_fd = folder, dir_fd
        self.name: str | None = None  # set for a named temporary file
        _clean_stale(dir_fd)
        fd = self._unnamed(mode) if _UNNAMED else None
        self.fd: int = self._named(mode) if fd is None else fd

    def _unnamed(self, mode: int) -> int | None:
        flag = getattr(os, "O_TMPFILE", None)
        if flag is None or not os.path.isdir(_PROC_FD):
            return None
        try:
            fd = os.open(".", flag | os.O_RDWR | os.O_CLOEXEC, mode, dir_fd=self.dir_fd)
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                return None  # this file system has no O_TMPFILE
            raise output_error(self.folder, exc) from None
        os.fchmod(fd, mode)  # not filtered by the umask, as a renamed mkstemp file was not
        fcntl.flock(fd, fcntl.LOCK_EX)  # so a name linked to it (see publish) is not taken for stale
        return fd

    def _named(self, mode: int) -> int:
        name = f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"
        try:
            fd = os.open(
                name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=self.dir_fd
            )
        except OSError as exc:
            raise output_error(self.folder, exc) from None
        fcntl.flock(fd, fcntl.LOCK_EX)  # held while this process lives: the file is not stale
        os.fchmod(fd, mode)
        self.name = name
        return fd

    @property
    def path(self) -> str:
        """A path that opens this file (for libraries that open by name)."""
        if self.name is None:
            return f"{_PROC_FD}/{self.fd}"
        return f"{_PROC_FD}/{self.dir_fd}/{self.name}" if os.path.isdir(_PROC_FD) else str(self.folder / self.name)

    def publish(self, name: str, *, replace: bool, shown: Path) -> None:
        """Give the complete file the name *name*: exclusively, or over an
        existing file when *replace*."""
        if self.name is None:
            source, linked = f"{_PROC_FD}/{self.fd}", f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"
            if not replace:
                self._link(source, name, shown, follow=True)
                return
            self._link(source, linked, shown, follow=True)
            self.name = linked  # removed by discard() if the rename fails
        elif not replace:
            self._link(self.name, name, shown, follow=False, src_dir_fd=self.dir_fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.name, dir_fd=self.dir_fd)
            self.name = None
            return
        assert self.name is not None
        try:
            os.replace(self.name, name, src_dir_fd=self.dir_fd, dst_dir_fd=self.dir_fd)
        except IsADirectoryError:
            raise UsageError(f"{shown}: output is a directory", hint="give a file name") from None
        except OSError as exc:
            raise output_error(self.folder, exc) from None
        self.name = None

    def _link(self, source: str, name: str, shown: Path, *, follow: bool, src_dir_fd: int | None = None) -> None:
        try:
            os.link(source, name, src_dir_fd=src_dir_fd, dst_dir_fd=self.dir_fd, follow_symlinks=follow)
        except FileExistsError:
            raise OutputExistsError(f"{shown}: output file exists") from None
        except OSError as exc:
            raise output_error(self.folder, exc) from None

    def discard(self) -> None:
        if self.name is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.name, dir_fd=self.dir_fd)
            self.name = None


@contextlib.contextmanager
def atomic_output(path: Path, *, mode: int = 0o644, replace: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file opened read/write in *path*'s folder; on success
    it is fsynced and gets the name *path* (refused with
    :class:`OutputExistsError` if *path* exists, unless *replace*); on any
    exception nothing is left behind. An OS error writing it (disk full,
    read-only folder) is an :class:`OutputError` naming the folder."""
    folder = _folder_of(path)
    with _open_folder(folder) as dir_fd:
        temp = _Temp(folder, dir_fd, mode)
        raw = _Recording(temp.fd, "r+", closefd=True)
        fh = io.BufferedRandom(raw)
        try:
            try:
                yield fh
                fh.flush()
                os.fsync(raw.fileno())
            except OSError as exc:
                raise output_error(folder, raw.error or exc) from None
            except Exception as exc:
                if raw.error is not None:  # e.g. c2pa's "I/O error" for a full disk
                    raise output_error(folder, raw.error) from exc
                raise
            temp.publish(path.name, replace=replace, shown=path)
            _fsync_dir(dir_fd)
        except BaseException:
            temp.discard()
            raise
        finally:
            with contextlib.suppress(OSError):
                fh.close()  # after a failure its flush may fail again; the file is gone anyway


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644, replace: bool = True) -> None:
    with atomic_output(path, mode=mode, replace=replace) as fh:
        fh.write(data)


@contextlib.contextmanager
def scratch_file(near: Path) -> Iterator[Path]:
    """A temporary file in *near*'s folder (same file system as the output,
    not a small /tmp), for a library that writes by name (FFmpeg); gone when
    this ends or the process dies."""
    folder = _folder_of(near)
    with _open_folder(folder) as dir_fd:
        temp = _Temp(folder, dir_fd, 0o600)
        try:
            yield Path(temp.path)
        finally:
            temp.discard()
            os.close(temp.fd)


def check_output_name(path: Path) -> None:
    """Refuse an output name longer than its folder's file system allows
    (NAME_MAX, 255 bytes on most), before any work."""
    folder = _folder_of(path)
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    size = len(os.fsencode(path.name))
    if size > limit:
        raise UsageError(
            f"{path}: the output name is {size} bytes, longer than the {limit} this file system allows",
            hint="give a shorter name",
        )


def same_file(a: Path, b: Path) -> bool:
    """Whether *a* and *b* name the same file (by path or by inode)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _clean_stale(dir_fd: int) -> None:
    """Remove named temporary files whose writer is dead (their lock is
    free) from the folder *dir_fd*."""
    try:
        st = os.fstat(dir_fd)
    except OSError:
        return
    now = time.monotonic()
    if now - _cleaned.get((st.st_dev, st.st_ino), -_CLEAN_EVERY) < _CLEAN_EVERY:
        return
    _cleaned[(st.st_dev, st.st_ino)] = now
    with contextlib.suppress(OSError), os.scandir(dir_fd) as entries:
        names = [e.name for e in entries if _TEMP_NAME.fullmatch(e.name)]
    for name in names:
        remove_if_stale(dir_fd, name)


def remove_if_stale(dir_fd: int, name: str) -> bool:
    """Remove the temporary file *name* of the folder *dir_fd* if no live
    process holds its lock; whether it was removed."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or time.time() - st.st_mtime < _STALE_AFTER:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # its writer is alive
        now = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return False
        os.unlink(name, dir_fd=dir_fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _fsync_dir(dir_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.fsync(dir_fd)
