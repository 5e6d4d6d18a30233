"""Walking the inputs of a batch, and where its outputs may go."""

from __future__ import annotations

import io
import os
from pathlib import Path, PurePosixPath

import pytest

from provenance.batch import collect_inputs, output_path, prepare_parent
from provenance.errors import UsageError


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "clips"
    for name in ("a.mp4", "b.MOV", "notes.txt", "day1/c.m4v", "day1/raw/d.avi", "day1/e.mkv", "day2/f.mp4"):
        touch(root / name, b"12345")
    return root


def rel(found) -> list[str]:
    return [i.relative.as_posix() for i in found.inputs]


def test_a_folder_is_walked_recursively_for_supported_videos_in_a_stable_order(tree: Path) -> None:
    found = collect_inputs([tree])
    assert rel(found) == ["a.mp4", "b.MOV", "day1/c.m4v", "day1/raw/d.avi", "day2/f.mp4"]
    assert found.inputs[0].path == tree / "a.mp4"
    assert found.total_bytes == 25


def test_include_and_exclude_globs(tree: Path) -> None:
    assert rel(collect_inputs([tree], include=["*.mkv"])) == ["day1/e.mkv"]
    assert rel(collect_inputs([tree], include=["*"], exclude=["*.txt", "day1/*"])) == ["a.mp4", "b.MOV", "day2/f.mp4"]
    assert rel(collect_inputs([tree], include=["**/d.avi"])) == ["day1/raw/d.avi"]
    assert rel(collect_inputs([tree], include=["**/a.mp4"])) == ["a.mp4"]  # **/ also matches the top level
    assert rel(collect_inputs([tree], exclude=["raw/*", "day2/*"])) == [
        "a.mp4",
        "b.MOV",
        "day1/c.m4v",
        "day1/raw/d.avi",
    ]


def test_named_files_are_taken_as_they_are_even_missing_and_only_once(tree: Path, tmp_path: Path) -> None:
    found = collect_inputs([tree / "notes.txt", tmp_path / "missing.mp4", tree / "a.mp4", tree], include=["*.mp4"])
    assert [str(i.path) for i in found.inputs] == [
        str(tree / "notes.txt"),
        str(tmp_path / "missing.mp4"),
        str(tree / "a.mp4"),
        str(tree / "day2/f.mp4"),
    ]
    assert found.inputs[1].size == 0
    assert found.inputs[0].relative == PurePosixPath("notes.txt")


def test_dash_reads_paths_from_stdin_once(tree: Path) -> None:
    stdin = io.StringIO(f"{tree / 'a.mp4'}\n\n{tree / 'day2'}\r\n")
    found = collect_inputs(["-", "-"], stdin=stdin)
    assert [str(i.path) for i in found.inputs] == [str(tree / "a.mp4"), str(tree / "day2/f.mp4")]


def test_symlinks_never_lead_out_of_a_root(tree: Path, tmp_path: Path) -> None:
    outside = touch(tmp_path / "secret" / "private.mp4")
    os.symlink(outside, tree / "leak.mp4")
    os.symlink(outside.parent, tree / "leakdir")
    os.symlink(tree / "a.mp4", tree / "day2" / "alias.mp4")  # inside the root: fine
    os.symlink(tmp_path / "nowhere.mp4", tree / "broken.mp4")
    found = collect_inputs([tree])
    assert "day2/alias.mp4" in rel(found)
    assert not any("private" in str(i.path) or "leak" in str(i.path) for i in found.inputs)
    reasons = {p.path.name: r for p, r in ((s, s.reason) for s in found.skipped)}
    assert reasons["leak.mp4"].startswith("symlink leads out of")
    assert reasons["leakdir"] == "symlinked folder, not followed"
    assert reasons["broken.mp4"] == "broken symlink"


def test_a_folder_to_avoid_is_not_entered(tree: Path) -> None:
    assert rel(collect_inputs([tree], avoid=[tree / "day1"])) == ["a.mp4", "b.MOV", "day2/f.mp4"]


@pytest.mark.parametrize("bad", ["../x.mp4", "/etc/x.mp4", "a/../../x.mp4", "."])
def test_output_paths_cannot_climb_out(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UsageError):
        output_path(tmp_path / "out", PurePosixPath(bad))


def test_output_path_keeps_the_layout(tmp_path: Path) -> None:
    assert output_path(tmp_path / "out", PurePosixPath("day1/raw/d.avi")) == tmp_path / "out" / "day1" / "raw" / "d.avi"


def test_prepare_parent_creates_folders_but_refuses_a_planted_symlink(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    prepare_parent(out, out / "a" / "b" / "clip.mp4")
    assert (out / "a" / "b").is_dir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "day1")
    with pytest.raises(UsageError, match="symlink inside the output folder"):
        prepare_parent(out, out / "day1" / "deeper" / "clip.mp4")
    assert not (elsewhere / "deeper").exists()
