"""`provenance repo` on real signed clips, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.identity.signer import KeySigner
from provenance.media.video import make_sample_clip
from provenance.signing import sign
from tests.conftest import CLI
from tests.helpers import tampered_copy
from tests.repository.clips import make_content_clip, platform_copy


@pytest.fixture
def signed_pair(tmp_path: Path, signer: KeySigner) -> tuple[Path, Path]:
    """Two signed clips of different content."""
    out = []
    for seed in (1, 2):
        clip = make_content_clip(tmp_path / f"c{seed}.mp4", seed=seed)
        out.append(sign(clip, tmp_path / f"c{seed}.signed.mp4", signer=signer).output)
    return out[0], out[1]


def test_add_lookup_stats_round_trip(
    run: CLI, repo_location: str, signed_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    first, second = signed_pair
    assert run("repo", "init", "--repo", repo_location).exit_code == 0
    added = run("repo", "add", first, "--repo", repo_location, "--json")
    assert added.exit_code == 0, added.output
    reg = json.loads(added.output)
    assert reg["created"] and reg["fingerprinted"] and reg["hashes"] >= 5
    assert run("repo", "add", second, "--repo", repo_location).exit_code == 0

    again = run("repo", "add", first, "--repo", repo_location)
    assert again.exit_code == 0 and "already registered" in again.output

    # the copy a platform makes: re-encoded, credentials gone
    copy = platform_copy(first, tmp_path / "copy.mp4")
    found = run("repo", "lookup", copy, "--repo", repo_location, "--json")
    assert found.exit_code == 0, found.output
    candidates = json.loads(found.output)["candidates"]
    assert candidates[0]["manifest_id"] == reg["manifest_id"]
    assert candidates[0]["signer"]["name"] == "Jane Doe" and candidates[0]["signer"]["organization"] == "Example News"
    assert all(c["manifest_id"] == reg["manifest_id"] for c in candidates)  # the other clip is not a match

    shown = run("repo", "lookup", copy, "--repo", repo_location)
    assert shown.exit_code == 0 and reg["manifest_id"] in shown.output and "Jane Doe" in shown.output

    stats = json.loads(run("repo", "stats", "--repo", repo_location, "--json").output)
    assert stats["manifests"] == 2 and stats["fingerprinted"] == 2 and stats["hashes"] >= 10


def test_lookup_of_unregistered_content_is_exit_4(
    run: CLI, repo_location: str, signed_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    run("repo", "add", signed_pair[0], "--repo", repo_location)
    other = make_content_clip(tmp_path / "other.mp4", seed=99)
    result = run("repo", "lookup", other, "--repo", repo_location)
    assert result.exit_code == 4 and "no signed clip" in result.output


def test_short_clip_is_registered_without_fingerprint_and_says_so(run: CLI, signed_clip: Path, tmp_path: Path) -> None:
    location = str(tmp_path / "r.sqlite")
    result = run("repo", "add", signed_clip, "--repo", location)  # a 1 s clip
    assert result.exit_code == 0, result.output
    assert "without a fingerprint" in result.output and "cannot be matched" in result.output
    reg = json.loads(run("repo", "add", signed_clip, "--repo", location, "--json").output)
    assert not reg["created"] and not reg["fingerprinted"] and reg["reason"]


def test_unsigned_and_tampered_clips_are_refused(run: CLI, signed_pair: tuple[Path, Path], tmp_path: Path) -> None:
    location = str(tmp_path / "r.sqlite")
    unsigned = make_sample_clip(tmp_path / "plain.mp4", seconds=3)
    result = run("repo", "add", unsigned, "--repo", location)
    assert result.exit_code == 5 and "no content credentials" in result.output
    tampered = tampered_copy(signed_pair[0], tmp_path / "tampered.mp4")
    result = run("repo", "add", tampered, "--repo", location)
    assert result.exit_code == 5 and "not registered" in result.output
    assert json.loads(run("repo", "stats", "--repo", location, "--json").output)["manifests"] == 0


def test_repository_errors_are_one_line_exit_9(run: CLI, tmp_path: Path, signed_pair: tuple[Path, Path]) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 100)
    for args in (
        ("repo", "stats", "--repo", junk),
        ("repo", "lookup", signed_pair[0], "--repo", tmp_path / "missing.sqlite"),
        ("repo", "add", signed_pair[0], "--repo", "postgresql://u:pw@127.0.0.1:1/none"),
    ):
        result = run(*args)
        assert result.exit_code == 9, (args, result.output)
        assert result.output.count("\n") == 1 and "error:" in result.output and "Traceback" not in result.output
        assert "pw@" not in result.output


def test_a_clip_with_a_sidecar_store_is_registered(run: CLI, signer: KeySigner, tmp_path: Path) -> None:
    from provenance.signing import sign_sidecar
    from tests.support.scenes import make_scene_clip

    clip = make_scene_clip(tmp_path / "scene.mp4", seed=21, seconds=5.0, audio=False)
    result = sign_sidecar(clip, signer=signer)
    store = Path(result.output)
    location = str(tmp_path / "r.sqlite")
    added = run("repo", "add", clip, "--manifest", store, "--repo", location, "--json")
    assert added.exit_code == 0, added.output
    reg = json.loads(added.output)
    assert reg["manifest_id"] == result.manifest_id and reg["fingerprinted"]
    from provenance.repository import open_repository

    with open_repository(location) as repo:
        stored = repo.manifest(result.manifest_id)
    assert stored is not None and stored.store == store.read_bytes()  # the sidecar's bytes, as they are
