"""The one box reader, on crafted boxes: each policy rule, from a buffer and
from a file (the two sources must agree)."""

from __future__ import annotations

import struct
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from provenance.errors import ExitCode, MalformedMediaError
from provenance.media import bmff, boxes, formats
from provenance.media.bmff import (
    Box,
    BoxLimitError,
    BoxOverrunError,
    BoxReader,
    MalformedBoxError,
    TruncatedHeaderError,
    type_name,
)

UUID = bytes(range(16))


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def large(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload


def header(size: int, kind: bytes) -> bytes:
    return struct.pack(">I4s", size, kind)


Source = Callable[..., BoxReader]


@pytest.fixture(params=["buffer", "file"])
def reader(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    """Builds a reader of some bytes, as a buffer or as a file on disk."""
    files: list[BinaryIO] = []

    def make(data: bytes, **options: Any) -> BoxReader:
        if request.param == "buffer":
            return BoxReader.of_buffer(data, **options)
        path = tmp_path / f"crafted{len(files)}.mp4"
        path.write_bytes(data)
        fh = open(path, "rb")  # noqa: SIM115 (closed below)
        files.append(fh)
        return BoxReader.of_file(fh, **options)

    yield make
    for fh in files:
        fh.close()


def walk(r: BoxReader) -> list[tuple[bytes, int, int, int]]:
    return [(b.kind, b.offset, b.size, b.header) for b in r.boxes()]


def test_boxes_in_order_with_offsets_headers_and_payload_ranges(reader: Source) -> None:
    data = box(b"ftyp", b"isom\0\0\0\0") + box(b"free") + box(b"mdat", b"x" * 20)
    boxes = list(reader(data).boxes())
    assert [(b.kind, b.offset, b.size, b.header) for b in boxes] == [
        (b"ftyp", 0, 16, 8),
        (b"free", 16, 8, 8),
        (b"mdat", 24, 28, 8),
    ]
    mdat = boxes[2]
    assert (mdat.payload_start, mdat.payload_size, mdat.end) == (32, 20, 52)
    assert data[mdat.payload_start : mdat.end] == b"x" * 20
    assert not any(b.to_end for b in boxes) and all(b.usertype is None for b in boxes)


def test_an_empty_buffer_or_range_has_no_boxes(reader: Source) -> None:
    assert list(BoxReader.of_buffer(b"").boxes()) == []
    r = reader(box(b"free", b"abcd"))
    assert list(r.boxes(4, 4)) == []
    assert [b.kind for b in r.children(next(r.boxes()), skip=4)] == []  # payload used up by the skip


def test_a_range_outside_the_data_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="not inside"):
        list(BoxReader.of_buffer(box(b"free")).boxes(0, 9))


def test_size_0_as_the_last_box_runs_to_the_end_of_its_parent(reader: Source) -> None:
    data = box(b"ftyp", b"isom") + header(0, b"mdat") + b"m" * 100
    boxes = list(reader(data).boxes())
    assert [(b.kind, b.offset, b.size, b.to_end) for b in boxes] == [(b"ftyp", 0, 12, False), (b"mdat", 12, 108, True)]
    # inside a parent, only to the parent's end: the parent's next sibling is still read
    nested = box(b"moov", box(b"mvhd") + header(0, b"udta") + b"u" * 10) + box(b"free")
    r = reader(nested)
    moov, free = r.boxes()
    assert free.offset == moov.end == len(nested) - 8
    assert [(b.kind, b.size, b.to_end) for b in r.children(moov)] == [(b"mvhd", 8, False), (b"udta", 18, True)]


def test_size_0_not_last_swallows_what_follows_as_its_payload(reader: Source) -> None:
    # a writer that meant more boxes after it: they become its payload, not boxes
    data = header(0, b"mdat") + b"m" * 8 + box(b"moov", box(b"mvhd"))
    [mdat] = reader(data).boxes()
    assert (mdat.kind, mdat.size, mdat.to_end) == (b"mdat", len(data), True)


def test_64_bit_largesize(reader: Source) -> None:
    data = large(b"mdat", b"m" * 5) + box(b"free") + large(b"uuid", UUID + b"p")
    mdat, free, uuid = reader(data).boxes()
    assert (mdat.size, mdat.header, mdat.payload_start) == (21, 16, 16)
    assert free.offset == 21
    assert (uuid.header, uuid.usertype, uuid.payload_size) == (32, UUID, 1)


def test_a_largesize_beyond_4_gib_is_read_as_64_bits() -> None:
    data = struct.pack(">I4sQ", 1, b"mdat", (1 << 32) + 16)
    with pytest.raises(BoxOverrunError, match=f"needs {(1 << 32) + 16} bytes, but the data ends at 16"):
        list(BoxReader.of_buffer(data).boxes())


def test_uuid_boxes_carry_their_extended_type_in_the_header(reader: Source) -> None:
    data = box(b"uuid", UUID + b"payload") + box(b"free")
    uuid, free = reader(data).boxes()
    assert (uuid.kind, uuid.header, uuid.usertype, uuid.payload_size) == (b"uuid", 24, UUID, 7)
    assert data[uuid.payload_start : uuid.end] == b"payload" and free.offset == uuid.end


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (box(b"ftyp") + header(4, b"free") + b"\0" * 8, "declares 4 bytes, fewer than its 8-byte header"),
        (struct.pack(">I4sQ", 1, b"mdat", 8) + b"\0" * 8, "declares 8 bytes, fewer than its 16-byte header"),
        (header(20, b"uuid") + UUID, "declares 20 bytes, fewer than its 24-byte header"),
    ],
)
def test_a_size_smaller_than_its_header_is_an_error(reader: Source, data: bytes, why: str) -> None:
    with pytest.raises(MalformedBoxError, match=why) as caught:
        list(reader(data).boxes())
    assert type(caught.value) is MalformedBoxError


