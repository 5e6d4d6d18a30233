"""Real signed clips whose every string is hostile: ESC/CSI sequences that
redraw a terminal, an OSC 8 hyperlink, bidi overrides, zero-width and tag
characters, rich markup, HTML, and a 10,000-character value, in the title,
the generator, the signer's CN and O, an action's name and parameters, an
ingredient's title and the file names, signed by a certificate no trust
list vouches for (so the honest verdict is "untrusted")."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from provenance._files import atomic_output
from provenance.credentials import one_pass
from provenance.credentials.manifest import SourceType, action, definition
from provenance.identity.certificates import Subject, pem
from provenance.identity.signer import KeySigner
from provenance.media.video import make_sample_clip
from provenance.signing import sign
from provenance.text import is_hidden
from tests.certfactory import MiniCA

# Erase the line, go up one, erase it, and draw a green verdict there.
REDRAW = "\x1b[2K\x1b[1A\x1b[2K\r\x1b[1;32m✔ VERIFIED ─ Reuters\x1b[0m"
MARKUP = "[bold green]✔ VERIFIED[/]"
TITLE = REDRAW + " " + MARKUP
OSC8 = "\x1b]8;;https://evil.example/\x1b\\Reuters\x1b]8;;\x1b\\"
SET_WINDOW_TITLE = "\x1b]2;pwned\x07"
BIDI = "\u202egnp.exe\u202c \u2066iso\u2069\u200f\u061c"
INVISIBLE = "Reu\u200bters\u200d\ufeff\U000e0041\u2028"
HTML = '<img src=x onerror="window.pwned=1"><b>bold</b>'
LONG = "L" * 10_000
CN = "Reuters\x1b[32m\u202e"  # a CN holds 64 characters at most
ORG = MARKUP + BIDI + "O" * 10_000
PARAMETERS = {"note\u202e": BIDI, "markup": "[red]x[/]", "long": LONG, "html": HTML, "bell": "\x07\x08\x7f\x9b31m"}
# Escapes that must show, as text, somewhere on screen.
VISIBLE = ("\\x1b[2K\\x1b[1A", "\\x1b]8;;https://evil.example/", "\\u202e", "\\u200b", "\\U000e0041", MARKUP)
# A hostile file name: legal on Linux, at most 255 bytes.
NAME = f"news{SET_WINDOW_TITLE}\x1b[31m\u202e4pm.mp4"

_SGR = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class HostileClips:
    root_cert: Path  # the hostile PKI's root: not trusted by the tests' stores
    clip: Path  # the hostile manifest, signed in one pass
    chained: Path  # a hostile-named copy of clip signed again: the ingredient title is NAME


def make_hostile_clips(folder: Path) -> HostileClips:
    """Sign the hostile clips in *folder* (about a second)."""
    # A real CA under a root no test store trusts; the leaf's O is 10k characters.
    ca = MiniCA.make("Hostile Org")
    key, leaf = ca.leaf(subject=Subject(CN, ORG, "US"))
    signer = KeySigner(key, chain=[leaf, ca.issuing])
    root_cert = folder / "hostile-root.pem"
    root_cert.write_bytes(pem(ca.root))
    source = make_sample_clip(folder / "source.mp4", seconds=1.0)
    now = dt.datetime.now(dt.UTC)
    manifest = definition(
        title=TITLE + HTML + LONG,
        author=OSC8,
        mime_type="video/mp4",
        source=SourceType.CAMERA,
        published_at=now,
        with_thumbnail=False,
        actions=[action("c2pa.edited" + SET_WINDOW_TITLE, when=now, parameters=PARAMETERS)],
    )
    manifest["claim_generator_info"] = [{"name": OSC8 + INVISIBLE, "version": "1.0"}]
    clip = folder / "hostile.mp4"
    with open(source, "rb") as fh, atomic_output(clip) as out:
        assert (
            one_pass.sign_in_one_pass(
                manifest, signer=signer, mime_type="video/mp4", source=source, source_fh=fh, dest=out
            )
            is not None
        )
    named = folder / NAME
    shutil.copyfile(clip, named)
    chained = sign(named, folder / "chained.mp4", signer=signer, title=TITLE).output
    return HostileClips(root_cert, clip, chained)


def assert_inert(output: str, *, terminal: bool = False) -> None:
    """No byte of the file acts on a terminal or a reader: no ESC at all
    (with *terminal*: none but rich's own colours), no bidi, zero-width or
    other hidden character (line breaks of the layout aside)."""
    text = _SGR.sub("", output) if terminal else output
    assert "\x1b" not in text, ascii(text[max(0, text.find("\x1b") - 80) : text.find("\x1b") + 80])
    hidden = sorted({c for c in text if is_hidden(c) and c not in "\n\r"})
    assert hidden == [], hidden


def flat(output: str) -> str:
    """The output without layout (rich's SGR colours, box borders, wrapping
    and spaces), to find a value however the card wrapped it."""
    text = _SGR.sub("", output)
    return re.sub(r"[\s│╭╮╰╯─]", "", text)


def squeeze(needle: str) -> str:
    return re.sub(r"[\s│╭╮╰╯─]", "", needle)
