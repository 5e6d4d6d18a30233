"""Where a batch writes: under OUTDIR, keeping each input's layout, and
never anywhere else, whatever the names or links say."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from provenance.errors import UsageError


def output_path(outdir: Path, relative: PurePosixPath) -> Path:
    """*outdir* joined with *relative*, refused when *relative* could climb
    out (absolute, ``..``, or empty)."""
    parts = relative.parts
    if not parts or relative.is_absolute() or any(p in ("..", "") for p in parts) or "\\" in relative.as_posix():
        raise UsageError(f"{relative}: output path would leave the output folder", hint="rename the input")
    return outdir.joinpath(*parts)


def prepare_parent(outdir: Path, output: Path) -> None:
    """Create the folders between *outdir* and *output* one at a time,
    refusing any that is a symlink or not a folder, so that no link placed
    inside OUTDIR can send the output elsewhere."""
    real_outdir = os.path.realpath(outdir)
    current = outdir
    for part in output.relative_to(outdir).parts[:-1]:
        current = current / part
        if current.is_symlink():
            raise UsageError(f"{current}: is a symlink inside the output folder", hint="remove it; outputs never follow links")
        if not current.exists():
            current.mkdir()
        elif not current.is_dir():
            raise UsageError(f"{current}: exists and is not a folder", hint="remove it or choose another output folder")
    parent = os.path.realpath(output.parent)
    if parent != real_outdir and not parent.startswith(real_outdir.rstrip(os.sep) + os.sep):
        raise UsageError(f"{output}: would be written outside {outdir}", hint="choose another output folder")