def test_a_box_overrunning_the_file_is_a_truncation(reader: Source) -> None:
    data = box(b"ftyp", b"isom") + header(1000, b"mdat") + b"m" * 10
    r = reader(data)
    seen: list[bytes] = []
    with pytest.raises(BoxOverrunError) as caught:
        seen.extend(b.kind for b in r.boxes())
    assert seen == [b"ftyp"]  # every good box before the bad one was yielded
    where = "the data" if r.where == "the data" else "the file"
    assert str(caught.value) == f"the 'mdat' box at offset 12 needs 1000 bytes, but {where} ends at 30"
    assert (caught.value.offset, caught.value.kind) == (12, b"mdat")


def test_a_child_overrunning_its_parent_is_an_error_even_inside_the_file(reader: Source) -> None:
    # the child fits the file but not its parent
    data = box(b"moov", header(40, b"trak") + b"t" * 8) + b"\0" * 64
    r = reader(data + b"")
    moov = next(r.boxes())
    with pytest.raises(BoxOverrunError, match="needs 40 bytes, but its parent 'moov' ends at 24"):
        list(r.children(moov))


@pytest.mark.parametrize(
    ("tail", "why"),
    [
        (b"abc", "3 stray bytes at offset 8, fewer than a box header"),
        (b"\0\0\0\0\0", "5 stray bytes at offset 8"),
        (struct.pack(">I4sI", 1, b"mdat", 0), "the 'mdat' box at offset 8 has a 16-byte header, but .* ends 12 bytes"),
        (header(40, b"uuid") + UUID[:8], "the 'uuid' box at offset 8 has a 24-byte header"),
    ],
)
def test_a_truncated_header_is_an_error(reader: Source, tail: bytes, why: str) -> None:
    with pytest.raises(TruncatedHeaderError, match=why):
        list(reader(box(b"ftyp") + tail).boxes())


def test_four_zero_bytes_closing_a_parent_end_it_quietly(reader: Source) -> None:
    # QuickTime ends a udta list with a 32-bit zero
    r = reader(box(b"udta", box(b"name", b"clip") + b"\0\0\0\0"))
    udta = next(r.boxes())
    assert [b.kind for b in r.children(udta)] == [b"name"]
    with pytest.raises(TruncatedHeaderError, match="4 stray bytes"):
        list(reader(box(b"udta") + b"\0\0\0\1").boxes())


def test_nested_containers_are_walked_by_payload(reader: Source) -> None:
    stbl = box(b"stbl", box(b"stsd", b"\0" * 8) + box(b"stco", b"\0" * 8))
    data = box(b"ftyp") + box(b"moov", box(b"mvhd", b"h" * 4) + box(b"trak", box(b"mdia", box(b"minf", stbl))))
    r = reader(data)

    def tree(parent: Box) -> list[tuple[int, bytes, int]]:
        out = []
        for child in r.children(parent):
            out.append((child.depth, child.kind, child.offset))
            if child.kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
                out += tree(child)
        return out

    _, moov = r.boxes()
    assert tree(moov) == [
        (1, b"mvhd", 16),
        (1, b"trak", 28),
        (2, b"mdia", 36),
        (3, b"minf", 44),
        (4, b"stbl", 52),
        (5, b"stsd", 60),
        (5, b"stco", 76),
    ]


def test_a_full_box_skips_its_version_and_flags(reader: Source) -> None:
    r = reader(box(b"meta", b"\0\0\0\0" + box(b"hdlr", b"mdir")))
    meta = next(r.boxes())
    assert [(b.kind, b.offset) for b in r.children(meta, skip=4)] == [(b"hdlr", 12)]
    short = reader(box(b"meta", b"\0\0"))
    with pytest.raises(TruncatedHeaderError, match="too short to hold boxes"):
        list(short.children(next(short.boxes()), skip=4))


