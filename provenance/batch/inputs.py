"""Which files a batch works on: files, folders walked recursively, and
``-`` (a list of paths on standard input).

A folder is a *root*: its files keep their layout relative to it, and
nothing outside it is reached through it. Symlinked folders are not
descended; a symlinked file is taken only when it resolves inside its root.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO

from provenance._files import is_temporary, kind_of
from provenance.media.formats import SUPPORTED

STDIN = "-"
# What a folder walk picks up when no --include is given: the containers
# provenance can check. Named files are always taken, whatever they are.
VIDEO_EXTENSIONS = frozenset(ext for fmt in SUPPORTED for ext in fmt.extensions)


@dataclass(frozen=True)
class BatchInput:
    """One file of a batch.

    *path* is how to open it (as the user named it, joined with its folder);
    *relative* is its place under its root, the layout an output keeps (the
    bare file name for a file named directly).
    """

    path: Path
    relative: PurePosixPath
    size: int


@dataclass(frozen=True)
class SkippedInput:
    """A file found in a folder but deliberately not taken, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class InputSet:
    inputs: tuple[BatchInput, ...]
    skipped: tuple[SkippedInput, ...]

    @property
    def total_bytes(self) -> int:
        return sum(i.size for i in self.inputs)


def _matches(relative: PurePosixPath, pattern: str) -> bool:
    """A pattern without ``/`` matches the file name; one with ``/`` matches
    the path under the root (``**/`` also matches no folder at all)."""
    if "/" not in pattern:
        return fnmatch.fnmatchcase(relative.name, pattern)
    text = relative.as_posix()
    if fnmatch.fnmatchcase(text, pattern):
        return True
    return pattern.startswith("**/") and _matches(relative, pattern[3:])


def _selected(relative: PurePosixPath, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if any(_matches(relative, p) for p in exclude):
        return False
    if include:
        return any(_matches(relative, p) for p in include)
    return relative.suffix.lower() in VIDEO_EXTENSIONS


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the job reports what is wrong with it


def _special(path: Path) -> str | None:
    """What *path* is when it is neither a regular file nor a symlink (a
    FIFO would block the job that opens it; the job checks again)."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None  # gone: the job reports it
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return None
    return kind_of(mode)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _walk(
    root: Path, include: Sequence[str], exclude: Sequence[str], avoid: frozenset[str]
) -> tuple[list[BatchInput], list[SkippedInput]]:
    found: list[BatchInput] = []
    skipped: list[SkippedInput] = []
    real_root = os.path.realpath(root)
    # followlinks=False: a symlinked folder is listed but never entered, so a
    # link cannot lead the walk out of the root (or round in a loop).
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if os.path.realpath(Path(folder) / d) not in avoid)
        for name in sorted(files):
            path = Path(folder) / name
            relative = PurePosixPath(path.relative_to(root).as_posix())
            if is_temporary(name):
                skipped.append(
                    SkippedInput(path, "a provenance temporary file (being written, or left by a killed run)")
                )
                continue
            if not _selected(relative, include, exclude):
                continue
            special = _special(path)
            if special is not None:
                skipped.append(SkippedInput(path, f"not a regular file ({special})"))
                continue
            if path.is_symlink():
                target = os.path.realpath(path)
                if not os.path.exists(target):
                    skipped.append(SkippedInput(path, "broken symlink"))
                    continue
                if not _inside(target, real_root):
                    skipped.append(SkippedInput(path, f"symlink leads out of {root}"))
                    continue
                if not os.path.isfile(target):
                    skipped.append(SkippedInput(path, "symlink to something that is not a regular file"))
                    continue
            found.append(BatchInput(path, relative, _size(path)))
        for name in sorted(dirs):
            if (Path(folder) / name).is_symlink():
                skipped.append(SkippedInput(Path(folder) / name, "symlinked folder, not followed"))
    return found, skipped


def collect_inputs(
    paths: Iterable[Path | str],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    stdin: TextIO | None = None,
    avoid: Sequence[Path] = (),
) -> InputSet:
    """Expand *paths* into the files of a batch, in a stable order.

    Folders are walked recursively and filtered by *include*/*exclude*
    (shell globs; by default the video containers provenance supports). A
    path that is ``-`` reads more paths, one per line, from *stdin*. Named
    files are taken as they are, even when missing, so that the job records
    what is wrong with them instead of the batch stopping. A file named
    twice is taken once. Folders in *avoid* (an output folder inside an
    input folder, say) are not entered.

    >>> collect_inputs(["clips/"], exclude=["*.partial.mp4"]).inputs  # doctest: +SKIP
    """
    names: list[str] = []
    read_stdin = False
    for p in paths:
        if str(p) == STDIN:
            if not read_stdin and stdin is not None:
                names.extend(line.rstrip("\r\n") for line in stdin if line.strip())
            read_stdin = True
        else:
            names.append(str(p))
    inputs: list[BatchInput] = []
    skipped: list[SkippedInput] = []
    seen: set[str] = set()

    def take(item: BatchInput) -> None:
        key = os.path.abspath(item.path)
        if key not in seen:
            seen.add(key)
            inputs.append(item)

    for name in names:
        path = Path(name)
        if path.is_dir():
            found, skips = _walk(path, include, exclude, frozenset(os.path.realpath(a) for a in avoid))
            for item in found:
                take(item)
            skipped.extend(skips)
        else:
            take(BatchInput(path, PurePosixPath(path.name or name), _size(path)))
    return InputSet(tuple(inputs), tuple(skipped))
