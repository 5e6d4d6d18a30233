"""Library errors speak library terms; the CLI and the service add their own
hints by the error's ``reason`` (see provenance/errors.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from provenance.cli.hints import CLI_HINTS, cli_diagnostics, cli_hint
from provenance.errors import OutputExistsError, PassphraseError, UsageError
from provenance.service.hints import HTTP_HINTS, http_hint

PACKAGE = Path(__file__).resolve().parent.parent / "provenance"
FRONT_ENDS = ("cli", "service")
# Converted by the verify/trust redesign (issue 8, items 1-3); until then
# their hints may still name flags.
NOT_YET_CONVERTED: tuple[str, ...] = ()
# Other programs' flags, quoted as a hint for what to run: not ours.
THIRD_PARTY = re.compile(r"(pkcs11-tool|softhsm2-util) --")
CLI_WORDS = re.compile(r"(?<![\w-])--[a-z]|'provenance |\bprovenance (sign|verify|keys|trust)\b")


def _library_modules() -> list[Path]:
    return [
        p
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.relative_to(PACKAGE).parts[0] not in FRONT_ENDS + NOT_YET_CONVERTED
    ]


def _hint_texts(path: Path) -> list[tuple[int, str]]:
    """Every literal part of a ``hint=`` argument in *path*."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.keyword) and node.arg == "hint":
            for part in ast.walk(node.value):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    found.append((node.value.lineno, part.value))
    return found


def _reasons_raised() -> set[str]:
    reasons = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        reasons |= set(re.findall(r'reason\s*=\s*(?:None if \w+ else )?"([a-z0-9_]+)"', text))
    return reasons


def test_no_library_hint_names_a_cli_flag_or_command() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}: {text!r}"
        for path in _library_modules()
        for line, text in _hint_texts(path)
        if CLI_WORDS.search(THIRD_PARTY.sub("", text))
    ]
    assert offenders == []


def test_every_front_end_hint_belongs_to_a_reason_the_library_raises() -> None:
    raised = _reasons_raised()
    assert set(CLI_HINTS) <= raised, set(CLI_HINTS) - raised
    assert {reason for _, reason in HTTP_HINTS} <= raised


@pytest.mark.parametrize("reason", sorted(CLI_HINTS))
def test_cli_templates_format_with_their_details(reason: str) -> None:
    fields = set(re.findall(r"{(\w+)}", CLI_HINTS[reason]))
    err = UsageError("x", reason=reason, details={name: f"<{name}>" for name in fields})
    hint = cli_hint(err)
    assert hint is not None and "{" not in hint and all(f"<{name}>" in hint for name in fields)


def test_cli_words_its_own_hint_and_falls_back_to_the_library_hint() -> None:
    exists = OutputExistsError("out.mp4: output file exists")
    assert exists.diagnostics() == "out.mp4: output file exists; allow replacing it (force=True)"
    assert cli_diagnostics(exists) == "out.mp4: output file exists; pass --force to replace it"
    plain = UsageError("bad thing", hint="do the other thing")
    assert cli_diagnostics(plain) == plain.diagnostics() == "bad thing; do the other thing"
    assert cli_diagnostics(UsageError("bare")) == "bare"


def test_service_hints_depend_on_the_endpoint() -> None:
    err = UsageError(
        "clip.webm: WebM cannot embed", reason="container_cannot_embed", hint="sign it into a sidecar manifest"
    )
    assert "'sidecar' part" in (http_hint(err, endpoint="verify") or "")
    assert "remux the clip to MP4 first" in (http_hint(err, endpoint="sign") or "")
    assert http_hint(PassphraseError("k: needs a passphrase", hint="give its passphrase")) == "give its passphrase"