def nest(depth: int) -> bytes:
    return b"".join(header(8 * (depth - level), b"moov") for level in range(depth))


def descend(r: BoxReader, parent: Box) -> int:
    return max((descend(r, child) for child in r.children(parent)), default=parent.depth)


def test_nesting_deeper_than_the_limit_is_refused_not_recursed() -> None:
    fits = BoxReader.of_buffer(nest(9), max_depth=9)
    assert descend(fits, next(fits.boxes())) == 8
    r = BoxReader.of_buffer(nest(10), max_depth=9)
    with pytest.raises(BoxLimitError, match="nested deeper than 9 levels"):
        descend(r, next(r.boxes()))
    # the module's own limit stops a crafted 100,000-deep file long before Python's recursion limit
    r = BoxReader.of_buffer(nest(100_000))
    with pytest.raises(BoxLimitError, match="nested deeper than 32 levels"):
        descend(r, next(r.boxes()))


def test_box_counts_are_bounded_over_all_the_walks_of_a_reader(reader: Source) -> None:
    data = box(b"moov", box(b"free") * 600) + box(b"free") * 600
    r = reader(data, max_boxes=1000)
    moov = next(r.boxes())
    assert len(list(r.children(moov))) == 600
    with pytest.raises(BoxLimitError, match="more than 1000 boxes"):
        list(r.boxes())
    assert len(list(reader(data, max_boxes=1000, lenient=True).boxes())) == 601


def test_the_default_box_limit_bounds_a_crafted_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bmff.MAX_BOXES == BoxReader.of_buffer(b"").max_boxes == 1_000_000
    monkeypatch.setattr(bmff, "MAX_BOXES", 1000)  # the real million takes seconds
    path = tmp_path / "many.mp4"
    path.write_bytes(box(b"ftyp") + box(b"free") * 1000)
    with pytest.raises(BoxLimitError, match="more than 1000 boxes in the file"):
        boxes.check_structure(path, formats.MP4)


def test_lenient_walks_stop_before_the_first_bad_box(reader: Source) -> None:
    good = box(b"ftyp") + box(b"moov", box(b"mvhd") + header(99, b"trak"))
    for tail in (b"abc", header(4, b"free"), header(99, b"mdat"), struct.pack(">I4sI", 1, b"mdat", 0)):
        r = reader(good + tail, lenient=True)
        ftyp, moov = r.boxes()
        assert [b.kind for b in r.children(moov)] == [b"mvhd"]
    assert list(reader(nest(40), lenient=True).boxes())[0].kind == b"moov"
    deep = reader(nest(40), lenient=True)
    assert descend(deep, next(deep.boxes())) == 32  # stops at the limit, no error


def test_a_file_walk_reads_headers_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.mp4"
    with open(path, "wb") as fh:  # a sparse 6 GiB file: a 64-bit mdat, then moov
        fh.write(box(b"ftyp", b"isom") + struct.pack(">I4sQ", 1, b"mdat", 6 << 30))
        fh.seek(12 + (6 << 30))
        fh.write(box(b"moov", box(b"mvhd")))
    tracemalloc.start()
    try:
        with open(path, "rb") as fh:
            r = BoxReader.of_file(fh)
            kinds = [(b.kind, b.size) for b in r.boxes()]
            moov_children = [b.kind for b in r.children(next(b for b in r.boxes() if b.kind == b"moov"))]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert kinds == [(b"ftyp", 12), (b"mdat", 6 << 30), (b"moov", 16)] and moov_children == [b"mvhd"]
    assert peak < 256 << 10


@pytest.mark.parametrize("kind", [b"\x1b[31", b"'); ", b"\\x00", b"\xff\xfe\x00\n", b"mo\x00v"])
def test_box_types_show_as_inert_text(reader: Source, kind: bytes) -> None:
    with pytest.raises(MalformedBoxError) as caught:
        list(reader(header(3, kind)).boxes())
    message = str(caught.value)
    assert message.isprintable() and type_name(kind) in message and "\x1b" not in message
    assert type_name(b"moov") == "'moov'" and type_name(b"    ") == "'    '"


def test_box_errors_are_malformed_media_with_the_bad_input_exit_code() -> None:
    with pytest.raises(MalformedMediaError) as caught:
        list(BoxReader.of_buffer(header(99, b"moov")).boxes())
    assert caught.value.exit_code is ExitCode.BAD_INPUT and "\n" not in caught.value.diagnostics()


def test_records_are_frozen() -> None:
    record = next(BoxReader.of_buffer(box(b"free")).boxes())
    with pytest.raises(AttributeError):
        record.size = 0  # type: ignore[misc]
