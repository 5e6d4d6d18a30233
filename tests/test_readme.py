"""README.md's runnable command blocks, run as a new user would run them.

A block is runnable when the line before its ```console fence is
``<!-- runnable -->``. Every ``$ `` line of the runnable blocks runs in
order, in one fresh folder (later blocks use what earlier ones made), with
its own HOME and trust store and this test run's environment's
``provenance`` first on PATH. Each must exit 0, or N when the line ends with
``# exit N``. ``make demo`` runs as ``provenance demo`` (what it runs after
installing); ``make test`` is never a runnable line (it would start this
suite again).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

README = REPO / "README.md"
MARKER = "<!-- runnable -->"
EXPECTED_EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
# what a README line stands for when the test runs it
SUBSTITUTES = {"make demo": "provenance demo"}


def runnable_commands(text: str) -> list[str]:
    """The ``$ `` lines of every block marked runnable, in order."""
    lines = text.splitlines()
    commands: list[str] = []
    for index, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        fence = lines[index + 1] if index + 1 < len(lines) else ""
        assert fence.startswith("```console"), f"README line {index + 2}: {MARKER} must precede a ```console block"
        for body in lines[index + 2 :]:
            if body.startswith("```"):
                break
            if body.startswith("$ "):
                commands.append(body[2:].strip())
    return commands


def test_the_parser_finds_blocks_and_expected_codes() -> None:
    text = "\n".join(
        [
            "intro",
            MARKER,
            "```console",
            "$ provenance keys init",
            "output line",
            "$ provenance verify x  # exit 4",
            "```",
            "```console",
            "$ not runnable",
            "```",
        ]
    )
    assert runnable_commands(text) == ["provenance keys init", "provenance verify x  # exit 4"]
    with pytest.raises(AssertionError, match="must precede"):
        runnable_commands(f"{MARKER}\n```\n$ x\n```")


def test_readme_commands_run(tmp_path: Path) -> None:
    commands = runnable_commands(README.read_text(encoding="utf-8"))
    # the walk-throughs for the three kinds of user are all there
    assert len(commands) >= 10 and "make test" not in commands
    assert any(c.startswith("provenance sign ") for c in commands)
    assert any(c.startswith("provenance verify ") and "# exit" in c for c in commands)

    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROVENANCE_", "XDG_"))}
    env.update(
        {
            "HOME": str(home),
            "PROVENANCE_TRUST_DIR": str(home / "trust"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "COLUMNS": "120",
        }
    )
    for command in commands:
        match = EXPECTED_EXIT.search(command)
        expected = int(match.group(1)) if match else 0
        run = SUBSTITUTES.get(command, command)
        result = subprocess.run(
            ["bash", "-c", run], cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == expected, (
            f"README: `{command}` exited {result.returncode}, expected {expected}\n"
            f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
        )
        assert "Traceback" not in result.stderr, result.stderr
    # what the walk-throughs promise they leave behind
    assert (work / "clip.signed.mp4").is_file() and (work / "report.json").is_file()
    assert len((work / "reports.jsonl").read_text().splitlines()) == 2


def _slug(heading: str) -> str:
    """The anchor GitHub and MkDocs give a heading (for the headings used here)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return re.sub(r"[\s]+", "-", text)


def test_readme_links_reach_pages_and_headings() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?!https?:)[^)#\s]+)(?:#([^)\s]+))?\)", text)
    assert len(links) >= 20
    for target, anchor in links:
        page = REPO / target
        assert page.is_file(), f"README links to {target}, which does not exist"
        assert page.resolve().is_relative_to(REPO), f"README links to {target}, outside the repository"
        if anchor:
            headings = re.findall(r"^#{1,6} (.+)$", page.read_text(encoding="utf-8"), re.M)
            assert anchor in {_slug(h) for h in headings}, f"README links to {target}#{anchor}: no such heading"
    # no link escapes the check above: every link is http(s) or a file checked there
    every = re.findall(r"\]\(([^)]*)\)", text)
    unchecked = [t for t in every if not re.match(r"https?://\S+$", t) and not re.match(r"[^)#\s]+(#\S+)?$", t)]
    assert unchecked == [], f"README links the test cannot check: {unchecked}"
    assert not re.search(r"^\s*\[[^\]]+\]:\s", text, re.M) and "href=" not in text  # reference links, raw HTML
    # the docs pages README points at are in the site's navigation, so `make docs` builds them
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for target, _ in links:
        if target.startswith("docs/") and target.endswith(".md"):
            assert target.removeprefix("docs/") in nav, f"README links to {target}, which mkdocs.yml does not list"
