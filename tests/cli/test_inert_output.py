"""Strings from a file are inert on screen (issue 11, item 1): a clip
signed by an untrusted certificate whose every string is hostile cannot
redraw the card as "verified", hide behind bidi overrides or rich markup,
or bury the verdict under 10,000 characters; the JSON keeps every value.
Through CliRunner, and through a real terminal (a pty)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import hostile
from tests.support.hostile import HostileClips, assert_inert, flat, squeeze

UNTRUSTED = 3
BAD_INPUT = 5


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> HostileClips:
    return hostile.make_hostile_clips(tmp_path_factory.mktemp("hostile"))


def _longest_run(text: str, char: str) -> int:
    return max((len(m) for m in re.findall(f"{re.escape(char)}+", text)), default=0)


def test_the_card_of_a_hostile_clip_stays_untrusted_and_inert(run, clips: HostileClips) -> None:
    result = run("verify", clips.clip)
    assert result.exit_code == UNTRUSTED
    out = result.stdout
    assert_inert(out)
    assert_inert(result.stderr)
    first = out.splitlines()[0]
    assert first.startswith("╭─ ? UNTRUSTED") and "VERIFIED" not in first
    seen = flat(out)
    for needle in hostile.VISIBLE:
        assert squeeze(needle) in seen, needle
    # rich markup from the file is shown as written, not applied
    assert squeeze(hostile.MARKUP) in seen and "[red]x[/]" in seen
    assert squeeze(hostile.HTML) in seen
    # the signer line is cut, and still says no one vouches for it
    assert "claimstobeReuters\\x1b[32m\\u202e" in seen and "notrustedauthorityvouchesforthis" in seen
    # 10,000-character title, organisation and parameter: cut with an ellipsis
    assert _longest_run(out, "L") < 200 and _longest_run(out, "O") < 200 and "…" in out
    assert len(out) < 12_000


def test_json_keeps_every_hostile_value_exactly(run, clips: HostileClips) -> None:
    result = run("verify", clips.clip, "--json")
    assert result.exit_code == UNTRUSTED
    report = json.loads(result.stdout)
    assert report["verdict"] == "untrusted"
    assert report["title"] == hostile.TITLE + hostile.HTML + hostile.LONG
    assert report["signer"]["common_name"] == hostile.CN
    assert report["signer"]["organization"] == hostile.ORG
    assert hostile.OSC8 + hostile.INVISIBLE in report["generator"]
    edited = [a for a in report["actions"] if a["action"].startswith("c2pa.edited")]
    assert edited[0]["action"] == "c2pa.edited" + hostile.SET_WINDOW_TITLE
    assert edited[0]["parameters"] == hostile.PARAMETERS


def test_ingredient_titles_and_file_names_are_inert(run, clips: HostileClips) -> None:
    result = run("verify", clips.chained)
    assert result.exit_code == UNTRUSTED
    assert_inert(result.stdout)
    seen = flat(result.stdout)
    # the parent ingredient's title is the hostile file name it was signed from
    assert squeeze("news\\x1b]2;pwned\\x07\\x1b[31m\\u202e4pm.mp4") in seen
    assert "Ingredientchain" in seen
    report = json.loads(run("verify", clips.chained, "--json").stdout)
    assert report["ingredients"][0]["title"] == hostile.NAME


def test_show_lists_the_chain_inert_and_its_json_keeps_the_values(run, clips: HostileClips) -> None:
    result = run("show", clips.chained)
    assert result.exit_code == 0
    assert_inert(result.stdout)
    seen = flat(result.stdout)
    assert squeeze("news\\x1b]2;pwned\\x07") in seen and "\\x1b[1;32m✔VERIFIED" in seen
    assert "edited\\x1b]2;pwned\\x07" in seen and "note\\u202e=\\u202egnp.exe" in seen
    assert _longest_run(result.stdout, "L") < 200
    found = json.loads(run("show", clips.chained, "--json").stdout)
    assert [e["title"] for e in found["entries"]] == [hostile.TITLE, hostile.NAME]


def test_batch_summary_and_its_failures_are_inert(run, clips: HostileClips, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copyfile(clips.clip, folder / hostile.NAME)
    broken = folder / ("broken" + hostile.SET_WINDOW_TITLE + "\u202e.mp4")
    broken.write_bytes(clips.clip.read_bytes()[:5000])  # cut short: an error with the name in it
    result = run("verify", folder, "-j", "1", "--jsonl", tmp_path / "log.jsonl")
    assert result.exit_code == BAD_INPUT
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    seen = flat(result.stdout)
    assert "broken\\x1b]2;pwned\\x07\\u202e.mp4" in seen
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {Path(r["file"]).name for r in records} == {hostile.NAME, broken.name}


def test_the_progress_bar_shows_no_file_bytes(
    run, clips: HostileClips, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    from provenance.cli import batch as batch_cli

    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copyfile(clips.clip, folder / hostile.NAME)
    shutil.copyfile(clips.chained, folder / "chained.mp4")
    screen = io.StringIO()
    monkeypatch.setattr(batch_cli, "console_err", Console(file=screen, force_terminal=True, width=120))
    run("verify", folder, "-j", "1")
    assert "━" in screen.getvalue()  # the bar was drawn
    assert "pwned" not in screen.getvalue() and "\u202e" not in screen.getvalue()


def test_an_error_naming_a_hostile_file_is_one_inert_line(run, tmp_path: Path) -> None:
    bad = tmp_path / ("clip" + hostile.SET_WINDOW_TITLE + "\x1b[2J\u202e[bold red]x.mp4")
    bad.write_bytes(b"not a video at all")
    for args in (("verify", bad), ("sign", bad, "-o", tmp_path / "out.mp4")):
        result = run(*args)
        assert result.exit_code == BAD_INPUT, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
        assert_inert(result.stderr)
        assert "clip\\x1b]2;pwned\\x07\\x1b[2J\\u202e[bold red]x.mp4" in lines[0]


def test_box_types_from_a_malformed_file_are_shown_escaped(run, make_clip, tmp_path: Path) -> None:
    # A real clip, then a box whose type is ESC [ 2 J and whose size runs past the end of the file.
    clip = make_clip("mp4")
    with open(clip, "ab") as fh:
        fh.write((4096).to_bytes(4, "big") + b"\x1b[2J" + b"\x00" * 64)
    result = run("sign", clip, "-o", tmp_path / "out.mp4")
    assert result.exit_code == BAD_INPUT, result.output
    assert_inert(result.stderr)
    assert "'\\x1b[2J' box" in result.stderr


def _run_in_pty(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run provenance with stdout and stderr on a real terminal (a pty)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "from provenance.cli import main; raise SystemExit(main())", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                raise AssertionError("no output for 60 s")
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        code = process.wait(timeout=60)
    return code, b"".join(chunks).decode("utf-8")


def test_on_a_real_terminal_the_card_is_coloured_by_rich_only(run, clips: HostileClips) -> None:
    env = {**os.environ, **run.env, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    code, screen = _run_in_pty(["verify", str(clips.clip)], env)
    assert code == UNTRUSTED
    assert "\x1b[" in screen  # rich did colour it: this is a terminal
    assert_inert(screen, terminal=True)  # and every other escape is gone
    for sequence in ("\x1b[2K", "\x1b[1A", "\x1b]8;;", "\x1b]2;", "\u202e"):
        assert sequence not in screen
    seen = flat(screen)
    assert seen.startswith("?UNTRUSTED")
    assert "\\x1b[1;32m✔VERIFIED" in seen and squeeze(hostile.MARKUP) in seen


# --- fields that c2pa-rs or the trust store fill in: rendered from a report ---

EVIL = "\x1b[2K\x1b[1A[bold green]✔ VERIFIED[/]\u202e" + "E" * 5000


def _screen(renderable: object) -> str:
    import io

    from rich.console import Console

    screen = io.StringIO()
    Console(file=screen, width=160, force_terminal=False, emoji=False).print(renderable)
    return screen.getvalue()


def test_every_report_field_on_the_card_is_inert() -> None:
    """Status codes and explanations (an ingredient's come from the file),
    notes, policy failures, the TSA's name, trust source names, the sidecar
    name and an error: the card shows each inert and bounded."""
    from provenance.cli.render import card, fragments_card, headline
    from provenance.verification.fragments import FragmentedReport, SegmentResult
    from provenance.verification.report import (
        Action,
        Ingredient,
        SignerIdentity,
        Status,
        StatusKind,
        TimeStampInfo,
        Verdict,
        VerificationReport,
    )

    failure = Status(code="assertion.hashedURI.mismatch" + EVIL, kind=StatusKind.FAILURE, explanation=EVIL)
    signer = SignerIdentity(common_name=EVIL, organization=EVIL, issuer=EVIL, trusted_by=EVIL, email=EVIL)
    node = Ingredient(
        title=EVIL,
        relationship=EVIL,
        verdict=Verdict.TAMPERED,
        signer=signer,
        signed_at=EVIL,
        actions=(Action(EVIL, parameters={EVIL: EVIL}),),
        digital_source_type=EVIL,
        status=(failure,),
    )
    report = VerificationReport(
        file=EVIL,
        verdict=Verdict.WRONG_SIGNER,
        signer=signer,
        signed_at=EVIL,
        generator=EVIL,
        title=EVIL,
        actions=(Action(EVIL, digital_source_type=EVIL, parameters={"k": EVIL}),),
        digital_source_type=EVIL,
        ingredients=(node,),
        status=(failure,),
        credentials_source="sidecar",
        notes=(EVIL,),
        sidecar=EVIL,
        chain_summary=EVIL,
        chain_verdict=Verdict.TAMPERED,
        policy_failures=(EVIL,),
        timestamp=TimeStampInfo(time=EVIL, authority=EVIL, trusted=True, trusted_by=EVIL),
    )
    error = VerificationReport(file=EVIL, verdict=Verdict.ERROR, error=EVIL)
    fragments = FragmentedReport(
        init=EVIL,
        verdict=Verdict.TAMPERED,
        manifest=report,
        missing=(3,),
        segments=(
            SegmentResult(file=EVIL, verdict=Verdict.TAMPERED, sequence_number=1, failures=(failure,)),
            SegmentResult(file=EVIL, verdict=Verdict.ERROR, sequence_number=2, error=EVIL),
        ),
    )
    for shown in (
        card(report, verbose=True),
        card(error),
        headline(report),
        headline(error),
        fragments_card(fragments),
    ):
        out = _screen(shown)
        assert_inert(out)
        assert "\\x1b[2K\\x1b[1A" in out and "\\u202e" in out
        assert squeeze("[bold green]✔ VERIFIED[/]") in flat(out)
        assert _longest_run(out, "E") < 2000
    assert _screen(card(report)).splitlines()[0].startswith("╭─ ✗ WRONG SIGNER")


def test_keys_check_shows_a_hostile_certificate_subject_inert(run, tmp_path: Path) -> None:
    from provenance.identity.certificates import Subject, pem
    from tests.certfactory import MiniCA

    ca = MiniCA.make("Hostile Org")
    _, leaf = ca.leaf(subject=Subject(hostile.CN, hostile.ORG, "US"), days=2000)  # too long: a finding
    chain = tmp_path / "chain.pem"
    chain.write_bytes(pem(leaf, ca.issuing))
    result = run("keys", "check", chain)
    assert result.exit_code == 6, result.output
    assert_inert(result.output)
    assert "Reuters\\x1b[32m\\u202e" in result.output and squeeze(hostile.MARKUP) in flat(result.output)
