"""End to end with the real fingerprint: signed clips registered from
files, copies made as platforms make them, looked up by content."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.identity.signer import KeySigner
from provenance.repository import Repository, open_repository
from provenance.repository.clips import lookup_clip, register_clip
from provenance.signing import sign
from provenance.trust.store import TrustStore
from tests.support.scenes import make_scene_clip
from tests.support.transforms import apply


@pytest.fixture(scope="module")
def registered(
    tmp_path_factory: pytest.TempPathFactory, signer: KeySigner, trust: TrustStore
) -> Iterator[tuple[Repository, dict[int, Path], dict[int, str]]]:
    folder = tmp_path_factory.mktemp("recovery")
    repo = open_repository(str(folder / "repository.sqlite"), create=True)
    clips, labels = {}, {}
    for seed, seconds in ((11, 16.0), (12, 8.0), (13, 8.0)):
        clip = make_scene_clip(folder / f"scene{seed}.mp4", seed=seed, seconds=seconds)
        clips[seed] = sign(clip, folder / f"scene{seed}.signed.mp4", signer=signer).output
        reg = register_clip(repo, clips[seed], trust=trust)
        assert reg.fingerprinted and reg.hashes >= seconds - 1
        labels[seed] = reg.manifest_id
    yield repo, clips, labels
    repo.close()


@pytest.mark.parametrize("transform", ["crop5", "excerpt", "360p", "logo"])
def test_a_platform_copy_finds_its_signed_original(
    registered: tuple[Repository, dict[int, Path], dict[int, str]], tmp_path: Path, transform: str
) -> None:
    repo, clips, labels = registered
    copy, start, end = apply(transform, clips[11], tmp_path)
    found = lookup_clip(repo, copy)
    assert found, transform
    assert found[0].manifest_id == labels[11]
    assert all(c.manifest_id == labels[11] for c in found)  # the other scenes are not matches
    assert found[0].start == pytest.approx(start, abs=1.0) and found[0].end == pytest.approx(end, abs=1.5)
    assert found[0].signer.name == "Jane Doe"


def test_the_other_scenes_are_told_apart(
    registered: tuple[Repository, dict[int, Path], dict[int, str]], tmp_path: Path
) -> None:
    repo, clips, labels = registered
    for seed in (12, 13):
        copy, _, _ = apply("h264-low", clips[seed], tmp_path, stem=f"s{seed}")
        assert [c.manifest_id for c in lookup_clip(repo, copy)][:1] == [labels[seed]]
    unrelated = make_scene_clip(tmp_path / "unrelated.mp4", seed=99, seconds=8.0)
    assert lookup_clip(repo, unrelated) == []
