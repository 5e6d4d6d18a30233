"""provenance.text: what is escaped, what is kept, where a value is cut."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from provenance.text import DISPLAY_LIMIT, fourcc, inert, inert_markup, is_hidden, json_inert


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),  # ESC / CSI
        ("a\rb\bc\x7f", "a\\rb\\x08c\\x7f"),  # CR, BS, DEL
        ("two\nlines\tand a tab", "two\\nlines\\tand a tab"),
        ("\x9b31m", "\\x9b31m"),  # C1 CSI
        ("\x00", "\\x00"),
        ("abc\u202egnp.exe", "abc\\u202egnp.exe"),  # right-to-left override
        ("\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d"),  # embeddings
        ("\u2066x\u2067y\u2068z\u2069", "\\u2066x\\u2067y\\u2068z\\u2069"),  # isolates
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),  # marks
        ("Reu\u200bters\u200c\u200d\u2060\ufeff", "Reu\\u200bters\\u200c\\u200d\\u2060\\ufeff"),  # zero-width
        ("\U000e0041\U000e007f", "\\U000e0041\\U000e007f"),  # tag characters
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),  # line / paragraph separators
        ("\ud800", "\\ud800"),  # a lone surrogate
        ("caf\udce9", "caf\\xe9"),  # a non-UTF-8 byte of a file name (surrogateescape)
        ("\u3164\u115f", "\\u3164\\u115f"),  # Hangul fillers render as nothing
    ],
)
def test_hidden_characters_become_visible_escapes(raw: str, shown: str) -> None:
    assert inert(raw) == shown
    inert(raw).encode("utf-8")  # always printable, whatever the terminal's encoding


@pytest.mark.parametrize(
    "text",
    [
        "Jane Doe (Example News)",
        "Ana Lima — Folha",
        "東京 ニュース",
        "مراسل الأخبار",
        "Zoë Ñúñez",
        "a\u00a0b\u3000c",
        "✔ ✗ ⚠ →",
        "C:\\clips\\x1b.mp4",
        "[bold]not markup to inert()[/]",
    ],
)
def test_printable_text_in_any_script_is_kept(text: str) -> None:
    assert inert(text) == text


def test_long_values_are_cut_with_an_ellipsis_never_inside_an_escape() -> None:
    assert inert("x" * DISPLAY_LIMIT) == "x" * DISPLAY_LIMIT  # exactly the limit: kept whole
    cut = inert("x" * 10_000)
    assert len(cut) == DISPLAY_LIMIT and cut.endswith("x…")
    assert inert("a" * 198 + "\x1b[2J") == "a" * 198 + "…"  # the escape does not fit: left out whole
    assert len(inert("\u202e" * 10_000)) <= DISPLAY_LIMIT  # escapes count toward the limit
    assert inert("y" * 50, limit=10) == "y" * 9 + "…"
    assert inert("z" * 5000, limit=None) == "z" * 5000


def test_values_of_any_type_are_shown_as_text() -> None:
    assert inert(42) == "42"
    assert inert(Path("clip\x1b[2J.mp4")) == "clip\\x1b[2J.mp4"  # a file name
    assert inert({"k": "\u202e"}) == "{'k': '\\u202e'}"  # str() of a dict: repr of its values


def test_inert_markup_is_printed_by_rich_as_written() -> None:
    screen = io.StringIO()
    hostile = "[bold green]✔ VERIFIED[/] [link=https://evil.example]x[/link] \x1b[1A"
    Console(file=screen, width=200, force_terminal=False).print(f"title: {inert_markup(hostile)}")
    assert screen.getvalue() == "title: [bold green]✔ VERIFIED[/] [link=https://evil.example]x[/link] \\x1b[1A\n"


def test_fourcc_shows_box_types_escaped() -> None:
    assert fourcc(b"moov") == "moov"
    assert fourcc(b"\xa9nam") == "©nam"
    assert fourcc(b"\x1b[2J") == "\\x1b[2J"
    assert fourcc(b"\x00\x9b\x85a") == "\\x00\\x9b\\x85a"


def test_is_hidden_agrees_with_inert() -> None:
    for char in "\x1b\u202e\u200b\U000e0001\u2028":
        assert is_hidden(char) and inert(char) != char
    for char in "a é 東 ✔ \u00a0":
        assert not is_hidden(char)


@pytest.mark.parametrize(
    "value",
    [
        {"title": 'a\u2028b\x1b[2J\u202e\U000e0041 東京 \\ " end'},
        ["\ud800", "caf\udce9", "\x85\u200b"],
    ],
)
def test_json_inert_keeps_the_values_and_hides_nothing(value: object) -> None:
    text = json_inert(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert not any(is_hidden(c) for c in text)
    assert len(text.splitlines()) == 1
    text.encode("utf-8")
    assert "東京" in text or "東京" not in json.dumps(value, ensure_ascii=False)  # readable text stays readable


def test_every_code_point_is_shown_as_itself_or_as_a_visible_escape() -> None:
    escape = re.compile(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[tnr])")
    for code in range(0x110000):
        char = chr(code)
        shown = inert(char)
        if shown != char:
            assert escape.fullmatch(shown), (hex(code), shown)
        assert not any(is_hidden(c) for c in shown), hex(code)
        shown.encode("utf-8")
