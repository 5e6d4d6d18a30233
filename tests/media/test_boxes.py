import struct
from pathlib import Path

import pytest

from provenance.errors import MalformedMediaError
from provenance.media import boxes, formats
from provenance.media.video import thumbnail_jpeg
from tests.conftest import sha256


def test_strip_blanks_the_store_and_keeps_the_video_playable(signed_clip: Path, tmp_path: Path) -> None:
    before = sha256(signed_clip)
    stripped = tmp_path / "stripped.mp4"
    assert boxes.strip_credentials(signed_clip, stripped) is True
    assert sha256(signed_clip) == before
    assert stripped.stat().st_size == signed_clip.stat().st_size
    assert not boxes.has_embedded_manifest(stripped, formats.MP4)
    assert boxes.has_embedded_manifest(signed_clip, formats.MP4)
    assert thumbnail_jpeg(stripped)[:2] == b"\xff\xd8"  # still decodes


def test_media_data_offset_points_into_mdat(make_clip) -> None:
    clip = make_clip("mp4")
    offset = boxes.media_data_offset(clip)
    data = clip.read_bytes()
    assert data[offset - 4 : offset] == b"mdat"


# Crafted top-level structures (the box policy itself: tests/media/test_bmff.py)


def _box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _large(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload


_FTYP = _box(b"ftyp", b"isom\0\0\0\0")
_MOOV = _box(b"moov", _box(b"mvhd", b"\0" * 8))


def _file(tmp_path: Path, *parts: bytes) -> Path:
    path = tmp_path / "crafted.mp4"
    path.write_bytes(b"".join(parts))
    return path


def test_a_box_running_past_the_end_of_the_file_is_a_truncation(tmp_path: Path) -> None:
    path = _file(tmp_path, _FTYP, _MOOV, struct.pack(">I4s", 5000, b"mdat"), b"m" * 100)
    with pytest.raises(MalformedMediaError) as caught:
        boxes.check_structure(path, formats.MP4)
    message = "truncated: the 'mdat' box at offset 40 needs 5000 bytes, but the file ends at 148"
    assert str(caught.value) == f"{path}: {message}"
    assert "incomplete" in caught.value.diagnostics()


@pytest.mark.parametrize("tail", [b"abc", struct.pack(">I4s", 4, b"free"), struct.pack(">I4sI", 1, b"free", 0)])
def test_bytes_after_the_boxes_are_left_to_c2pa(tmp_path: Path, tail: bytes) -> None:
    # a signed file with appended bytes is tampered (c2pa-rs says so), not unreadable
    path = _file(tmp_path, _FTYP, _MOOV, _box(b"mdat", b"m" * 16), tail)
    boxes.check_structure(path, formats.MP4)


def test_the_walk_ends_at_a_box_smaller_than_its_header(tmp_path: Path) -> None:
    path = _file(tmp_path, _FTYP, struct.pack(">I4s", 4, b"free"), _MOOV, _box(b"mdat", b"m" * 16))
    with pytest.raises(MalformedMediaError, match="no 'moov' box"):
        boxes.check_structure(path, formats.MP4)


def test_the_manifest_is_found_before_junk_and_not_after_it(tmp_path: Path) -> None:
    manifest = _box(b"uuid", boxes.C2PA_UUID + b"\0" * 16)
    assert boxes.has_embedded_manifest(_file(tmp_path, _FTYP, manifest, _MOOV, b"junk!"), formats.MP4)
    assert not boxes.has_embedded_manifest(_file(tmp_path, _FTYP, b"\0\0\0\2", manifest, _MOOV), formats.MP4)
    other = _box(b"uuid", bytes(16) + b"\0" * 16)
    assert not boxes.has_embedded_manifest(_file(tmp_path, _FTYP, other, _MOOV), formats.MP4)


def test_strip_keeps_a_64_bit_size_and_every_offset(tmp_path: Path) -> None:
    store = b"jumbf store bytes" * 4
    src = _file(tmp_path, _FTYP, _large(b"uuid", boxes.C2PA_UUID + store), _MOOV, _box(b"mdat", b"m" * 32))
    dst = tmp_path / "stripped.mp4"
    assert boxes.strip_credentials(src, dst) is True
    before, after = src.read_bytes(), dst.read_bytes()
    assert len(after) == len(before) and after[: len(_FTYP)] == _FTYP
    start = len(_FTYP)
    assert after[start : start + 16] == struct.pack(">I4sQ", 1, b"free", 16 + 16 + len(store))
    end = start + 32 + len(store)
    assert after[start + 16 : end] == bytes(16 + len(store)) and after[end:] == before[end:]
    assert not boxes.has_embedded_manifest(dst, formats.MP4)
    boxes.check_structure(dst, formats.MP4)


def test_media_data_starts_after_a_64_bit_mdat_header(tmp_path: Path) -> None:
    path = _file(tmp_path, _FTYP, _MOOV, _large(b"mdat", b"m" * 32))
    assert boxes.media_data_offset(path) == len(_FTYP) + len(_MOOV) + 16
    assert boxes.media_data_offset(_file(tmp_path, _FTYP, _box(b"mdat", b"m" * 8))) == len(_FTYP) + 8
