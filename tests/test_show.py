"""``provenance show``: the numbered chain and its thumbnails: the active
manifest's own claim thumbnail, and each ingredient's (the parent's claim
thumbnail when it had one, else a PyAV keyframe)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.edit import remux, transcode
from provenance.errors import InputError, UsageError
from provenance.identity.signer import KeySigner
from provenance.media.video import thumbnail_jpeg
from provenance.show import extract_thumbnail, inspect
from provenance.trust.store import TrustStore

JPEG = b"\xff\xd8\xff"


@pytest.fixture
def edited(signed_clip: Path, signer: KeySigner, trust: TrustStore, tmp_path: Path) -> Path:
    return transcode(signed_clip, tmp_path / "edited.mp4", signer=signer, trust=trust, height=120).output


def test_show_numbers_the_chain(edited: Path, run) -> None:
    result = run("show", edited)
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "[0] edited.mp4" in out and "[1] signed.mp4 [parentOf]" in out
    assert "thumbnail: image/jpeg" in out
    data = json.loads(run("show", edited, "--json").output)
    assert [(e["index"], e["depth"], e["title"]) for e in data["entries"]] == [
        (0, 0, "edited.mp4"),
        (1, 1, "signed.mp4"),
    ]
    assert data["entries"][1]["verdict"] == "verified"


def test_thumbnails_come_out_of_the_store(edited: Path, signed_clip: Path, run, tmp_path: Path) -> None:
    active = tmp_path / "active.jpg"
    result = run("show", edited, "--thumbnail", active)
    assert result.exit_code == 0, result.output
    assert active.read_bytes().startswith(JPEG)
    parent = extract_thumbnail(edited, tmp_path / "parent.jpg", index=1)
    # The ingredient thumbnail is the parent's own claim thumbnail, byte for byte.
    own = extract_thumbnail(signed_clip, tmp_path / "own.jpg", index=0)
    assert parent.output.read_bytes() == own.output.read_bytes()
    assert parent.title == "signed.mp4" and parent.format == "image/jpeg"


def test_an_unsigned_parent_gets_a_keyframe_thumbnail(make_clip, signer: KeySigner, tmp_path: Path) -> None:
    src = make_clip("mov")
    out = remux(src, tmp_path / "out.mp4", signer=signer).output
    extracted = extract_thumbnail(out, tmp_path / "parent.jpg", index=1).output.read_bytes()
    assert extracted == thumbnail_jpeg(src)


def test_bad_thumbnail_requests(edited: Path, run, tmp_path: Path, corpus: Path) -> None:
    missing_index = run("show", edited, "--thumbnail", tmp_path / "x.jpg", "--ingredient", "7")
    assert missing_index.exit_code == 2 and "no such entry" in missing_index.output
    exists = tmp_path / "exists.jpg"
    exists.write_bytes(b"keep")
    again = run("show", edited, "--thumbnail", exists)
    assert again.exit_code == 2 and exists.read_bytes() == b"keep"
    # c2patool's video1.mp4 carries no thumbnails.
    with pytest.raises(InputError, match="has no thumbnail"):
        extract_thumbnail(corpus / "signed" / "video1.mp4", tmp_path / "none.jpg")
    with pytest.raises(UsageError):
        extract_thumbnail(edited, tmp_path / "neg.jpg", index=-1)


def test_show_without_credentials_is_a_bad_input(make_clip, run) -> None:
    result = run("show", make_clip("mp4"))
    assert result.exit_code == 5 and "no content credentials" in result.output


def test_inspect_reads_sidecars(signer: KeySigner, tmp_path: Path) -> None:
    from provenance.media.video import make_sample_clip
    from provenance.signing import sign_sidecar

    clip = make_sample_clip(tmp_path / "clip.webm", seconds=0.5, width=64, height=48, audio=False)
    sign_sidecar(clip, signer=signer)
    found = inspect(clip)
    assert found.report.credentials_source == "sidecar"
    assert extract_thumbnail(clip, tmp_path / "t.jpg").output.read_bytes().startswith(JPEG)


def flat(text: str) -> str:
    """CLI output as one line: the card wraps at the terminal's width."""
    return " ".join(text.replace("│", " ").split())
