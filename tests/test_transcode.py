"""The PyAV side of edits: keyframes, cut method, time parsing, and the
containers streams can be copied into."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from provenance.errors import UsageError
from provenance.media.transcode import keyframe_times, parse_time, remux_media, transcode_media, trim_media
from provenance.media.video import make_sample_clip, probe


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample_clip(tmp_path_factory.mktemp("t") / "clip.mp4", seconds=3.0, width=96, height=64)


def test_keyframes_are_read_without_decoding(clip: Path) -> None:
    times = keyframe_times(clip)
    assert times[0] == 0.0 and len(times) >= 3  # GOP of one second (x264 may add scene cuts)
    assert all(0 <= t < 3.0 for t in times) and list(times) == sorted(times)


@pytest.mark.parametrize(("text", "seconds"), [("12.5", 12.5), ("1:02.5", 62.5), ("0:01:02.5", 62.5), ("0", 0.0)])
def test_parse_time(text: str, seconds: float) -> None:
    assert parse_time(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-1", "1:2:3:4", "nan", "inf"])
def test_parse_time_refuses_non_times(text: str) -> None:
    with pytest.raises(UsageError):
        parse_time(text)


def test_tolerance_decides_between_copy_and_reencode(clip: Path, tmp_path: Path) -> None:
    keyframe = keyframe_times(clip)[1]
    near = trim_media(clip, tmp_path / "a.mp4", muxer="mp4", start=keyframe + 0.02, end=None, tolerance=0.05)
    assert (near.method, near.start) == ("stream copy", pytest.approx(keyframe))
    assert near.end == pytest.approx(probe(clip).duration)
    assert probe(tmp_path / "a.mp4").duration == pytest.approx(3.0 - keyframe, abs=0.1)
    exact = trim_media(clip, tmp_path / "b.mp4", muxer="mp4", start=keyframe + 0.02, end=None, tolerance=0.0)
    assert (exact.method, exact.start) == ("re-encode", pytest.approx(keyframe + 0.02))
    other = trim_media(clip, tmp_path / "c.mp4", muxer="mp4", start=keyframe, end=None, same_container=False)
    assert other.method == "re-encode"


def test_transcode_changes_rate_and_size(clip: Path, tmp_path: Path) -> None:
    outcome = transcode_media(clip, tmp_path / "t.mov", muxer="mov", height=32, fps=Fraction(10))
    info = probe(tmp_path / "t.mov")
    assert (info.width, info.height, info.fps, info.video_codec) == (48, 32, 10, "h264")
    assert outcome.resized and outcome.audio == "copy"
    assert info.duration == pytest.approx(3.0, abs=0.15)


def test_hevc(clip: Path, tmp_path: Path) -> None:
    transcode_media(clip, tmp_path / "t.mp4", muxer="mp4", video_codec="hevc", crf=30, audio="none")
    assert (probe(tmp_path / "t.mp4").video_codec, probe(tmp_path / "t.mp4").height) == ("hevc", 64)
    # libx265 crashes on some pictures smaller than one coding tree unit: refused, not run.
    with pytest.raises(UsageError, match="at least 64"):
        transcode_media(clip, tmp_path / "small.mp4", muxer="mp4", video_codec="hevc", height=32)


def test_streams_that_do_not_fit_the_container_are_refused(clip: Path, tmp_path: Path) -> None:
    # WebM takes VP8/VP9/AV1 and Vorbis/Opus only, not H.264 and AAC.
    with pytest.raises(UsageError, match="cannot be copied into WEBM"):
        remux_media(clip, tmp_path / "x.webm", muxer="webm")
