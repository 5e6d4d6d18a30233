"""Test helpers: real servers (TSA, HTTP), a shifted clock, card text."""

import re

_BOX = re.compile(r"[│╭╮╰╯─┃┏┓┗┛━┡┩╇┳┻╈┼]")


def flat(output: str) -> str:
    """A rich card or table as one line of words: box drawing removed and
    whitespace collapsed, so assertions do not depend on terminal width."""
    return " ".join(_BOX.sub(" ", output).split())
