"""Strings from files, shown as inert text.

Every string a clip, a manifest, a certificate or a file name brings
(titles, signer names, action parameters, status explanations, box types,
paths) is hostile: an ESC sequence can redraw a terminal, a bidi override
can reverse what a reader sees, a zero-width character can make two names
look alike, a 10 MB title can bury the verdict. Whatever shows such a
string to a person (the CLI, log lines, error messages) passes it through
:func:`inert` first; the JSON forms keep the original value.

The rules:

- control characters (C0 with TAB, LF and CR, DEL, C1), Unicode format
  characters (bidi embeddings, overrides, isolates and marks, zero-width
  spaces and joiners, U+FEFF, the tag block U+E0000…), line and paragraph
  separators, lone surrogates and the invisible Hangul fillers become
  visible escapes: ``\\x1b``, ``\\n``, ``\\u202e``, ``\\U000e0041`` (a byte of
  a file name that is not UTF-8, which Python holds as a lone surrogate,
  shows as that byte: ``\\xff``);
- everything else, including every printable letter in any script, is
  kept as is (a backslash too: the text is for a person, not a parser);
- the result is cut to *limit* characters (:data:`DISPLAY_LIMIT` by
  default) with ``…``, never in the middle of an escape.

>>> inert("Reuters\\x1b[32m ✔")
'Reuters\\\\x1b[32m ✔'
>>> inert("x" * 300)[-3:]
'xx…'
"""

from __future__ import annotations

import unicodedata

DISPLAY_LIMIT = 200  # characters of one value on screen; the JSON keeps all of it
MESSAGE_LIMIT = 2000  # a whole one-line message (paths, box types, c2pa text)
ELLIPSIS = "…"

# Categories shown as escapes: Cc control, Cf format (bidi, zero-width,
# tags, U+FEFF, U+061C), Cs surrogate, Zl/Zp line/paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Letters that render as nothing: Hangul fillers, the braille blank, and
# the combining grapheme joiner (an invisible mark).
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _plain(text: str) -> bool:
    """No hidden character at all: the common case, checked at C speed."""
    return text.isprintable() and _INVISIBLE.isdisjoint(text)


def is_hidden(char: str) -> bool:
    """Whether *char* is one :func:`inert` turns into an escape."""
    return char in _INVISIBLE or unicodedata.category(char) in _HIDDEN_CATEGORIES


def escape_char(char: str) -> str:
    """The visible escape of one character, as Python writes it."""
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        code -= 0xDC00  # a byte of a file name that is not UTF-8 (surrogateescape): show that byte
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def inert(value: object, *, limit: int | None = DISPLAY_LIMIT) -> str:
    """*value* as text that cannot act on a terminal or a reader: hidden
    characters escaped, cut to *limit* characters (``None``: no cut)."""
    text = value if isinstance(value, str) else str(value)
    if (limit is None or len(text) <= limit) and _plain(text):
        return text  # the common case: nothing to do
    pieces: list[str] = []
    size = 0
    for char in text:
        piece = escape_char(char) if is_hidden(char) else char
        pieces.append(piece)
        size += len(piece)
        if limit is not None and size > limit:
            break  # no need to read the rest of a huge value
    else:
        return "".join(pieces)
    assert limit is not None
    while pieces and size > limit - len(ELLIPSIS):
        size -= len(pieces.pop())
    return "".join(pieces) + ELLIPSIS


def inert_markup(value: object, *, limit: int | None = DISPLAY_LIMIT) -> str:
    """:func:`inert`, then escaped for rich markup, for a value put into a
    markup string (``console.print(f"signed by {inert_markup(name)}")``):
    ``[bold green]✔ VERIFIED[/]`` in a title stays those characters."""
    from rich.markup import escape  # the CLI's renderer; imported only by who prints

    return escape(inert(value, limit=limit))


def fourcc(kind: bytes) -> str:
    """The type of a box or chunk, for a message: printable Latin-1 kept
    (``moov``, ``©nam``), any other byte escaped (``mo\\x1bv``)."""
    return inert(kind.decode("latin-1"), limit=None)


def json_inert(document: str) -> str:
    """A JSON text written with ``ensure_ascii=False``, with every hidden
    character (see :func:`inert`) written as a ``\\uXXXX`` escape instead:
    the same values for any parser, but nothing that acts on a terminal or
    splits a line (U+2028), and no lone surrogate that cannot be encoded.
    Hidden characters only occur inside JSON strings, where the escape
    means the same character."""
    if _plain(document):
        return document
    out = []
    for char in document:
        if char != "\n" and is_hidden(char):
            code = ord(char)
            if code > 0xFFFF:  # as a UTF-16 surrogate pair, which is how JSON spells it
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
