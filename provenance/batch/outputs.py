"""Where a batch writes: under OUTDIR, keeping each input's layout, and
never anywhere else, whatever the names or links say.

The folders below OUTDIR are opened one at a time from a descriptor of
OUTDIR (``openat`` with ``O_NOFOLLOW``), created where missing, and the
output is written through the last one's descriptor: a folder swapped for
a symlink while the batch runs is refused, never followed, whenever the
swap happens.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from provenance._files import anchored_folder, output_error
from provenance.errors import UsageError

_STEP_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def output_path(outdir: Path, relative: PurePosixPath) -> Path:
    """*outdir* joined with *relative*, refused when *relative* could climb
    out (absolute, ``..``, or empty). A backslash is an ordinary character
    of a POSIX name."""
    parts = relative.parts
    if not parts or relative.is_absolute() or any(p in ("..", ".", "") for p in parts):
        raise UsageError(f"{relative}: output path would leave the output folder", hint="rename the input")
    return outdir.joinpath(*parts)


@contextlib.contextmanager
def output_folder(outdir: Path, output: Path) -> Iterator[None]:
    """Open (creating where missing) the folders between *outdir* and
    *output* one at a time, refusing any that is a symlink or not a folder;
    while this lasts, *output* is written through that descriptor (see
    :func:`provenance._files.anchored_folder`)."""
    try:
        fd = os.open(outdir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # OUTDIR itself as the user named it
    except OSError as exc:
        raise UsageError(f"{outdir}: cannot open the output folder ({exc.strerror})", hint="choose another") from None
    try:
        current = outdir
        for part in output.relative_to(outdir).parts[:-1]:
            current = current / part
            parent, fd = fd, -1
            try:
                fd = _step(parent, part, current)
            finally:
                os.close(parent)
        with anchored_folder(output.parent, fd):
            yield
    finally:
        if fd >= 0:
            os.close(fd)


def prepare_parent(outdir: Path, output: Path) -> None:
    """Create the folders between *outdir* and *output* as
    :func:`output_folder` does (no link inside OUTDIR is followed)."""
    with output_folder(outdir, output):
        pass


def _step(parent_fd: int, part: str, shown: Path) -> int:
    """The descriptor of the folder *part* inside *parent_fd* (created if
    missing)."""
    for _ in range(2):
        try:
            return os.open(part, _STEP_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            try:
                os.mkdir(part, 0o777, dir_fd=parent_fd)
            except FileExistsError:
                pass  # made meanwhile (another worker): open it
            except OSError as exc:
                raise output_error(shown.parent, exc) from None
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise output_error(shown.parent, exc) from None
            if _is_link(parent_fd, part):
                raise UsageError(
                    f"{shown}: is a symlink inside the output folder", hint="remove it; outputs never follow links"
                ) from None
            raise UsageError(
                f"{shown}: exists and is not a folder", hint="remove it or choose another output folder"
            ) from None
    raise UsageError(f"{shown}: keeps changing", hint="stop what else writes into the output folder")


def _is_link(parent_fd: int, part: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(part, dir_fd=parent_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False
