from pathlib import Path

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
