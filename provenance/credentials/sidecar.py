"""Where a sidecar manifest store lives next to its clip.

A sidecar is the clip's C2PA manifest store in a file of its own, bound to
the clip's bytes by a data hash, so the clip itself is never modified. The
name follows c2patool and c2pa-rs (``Path.with_extension("c2pa")``):
``clip.webm`` → ``clip.c2pa``. ``clip.webm.c2pa`` is looked for first, so
two clips of the same stem (``clip.mp4``, ``clip.webm``) can each keep one.
"""

from __future__ import annotations

from pathlib import Path

SIDECAR_SUFFIX = ".c2pa"
SIDECAR_MIME = "application/c2pa"


def sidecar_path(clip: Path) -> Path:
    """The default sidecar name for *clip*: ``clip.c2pa`` next to it."""
    return clip.with_suffix(SIDECAR_SUFFIX)


def candidates(clip: Path) -> tuple[Path, ...]:
    """Sidecar names looked for next to *clip*, most specific first."""
    specific = clip.with_name(clip.name + SIDECAR_SUFFIX)
    default = sidecar_path(clip)
    return (specific,) if specific == default else (specific, default)


def find_sidecar(clip: Path) -> Path | None:
    """The sidecar next to *clip*, or ``None`` when there is none."""
    for candidate in candidates(clip):
        try:
            if candidate.is_file() and candidate != clip:
                return candidate
        except OSError:  # e.g. NAME.c2pa past NAME_MAX for a legal 251-255 byte NAME: no such sidecar
            continue
    return None
