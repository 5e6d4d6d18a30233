from pathlib import Path

import pytest

from provenance.errors import InputError, MalformedMediaError, UnsupportedFormatError
from provenance.media import formats
from provenance.media.video import make_sample_clip


@pytest.mark.parametrize(
    ("ext", "expected"), [("mp4", formats.MP4), ("mov", formats.MOV), ("m4v", formats.M4V), ("avi", formats.AVI)]
)
def test_detects_supported_containers_from_bytes(make_clip, ext, expected) -> None:
    assert formats.detect(make_clip(ext)) is expected


def test_detection_ignores_a_misleading_extension(make_clip, tmp_path: Path) -> None:
    avi = make_clip("avi")
    disguised = tmp_path / "really-avi.mp4"
    disguised.write_bytes(avi.read_bytes())
    assert formats.detect(disguised) is formats.AVI


@pytest.mark.parametrize("ext", ["webm", "mkv"])
def test_matroska_is_refused_naming_supported_formats(tmp_path: Path, ext: str) -> None:
    clip = make_sample_clip(
        tmp_path / f"c.{ext}", seconds=0.2, codec="libvpx" if ext == "webm" else "libx264", audio=False
    )
    with pytest.raises(UnsupportedFormatError) as err:
        formats.detect(clip)
    assert "Matroska/WebM" in str(err.value)
    assert "MP4, MOV, M4V, AVI" in err.value.diagnostics()


def test_random_bytes_are_not_a_video(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(UnsupportedFormatError, match="not a recognised video"):
        formats.detect(junk)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(MalformedMediaError, match="empty"):
        formats.detect(empty)
    with pytest.raises(InputError, match="no such file"):
        formats.detect(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="directory"):
        formats.detect(tmp_path)
