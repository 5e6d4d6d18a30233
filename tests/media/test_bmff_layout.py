import struct
from pathlib import Path

import pytest

from provenance.media import bmff_layout
from provenance.media.bmff_layout import BmffLayout, LayoutNotSupported, read_layout
from provenance.media.boxes import C2PA_UUID
from tests.support.bmff import packets, remux, with_co64


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
    assert mdat.offset < layout.largest_stco_offset < mdat.end and layout.media_size == mdat.size - 8
    assert [b.kind for b in layout.structure] == [b.kind for b in layout.boxes[1:] if b.kind != b"mdat"]
    assert layout.merkle_leaves(1 << 20) == 1 and layout.merkle_leaves(1024) == -(-(mdat.size - 8) // 1024)
    # the mdat written: size 1, then a 64-bit size counting its 16-byte header
    assert layout.mdat_header() == struct.pack(">I4sQ", 1, b"mdat", 16 + mdat.size - 8)


def test_co64_clips_have_no_32_bit_limit(make_clip, tmp_path: Path) -> None:
    layout = read_layout(with_co64(make_clip("mp4"), tmp_path / "co64.mp4"))
    assert layout.largest_stco_offset is None


def _crafted(tmp_path: Path, *parts: bytes) -> BmffLayout:
    path = tmp_path / "crafted.mp4"
    path.write_bytes(b"".join(parts))
    return read_layout(path)


@pytest.mark.parametrize("table", [b"stco", b"co64"])
def test_chunk_offsets_move_to_where_the_media_goes(table: bytes, tmp_path: Path) -> None:
    ftyp, payload = _box(b"ftyp", b"isom\0\0\0\0"), 16 + 8  # ftyp, then the mdat's header
    moov = _moov(table, [payload, payload + 10, payload + 63])
    layout = _crafted(tmp_path, ftyp, _box(b"mdat", b"\0" * 64), moov)
    moved = layout.relocate(moov, 4096)
    assert len(moved) == len(moov) and _offsets(moved, table) == [4096, 4106, 4159]


def test_the_payloads_of_several_mdats_become_one(tmp_path: Path) -> None:
    ftyp = _box(b"ftyp", b"isom\0\0\0\0")
    first = 16 + 8  # the first payload starts after ftyp and its header
    second = 16 + 72 + len(_moov(b"stco", [0, 0, 0])) + 8  # after the first mdat, moov, and its header
    moov = _moov(b"stco", [first, first + 63, second + 5])
    layout = _crafted(tmp_path, ftyp, _box(b"mdat", b"\1" * 64), moov, _box(b"mdat", b"\2" * 32))
    assert layout.media_size == 96 and layout.merkle_leaves(16) == 6 and layout.merkle_leaves(64) == 2
    assert _offsets(layout.relocate(moov, 1000), b"stco") == [1000, 1063, 1069]


@pytest.mark.parametrize("offset", [0, 16, 16 + 8 + 64, 10_000])  # ftyp, the mdat header, past it, past the file
def test_a_chunk_offset_outside_the_media_is_refused(offset: int, tmp_path: Path) -> None:
    moov = _moov(b"stco", [24, offset])
    layout = _crafted(tmp_path, _box(b"ftyp", b"isom\0\0\0\0"), _box(b"mdat", b"\0" * 64), moov)
    with pytest.raises(LayoutNotSupported, match=f"a chunk offset \\({offset}\\) outside the media"):
        layout.relocate(moov, 4096)


def test_a_32_bit_offset_that_would_pass_4_gib_is_refused(tmp_path: Path) -> None:
    ftyp = _box(b"ftyp", b"isom\0\0\0\0")
    narrow, wide = _moov(b"stco", [24 + 63]), _moov(b"co64", [24 + 63])
    with pytest.raises(LayoutNotSupported, match="4 GiB"):
        _crafted(tmp_path, ftyp, _box(b"mdat", b"\0" * 64), narrow).relocate(narrow, (1 << 32) - 63)
    layout = _crafted(tmp_path, ftyp, _box(b"mdat", b"\0" * 64), wide)
    assert _offsets(layout.relocate(wide, (1 << 32) - 63), b"co64") == [1 << 32]
    assert _offsets(layout.relocate(narrow, (1 << 32) - 64), b"stco") == [(1 << 32) - 1]


def test_offsets_it_does_not_rewrite_are_refused(tmp_path: Path) -> None:
    layout = _crafted(tmp_path, _box(b"ftyp", b"isom\0\0\0\0"), _moov(b"stco", [24]), _box(b"mdat", b"\0" * 64))
    saio = _box(b"moov", _box(b"trak", _box(b"mdia", _box(b"minf", _box(b"stbl", _box(b"saio", b"\0" * 12))))))
    with pytest.raises(LayoutNotSupported, match="saio"):
        layout.relocate(saio, 8)


@pytest.mark.parametrize(
    ("layout", "why"),
    [
        ([_box(b"moov", b""), _box(b"mdat", b"\0" * 64)], "ftyp"),
        ([_box(b"ftyp", b"isom\0\0\0\0"), _box(b"moov", b""), _box(b"mdat", b"")], "no media"),
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
    layout = _crafted(tmp_path, _FTYP, moov, _box(b"mdat", b"\0" * 200))
    junk = struct.pack(">I", len(moov) + 3) + moov[4:] + b"abc"
    with pytest.raises(LayoutNotSupported, match="inside 'moov': 3 stray bytes"):
        layout.relocate(junk, 8)
    # an stco whose box overruns its stbl is refused, not patched
    overrun = bytearray(moov)
    at = overrun.index(b"stco") - 4
    overrun[at : at + 4] = struct.pack(">I", 200)
    with pytest.raises(LayoutNotSupported, match="'stco' box at offset .* needs 200 bytes, but its parent 'stbl'"):
        layout.relocate(bytes(overrun), 8)


def test_a_64_bit_moov_is_patched(tmp_path: Path) -> None:
    moov = _moov(b"co64", [48, 5000])
    wide = struct.pack(">I4sQ", 1, b"moov", len(moov) + 8) + moov[8:]
    at = 16 + len(wide) + 8  # the mdat's payload, after ftyp and moov
    wide = wide[:-16] + struct.pack(">QQ", at, at + 4000)
    layout = _crafted(tmp_path, _FTYP, wide, _box(b"mdat", b"\0" * 5000))
    shifted = layout.relocate(wide, 100)
    assert shifted[:16] == wide[:16] and _offsets(shifted, b"co64") == [100, 4100]


def test_a_composed_box_that_is_no_c2pa_box_is_a_bug_not_bad_input() -> None:
    for composed in (_box(b"free", b"\0" * 32), b"\0\0\0\3uuid", _box(b"uuid", bytes(16) + b"\0" * 8)):
        with pytest.raises(ValueError, match="not a composed C2PA uuid box"):
            bmff_layout.manifest_box(composed, 4096)


@pytest.mark.parametrize("movflags", [None, "faststart"])
def test_the_interop_copy_puts_one_64_bit_mdat_last_and_keeps_every_packet(movflags, make_clip, tmp_path: Path) -> None:
    src = remux(make_clip("mp4"), tmp_path / "in.mp4", movflags=movflags)
    layout = read_layout(src)
    out = tmp_path / "interop.mp4"
    with open(src, "rb") as fh, open(out, "wb") as dst:
        bmff_layout.write_interop_copy(layout, fh, dst)
    copied = read_layout(out)
    assert copied.boxes[-1].kind == b"mdat" and copied.boxes[-1].header == 16 and len(copied.media) == 1
    assert [b.kind for b in copied.structure] == [b.kind for b in layout.structure]
    assert copied.media_size == layout.media_size and copied.file_size == layout.file_size + 8
    assert packets(out) == packets(src)  # bytes, pts and dts


def test_edits_are_signed_in_the_interop_layout(make_clip, signer, trust, tmp_path: Path) -> None:
    from provenance import edit
    from provenance.signing import sign
    from provenance.verification.report import Verdict
    from provenance.verification.verifier import verify

    parent = sign(make_clip("mp4"), tmp_path / "parent.mp4", signer=signer).output
    out = edit.trim(parent, tmp_path / "trimmed.mp4", signer=signer, trust=trust, start=0.5).output
    kinds = [b.kind for b in _top(out)]
    assert kinds[:2] == [b"ftyp", b"uuid"] and kinds.index(b"moov") < kinds.index(b"mdat") == len(kinds) - 1
    assert _top(out)[-1].header == 16
    assert verify(out, trust=trust).verdict is Verdict.VERIFIED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "parent.mp4", "trimmed.mp4"]  # no scratch left


def _top(path: Path) -> list[bmff_layout.Box]:
    from provenance.media.bmff import BoxReader

    with open(path, "rb") as fh:
        return list(BoxReader.of_file(fh).boxes())
