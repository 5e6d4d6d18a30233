import struct
from pathlib import Path

import pytest

from provenance.media import bmff_layout
from provenance.media.bmff_layout import LayoutNotSupported, read_layout, shift_chunk_offsets
from provenance.media.boxes import C2PA_UUID
from tests.support.bmff import remux, with_co64


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _moov(table: bytes, offsets: list[int]) -> bytes:
    wide = table == b"co64"
    entries = struct.pack(f">I{len(offsets)}{'Q' if wide else 'I'}", len(offsets), *offsets)
    stbl = _box(b"stbl", _box(b"stsd", b"\0" * 8) + _box(table, b"\0\0\0\0" + entries))
    return _box(b"moov", _box(b"trak", _box(b"mdia", _box(b"minf", stbl))))


def _offsets(moov: bytes, table: bytes) -> list[int]:
    at = moov.index(table) + 8
    count = struct.unpack_from(">I", moov, at)[0]
    return list(struct.unpack_from(f">{count}{'Q' if table == b'co64' else 'I'}", moov, at + 4))


def test_a_plain_clip_has_ftyp_first_one_mdat_and_its_largest_offset(make_clip) -> None:
    layout = read_layout(make_clip("mp4"))
    assert layout.boxes[0].kind == b"ftyp" and layout.insert_at == layout.boxes[0].size
    [mdat] = layout.media
    assert mdat.offset < layout.largest_stco_offset < mdat.end
    assert layout.merkle_leaves(1 << 20) == 1 and layout.merkle_leaves(1024) == -(-(mdat.size - 16) // 1024)
    assert layout.fits(1 << 20) and not layout.fits((1 << 32) - layout.largest_stco_offset)


def test_co64_clips_have_no_32_bit_limit(make_clip, tmp_path: Path) -> None:
    layout = read_layout(with_co64(make_clip("mp4"), tmp_path / "co64.mp4"))
    assert layout.largest_stco_offset is None and layout.fits(1 << 40)


@pytest.mark.parametrize("table", [b"stco", b"co64"])
def test_chunk_offsets_move_by_the_shift(table: bytes) -> None:
    moov = _moov(table, [48, 1000, 70000])
    shifted = shift_chunk_offsets(moov, 4096)
    assert len(shifted) == len(moov) and _offsets(shifted, table) == [4144, 5096, 74096]


def test_a_32_bit_offset_that_would_pass_4_gib_is_refused() -> None:
    with pytest.raises(LayoutNotSupported, match="4 GiB"):
        shift_chunk_offsets(_moov(b"stco", [(1 << 32) - 100]), 4096)
    assert _offsets(shift_chunk_offsets(_moov(b"co64", [(1 << 32) - 100]), 4096), b"co64") == [(1 << 32) + 3996]


def test_offsets_it_does_not_rewrite_are_refused() -> None:
    saio = _box(b"moov", _box(b"trak", _box(b"mdia", _box(b"minf", _box(b"stbl", _box(b"saio", b"\0" * 12))))))
    with pytest.raises(LayoutNotSupported, match="saio"):
        shift_chunk_offsets(saio, 8)


@pytest.mark.parametrize(
    ("layout", "why"),
    [
        ([_box(b"moov", b""), _box(b"mdat", b"\0" * 64)], "ftyp"),
        ([_box(b"ftyp", b"isom\0\0\0\0"), _box(b"moov", b""), _box(b"mdat", b"\0" * 4)], "mdat"),
        (
            [
                _box(b"ftyp", b"isom\0\0\0\0"),
                _box(b"uuid", C2PA_UUID + b"\0" * 8),
                _box(b"moov", b""),
                _box(b"mdat", b"\0" * 64),
            ],
            "C2PA",
        ),
        ([_box(b"ftyp", b"isom\0\0\0\0"), _box(b"moov", _box(b"mvex", b"")), _box(b"mdat", b"\0" * 64)], "mvex"),
        ([_box(b"ftyp", b"isom\0\0\0\0"), _box(b"moov", b""), _box(b"mdat", b"\0" * 64), b"\0\0\0"], "stray"),
        ([_box(b"ftyp", b"isom\0\0\0\0"), _box(b"mdat", b"\0" * 64)], "0 moov"),
    ],
)
def test_layouts_it_does_not_handle_say_why(layout: list[bytes], why: str, tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    path.write_bytes(b"".join(layout))
    with pytest.raises(LayoutNotSupported, match=why):
        read_layout(path)


def test_a_fragmented_clip_is_refused(make_clip, tmp_path: Path) -> None:
    with pytest.raises(LayoutNotSupported, match="moof|mvex"):
        read_layout(remux(make_clip("mp4"), tmp_path / "frag.mp4", movflags="frag_keyframe+empty_moov"))


def test_the_manifest_box_is_padded_to_its_room_and_its_store_read_back() -> None:
    store = _box(b"jumb", b"claims")
    composed = _box(b"uuid", C2PA_UUID + b"\0\0\0\0" + b"manifest\0" + b"\0" * 8 + store)
    padded = bmff_layout.manifest_box(composed, len(composed) + 100)
    assert len(padded) == struct.unpack_from(">I", padded)[0] == len(composed) + 100
    assert padded[4 : len(composed)] == composed[4:] and padded[len(composed) :] == b"\0" * 100
    assert bmff_layout.manifest_store(padded) == bmff_layout.manifest_store(composed) == store
    with pytest.raises(LayoutNotSupported, match="outgrew"):
        bmff_layout.manifest_box(composed, len(composed) - 1)


_FTYP = _box(b"ftyp", b"isom\0\0\0\0")
_MDAT = _box(b"mdat", b"\0" * 64)


def _write(tmp_path: Path, *parts: bytes) -> Path:
    path = tmp_path / "crafted.mp4"
    path.write_bytes(b"".join(parts))
    return path


def test_a_moov_nested_past_the_depth_limit_is_refused_not_recursed(tmp_path: Path) -> None:
    depth = 1000  # as the corpus's nested_moov_1000.mp4; this raised RecursionError
    nested = b"".join(struct.pack(">I4s", 8 * (depth - level), b"moov") for level in range(depth))
    with pytest.raises(LayoutNotSupported, match="nested deeper than 32 levels"):
        read_layout(_write(tmp_path, _FTYP, nested, _MDAT))


def test_the_top_level_must_be_whole_boxes_to_the_last_byte(tmp_path: Path) -> None:
    moov = _moov(b"stco", [100])
    with pytest.raises(LayoutNotSupported, match="4 stray bytes at the end"):  # a closing zero the copy would drop
        read_layout(_write(tmp_path, _FTYP, moov, _MDAT, b"\0\0\0\0"))
    with pytest.raises(LayoutNotSupported, match="'mdat' box that runs to the end of the file"):
        read_layout(_write(tmp_path, _FTYP, moov, struct.pack(">I4s", 0, b"mdat") + b"\0" * 64))
    with pytest.raises(LayoutNotSupported, match="needs 999 bytes, but the file ends"):
        read_layout(_write(tmp_path, _FTYP, moov, struct.pack(">I4s", 999, b"mdat") + b"\0" * 64))


def test_a_64_bit_c2pa_box_is_still_a_manifest(tmp_path: Path) -> None:
    manifest = struct.pack(">I4sQ", 1, b"uuid", 16 + 16 + 8) + C2PA_UUID + b"\0" * 8
    with pytest.raises(LayoutNotSupported, match="C2PA"):
        read_layout(_write(tmp_path, _FTYP, manifest, _moov(b"stco", [100]), _MDAT))


def test_a_quicktime_list_terminator_inside_moov_is_accepted(tmp_path: Path) -> None:
    moov = _moov(b"stco", [200])
    udta = _box(b"udta", _box(b"\xa9nam", b"clip") + b"\0\0\0\0")
    moov = struct.pack(">I", len(moov) + len(udta)) + moov[4:] + udta
    layout = read_layout(_write(tmp_path, _FTYP, moov, _MDAT))
    assert layout.largest_stco_offset == 200 and [b.kind for b in layout.boxes] == [b"ftyp", b"moov", b"mdat"]


def test_junk_inside_moov_is_refused(tmp_path: Path) -> None:
    moov = _moov(b"stco", [200])
    junk = struct.pack(">I", len(moov) + 3) + moov[4:] + b"abc"
    with pytest.raises(LayoutNotSupported, match="inside 'moov': 3 stray bytes"):
        shift_chunk_offsets(junk, 8)
    # an stco whose box overruns its stbl is refused, not patched
    overrun = bytearray(moov)
    at = overrun.index(b"stco") - 4
    overrun[at : at + 4] = struct.pack(">I", 200)
    with pytest.raises(LayoutNotSupported, match="'stco' box at offset .* needs 200 bytes, but its parent 'stbl'"):
        shift_chunk_offsets(bytes(overrun), 8)


def test_a_64_bit_moov_is_patched(tmp_path: Path) -> None:
    moov = _moov(b"co64", [48, 5000])
    wide = struct.pack(">I4sQ", 1, b"moov", len(moov) + 8) + moov[8:]
    shifted = shift_chunk_offsets(wide, 100)
    assert shifted[:16] == wide[:16] and _offsets(shifted, b"co64") == [148, 5100]


def test_a_composed_box_that_is_no_c2pa_box_is_a_bug_not_bad_input() -> None:
    for composed in (_box(b"free", b"\0" * 32), b"\0\0\0\3uuid", _box(b"uuid", bytes(16) + b"\0" * 8)):
        with pytest.raises(ValueError, match="not a composed C2PA uuid box"):
            bmff_layout.manifest_box(composed, 4096)
