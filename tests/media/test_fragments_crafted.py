"""provenance.media.fragments on crafted segments: answers come from what
can be read (lenient walks), never an exception or a hang."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from provenance.media.fragments import is_init_segment, sequence_number


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mfhd(number: int) -> bytes:
    return box(b"mfhd", b"\0\0\0\0" + struct.pack(">I", number))


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "crafted.m4s"
    path.write_bytes(data)
    return path


def test_the_sequence_number_of_the_first_fragment(tmp_path: Path) -> None:
    segment = box(b"styp", b"msdh") + box(b"moof", mfhd(7) + box(b"traf")) + box(b"mdat", b"m" * 8)
    assert sequence_number(write(tmp_path, segment + box(b"moof", mfhd(8)))) == 7


def test_a_largesize_moof_and_a_size_0_mdat_are_read(tmp_path: Path) -> None:
    moof = struct.pack(">I4sQ", 1, b"moof", 16 + 16) + mfhd(42)
    assert sequence_number(write(tmp_path, moof + struct.pack(">I4s", 0, b"mdat") + b"m" * 20)) == 42


@pytest.mark.parametrize(
    "segment",
    [
        box(b"styp") + struct.pack(">I4s", 500, b"moof") + mfhd(3),  # moof overruns the file
        box(b"styp") + struct.pack(">I4s", 4, b"moof") + mfhd(3),  # size below its header
        box(b"moof", struct.pack(">I4s", 99, b"mfhd") + b"\0" * 8),  # mfhd overruns its moof
        box(b"moof", box(b"mfhd", b"\0\0")),  # mfhd too short for a number
        b"\0\0\0",
        b"",
    ],
)
def test_broken_segments_have_no_number(tmp_path: Path, segment: bytes) -> None:
    assert sequence_number(write(tmp_path, segment)) is None


def test_a_number_before_a_broken_box_is_still_read(tmp_path: Path) -> None:
    assert sequence_number(write(tmp_path, box(b"moof", mfhd(5)) + b"junk!")) == 5


def test_init_segments_have_mvex_in_moov(tmp_path: Path) -> None:
    init = box(b"ftyp", b"iso6") + box(b"moov", box(b"mvhd") + box(b"mvex", box(b"trex")))
    assert is_init_segment(write(tmp_path, init))
    assert not is_init_segment(write(tmp_path, box(b"ftyp") + box(b"moov", box(b"mvhd"))))
    # mvex after a broken sibling is not seen; no exception either
    assert not is_init_segment(write(tmp_path, box(b"ftyp") + box(b"moov", b"\0\0\0\3abcd" + box(b"mvex"))))


def test_a_huge_count_of_boxes_is_bounded(tmp_path: Path) -> None:
    # 20,000 empty boxes before the moof: the walk gives up at its 10,000-box bound
    segment = box(b"free") * 20_000 + box(b"moof", mfhd(9))
    assert sequence_number(write(tmp_path, segment)) is None
    assert sequence_number(write(tmp_path, box(b"free") * 100 + box(b"moof", mfhd(9)))) == 9
