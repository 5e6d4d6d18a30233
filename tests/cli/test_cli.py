"""The CLI through click's CliRunner: exit codes, one-line errors, JSON."""

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from provenance.media import boxes
from tests.conftest import CORPUS, sha256

BAD_INPUT = 5


def _one_line_error(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    assert lines[0].startswith("error:")
    return lines[0]


def test_keys_init_writes_a_pki_and_refuses_to_overwrite(run, tmp_path: Path) -> None:
    d = tmp_path / "keys"
    result = run("keys", "init", "--dir", d, "--name", "Ana Lima", "--org", "Folha", "--country", "BR")
    assert result.exit_code == 0, result.output
    assert "PRIVATE KEY" not in result.output
    assert stat.S_IMODE((d / "signer.key").stat().st_mode) == 0o600
    again = run("keys", "init", "--dir", d)
    assert again.exit_code == 2 and "--force" in _one_line_error(again.output)
    assert run("keys", "init", "--dir", d, "--force").exit_code == 0


def test_keys_init_encrypts_with_passphrase_env_and_sign_needs_it(run, make_clip, tmp_path: Path) -> None:
    d = tmp_path / "enc"
    run.env["KEYPASS"] = "s3cret"
    assert run("keys", "init", "--dir", d, "--passphrase-env", "KEYPASS").exit_code == 0
    assert b"ENCRYPTED" in (d / "signer.key").read_bytes()
    clip = make_clip("mp4")
    out = tmp_path / "o.mp4"
    no_pass = run("sign", clip, "-o", out, "--keys-dir", d)
    assert no_pass.exit_code == 6 and "passphrase" in _one_line_error(no_pass.output)
    run.env["KEYPASS"] = "wrong"
    wrong = run("sign", clip, "-o", out, "--keys-dir", d, "--passphrase-env", "KEYPASS")
    assert wrong.exit_code == 6 and "wrong passphrase" in _one_line_error(wrong.output)
    assert not out.exists()
    run.env["KEYPASS"] = "s3cret"
    assert run("sign", clip, "-o", out, "--keys-dir", d, "--passphrase-env", "KEYPASS").exit_code == 0


def test_world_readable_key_is_refused(run, make_clip, pki, tmp_path: Path) -> None:
    key = tmp_path / "loose.key"
    shutil.copyfile(pki.signer_key, key)
    os.chmod(key, 0o644)
    result = run("sign", make_clip("mp4"), "-o", tmp_path / "o.mp4", "--key", key, "--cert", pki.chain)
    assert result.exit_code == 6 and "chmod 600" in _one_line_error(result.output)


def test_sign_then_verify_card_and_exit_codes(run, make_clip, tmp_path: Path) -> None:
    clip = make_clip("mov")
    out = tmp_path / "signed.mov"
    signed = run("sign", clip, "-o", out, "--source", "ai", "--title", "Teaser")
    assert signed.exit_code == 0, signed.output
    card = run("verify", out)
    assert card.exit_code == 0
    for text in ("VERIFIED", "Jane Doe", "Example News Dev Issuing CA", "development root", "AI-generated", "Teaser"):
        assert text in card.output
    assert "signer's own clock" in card.output


def test_verify_json_and_every_exit_code(run, make_clip, pki, tmp_path: Path) -> None:
    clip = make_clip("mp4")
    out = tmp_path / "s.mp4"
    assert run("sign", clip, "-o", out).exit_code == 0
    doc = json.loads(run("verify", out, "--json").output)
    assert doc["verdict"] == "verified" and doc["signer"]["common_name"] == "Jane Doe"
    assert run("verify", clip).exit_code == 4  # unsigned
    other = tmp_path / "otherkeys"
    run("keys", "init", "--dir", other)  # its root replaces the development root in the trust store
    untrusted = run("verify", out, "--json")
    assert untrusted.exit_code == 3 and json.loads(untrusted.output)["verdict"] == "untrusted"
    pinned = run("verify", out, "--allowed", pki.signer_cert)
    assert pinned.exit_code == 0 and "(pinned)" in pinned.output
    with open(out, "r+b") as fh:
        fh.seek(boxes.media_data_offset(out) + 10)
        fh.write(b"\x00\x01\x02")
    tampered = run("verify", out)
    assert (
        tampered.exit_code == 1 and "TAMPERED" in tampered.output and "assertion.bmffHash.mismatch" in tampered.output
    )


def test_verify_verbose_lists_success_codes(run, signed_clip: Path) -> None:
    plain = run("verify", signed_clip)
    verbose = run("verify", signed_clip, "-v")
    assert "claimSignature.validated" in verbose.output and "claimSignature.validated" not in plain.output


def _bad_inputs(tmp_path: Path, clip: Path, corpus_dir: Path | None) -> dict[str, Path]:
    bad = {}
    bad["random"] = tmp_path / "random.mp4"
    bad["random"].write_bytes(os.urandom(4096))
    bad["truncated"] = tmp_path / "truncated.mp4"
    bad["truncated"].write_bytes(clip.read_bytes()[:3000])
    bad["empty"] = tmp_path / "empty.mp4"
    bad["empty"].touch()
    bad["missing"] = tmp_path / "missing.mp4"
    bad["text"] = tmp_path / "notes.avi"
    bad["text"].write_text("hello, this is not a video\n" * 10)
    if corpus_dir is not None:
        bad["nested"] = corpus_dir / "malformed/nested_moov_1000.mp4"
    return bad


@pytest.mark.parametrize("command", ["verify", "sign"])
def test_bad_inputs_give_one_line_and_exit_5(command: str, run, make_clip, tmp_path: Path) -> None:
    corpus_dir = CORPUS if CORPUS.is_dir() else None  # nested_moov_1000.mp4 joins when the corpus is there
    for name, path in _bad_inputs(tmp_path, make_clip("mp4"), corpus_dir).items():
        before = sha256(path) if path.exists() else None
        args = [command, path] + (["-o", tmp_path / f"out-{name}.mp4"] if command == "sign" else [])
        result = run(*args)
        assert result.exit_code == BAD_INPUT, (name, result.output)
        _one_line_error(result.output)
        if before is not None:
            assert sha256(path) == before
        assert not (tmp_path / f"out-{name}.mp4").exists()


def test_webm_is_refused_with_the_supported_list(run, tmp_path: Path) -> None:
    from provenance.media.video import make_sample_clip

    webm = make_sample_clip(tmp_path / "c.webm", seconds=0.2, codec="libvpx", audio=False)
    result = run("sign", webm, "-o", tmp_path / "o.webm")
    assert result.exit_code == BAD_INPUT
    assert "MP4, MOV, M4V, AVI" in _one_line_error(result.output)


def test_sign_refusals_exit_2(run, make_clip, tmp_path: Path) -> None:
    clip = make_clip("mp4")
    same = run("sign", clip, "-o", clip)
    assert same.exit_code == 2 and "output is the input" in _one_line_error(same.output)
    existing = tmp_path / "exists.mp4"
    existing.write_bytes(b"x")
    refused = run("sign", clip, "-o", existing)
    assert refused.exit_code == 2 and "--force" in _one_line_error(refused.output)


def test_demo_runs_end_to_end(run, tmp_path: Path) -> None:
    result = run("demo", "--out", tmp_path / "demo", "--keys-dir", tmp_path / "demokeys")
    assert result.exit_code == 0, result.output
    summary = result.output.split("Summary", 1)[1]
    for line in ("signed", "verified", "tampered", "no_credentials"):
        assert line in summary
    assert "✗" not in summary
    assert (tmp_path / "demo" / "clip.signed.mp4").exists()


def test_a_file_that_is_no_key_is_said_to_be_that(run, make_clip, pki, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    photo.chmod(0o644)
    result = run("sign", make_clip("mp4"), "-o", tmp_path / "out.mp4", "--key", photo, "--cert", pki.chain)
    assert result.exit_code == 6 and "not a PEM private key" in result.output and "permission" not in result.output


def test_piped_output_is_not_wrapped_at_80_columns(tmp_path: Path, signed_clip: Path, pki) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    command = [
        str(Path(sys.executable).parent / "provenance"),
        "verify",
        str(signed_clip),
        "--trust",
        str(pki.root_cert),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    # the headline sentence stays on one line, and the card is as wide as its longest line
    [signed_at] = [line for line in done.stdout.splitlines() if "Signed at" in line]
    assert "(signer's own clock, not time-stamped)" in signed_at and len(signed_at) > 80
    assert len({len(line) for line in done.stdout.splitlines() if line.startswith("│")}) == 1
