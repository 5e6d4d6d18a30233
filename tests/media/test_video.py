from pathlib import Path

import av
import pytest

from provenance.errors import MalformedMediaError
from provenance.media import video


def test_sample_clip_has_video_and_audio(make_clip) -> None:
    with av.open(str(make_clip("mp4"))) as c:
        assert c.streams.video[0].codec_context.width == 320
        assert len(c.streams.audio) == 1


def test_thumbnail_is_a_scaled_jpeg(tmp_path: Path) -> None:
    clip = video.make_sample_clip(tmp_path / "wide.mp4", seconds=0.5, width=1280, height=720, audio=False)
    jpeg = video.thumbnail_jpeg(clip)
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    with av.open(str(_write(tmp_path / "t.jpg", jpeg))) as c:
        frame = next(c.decode(video=0))
        assert (frame.width, frame.height) == (640, 360)


def test_reencode_drops_credentials_but_keeps_frames(signed_clip: Path, tmp_path: Path) -> None:
    out = video.reencode(signed_clip, tmp_path / "re.mp4")
    assert b"c2pa" not in out.read_bytes()
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 30


def test_thumbnail_of_a_truncated_clip_is_a_clear_error(make_clip, tmp_path: Path) -> None:
    clip = make_clip("mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[:2000])
    with pytest.raises(MalformedMediaError):
        video.thumbnail_jpeg(cut)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
