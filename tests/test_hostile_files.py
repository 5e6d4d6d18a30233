"""Hostile files, names and folders (issue 11, items 2, 3, 5, 6 and 7):
Latin-1 metadata, streams without a decoder, long names, full and read-only
disks, FIFOs, killed runs, a folder swapped for a symlink mid-batch, racing
writers, dangling symlinks and garbled signatures. Real clips, real
signing, real processes, real mounts (skipped where mounting is not
permitted)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from provenance import _files
from provenance.batch import SignJob, collect_inputs, run_sign_job
from provenance.errors import IdentityError, OutputExistsError
from provenance.identity.signer import KeySigner
from provenance.media import video
from provenance.media.video import make_sample_clip
from provenance.signing import sign
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.conftest import sha256

KMS_SCRIPT = Path(__file__).resolve().parent / "sign_with_key_file.py"
CLI = [str(Path(sys.executable).parent / "provenance")]


def _cli(*args: str | Path, env: dict[str, str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    """The real command in a child process: a hang fails the test (timeout)
    instead of hanging it."""
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout, **kwargs)


@pytest.fixture
def env(pki, _isolated_trust_dir: Path) -> dict[str, str]:
    """The CLI's environment, with the dev root registered as 'keys init' leaves it."""
    from provenance.trust.assembly import register_development_root

    register_development_root(pki.root_cert, trust_dir=_isolated_trust_dir)
    return {**os.environ, "PROVENANCE_KEYS_DIR": str(pki.directory), "COLUMNS": "200"}


def _one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --- item 2: exit 70 on hostile input ---------------------------------------


def _avi_with_title(path: Path, title: str) -> Path:
    """A real AVI whose RIFF INFO chunk holds *title* (written by FFmpeg)."""
    src = make_sample_clip(path.with_suffix(".src.avi"), seconds=0.5, audio=False)
    with av.open(str(src)) as inp, av.open(str(path), "w") as out:
        out.metadata["title"] = title
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    src.unlink()
    return path


def test_avi_whose_info_title_is_latin1_signs_and_transcodes(tmp_path: Path, signer, trust, env) -> None:
    clip = _avi_with_title(tmp_path / "old.avi", "Cafe Noir")
    data = bytearray(clip.read_bytes())
    at = data.index(b"Cafe Noir")
    data[at + 3] = 0xE9  # "Café Noir" as an older tool writes it: Latin-1, not UTF-8
    clip.write_bytes(bytes(data))
    with video.open_media(clip) as container:
        assert container.metadata["title"] == "Café Noir"  # read as Latin-1, not replaced or refused
    out = sign(clip, tmp_path / "old.signed.avi", signer=signer).output
    assert verify(out, trust=trust).verdict is Verdict.VERIFIED
    result = _cli("transcode", clip, "-o", tmp_path / "old.mp4", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "old.mp4").stat().st_size > 0


def _without_stbl(clip: Path, dest: Path) -> Path:
    data = bytearray(clip.read_bytes())
    at = data.index(b"stbl")
    data[at : at + 4] = b"free"  # the video track loses its sample table: PyAV finds no codec for it
    dest.write_bytes(bytes(data))
    return dest


def test_a_video_stream_without_decoder_is_signed_without_thumbnail(make_clip, tmp_path: Path, signer, env) -> None:
    clip = _without_stbl(make_clip("mp4"), tmp_path / "nostbl.mp4")
    with av.open(str(clip)) as container:
        assert container.streams.video and container.streams.video[0].codec_context is None
    assert video.thumbnail_jpeg(clip) is None
    result = _cli("sign", clip, "-o", tmp_path / "nostbl.signed.mp4", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["output"] == str(tmp_path / "nostbl.signed.mp4")
    # an edit needs to decode it: a one-line "malformed input" error
    edit = _cli("transcode", clip, "-o", tmp_path / "nostbl.480.mp4", env=env)
    _one_line_error(edit, 5, "cannot be decoded")
    assert not (tmp_path / "nostbl.480.mp4").exists()


@pytest.mark.parametrize("length", [241, 255])
def test_an_output_name_up_to_name_max_is_written(make_clip, tmp_path: Path, env, length: int) -> None:
    name = "n" * (length - 4) + ".mp4"
    clip = make_clip("mp4")
    signed = _cli("sign", clip, "-o", tmp_path / name, env=env)
    assert signed.returncode == 0, signed.stderr
    assert (tmp_path / name).stat().st_size > clip.stat().st_size
    edited = tmp_path / "edit"
    edited.mkdir()
    result = _cli("transcode", tmp_path / name, "-o", edited / name, env=env)
    assert result.returncode == 0, result.stderr
    assert os.listdir(edited) == [name]
    # looking for NAME.mp4.c2pa (past NAME_MAX) beside it finds no sidecar, and does not crash
    assert _cli("verify", edited / name, env=env).returncode == 0


@pytest.mark.parametrize("args", [["sign"], ["transcode"], ["sign", "--sidecar"]])
def test_an_output_name_past_name_max_is_a_usage_error(make_clip, tmp_path: Path, env, args) -> None:
    name = "n" * 252 + ".mp4"  # 256 bytes
    result = _cli(*args, make_clip("mp4"), "-o", tmp_path / name, env=env)
    _one_line_error(result, 2, "the output name is 256 bytes, longer than the 255 this file system allows")


@contextlib.contextmanager
def _mounted_tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}); needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


@pytest.fixture
def big_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.mp4"
    return make_sample_clip(path, seconds=3, width=640, height=480)


@pytest.mark.parametrize("command", [["sign"], ["sign", "--flat-hash"], ["transcode"], ["sign", "--sidecar"]])
def test_a_full_disk_is_reported_as_the_output_folder(big_clip: Path, tmp_path: Path, env, command) -> None:
    before = sha256(big_clip)
    with _mounted_tmpfs(tmp_path / "full", "size=64k") as full:
        out = full / ("o.c2pa" if "--sidecar" in command else "o.mp4")
        if "--sidecar" in command:
            (full / "filler").write_bytes(b"\0" * (60 * 1024))  # a sidecar is small: fill the disk first
        result = _cli(command[0], big_clip, "-o", out, *command[1:], env=env)
        _one_line_error(result, 2, f"{full}: cannot write the output there (No space left on device)")
        assert "truncated" not in result.stderr and "codec" not in result.stderr
        assert sorted(os.listdir(full)) == (["filler"] if "--sidecar" in command else [])
    assert sha256(big_clip) == before


@pytest.mark.parametrize("command", ["sign", "transcode"])
def test_a_read_only_output_folder_is_one_line(make_clip, tmp_path: Path, env, command: str) -> None:
    with _mounted_tmpfs(tmp_path / "ro", "size=1m,ro") as ro:
        result = _cli(command, make_clip("mp4"), "-o", ro / "o.mp4", env=env)
        _one_line_error(result, 2, f"{ro}: cannot write the output there (Read-only file system)")


def test_a_file_size_limit_is_reported_as_the_output_folder(big_clip: Path, tmp_path: Path, env) -> None:
    # RLIMIT_FSIZE: the full disk of an unprivileged user (EFBIG, SIGXFSZ ignored)
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    out = tmp_path / "out"
    out.mkdir()
    result = _cli("sign", big_clip, "-o", out / "o.mp4", env=env, preexec_fn=limit)
    _one_line_error(result, 2, f"{out}: cannot write the output there (File too large)")
    assert os.listdir(out) == []


# --- item 3: FIFOs ----------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["verify", "{fifo}"],
        ["sign", "{fifo}", "-o", "{out}/s.mp4"],
        ["sign", "--sidecar", "{fifo}", "-o", "{out}/s.c2pa"],
        ["show", "{fifo}"],
        ["transcode", "{fifo}", "-o", "{out}/t.mp4"],
        ["trim", "{fifo}", "-o", "{out}/t.mp4", "--end", "1"],
    ],
)
def test_a_fifo_named_directly_is_refused_not_waited_on(tmp_path: Path, env, command: list[str]) -> None:
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    (tmp_path / "out").mkdir()
    args = [a.format(fifo=fifo, out=tmp_path / "out") for a in command]
    result = _cli(*args, env=env, timeout=60)
    _one_line_error(result, 5, f"{fifo}: is not a regular file (a FIFO)")
    assert os.listdir(tmp_path / "out") == []


def test_a_fifo_in_a_batch_is_skipped_or_recorded(make_clip, tmp_path: Path, env) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    make_clip("mp4", name="uploads/good.mp4")
    os.mkfifo(uploads / "pipe.mp4")
    found = collect_inputs([uploads])
    assert [i.path.name for i in found.inputs] == ["good.mp4"]
    assert [(s.path.name, s.reason) for s in found.skipped] == [("pipe.mp4", "not a regular file (a FIFO)")]
    log = tmp_path / "verify.jsonl"
    # the folder (FIFO skipped) and the FIFO named directly (an error record)
    result = _cli("verify", uploads, uploads / "pipe.mp4", "--jsonl", log, env=env, timeout=90)
    records = {Path(r["file"]).name: r for r in map(json.loads, log.read_text().splitlines()) if "file" in r}
    assert records["good.mp4"]["verdict"] == "no_credentials", records
    assert records["pipe.mp4"]["verdict"] == "error" and "not a regular file" in records["pipe.mp4"]["error"]
    assert result.returncode == 5, result.stderr
    assert "Traceback" not in result.stderr
    signed = _cli("sign", uploads, "-o", tmp_path / "out", env=env, timeout=90)
    assert signed.returncode == 0, signed.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["good.mp4"]


# --- item 5: killed runs ----------------------------------------------------


def _open_in(pid: int, folder: Path) -> list[Path]:
    """The files of *folder* that process *pid* holds open (O_TMPFILE ones
    read as ``folder/#inode (deleted)``)."""
    held = []
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith(f"{folder}/"):
                    held.append(Path(f"/proc/{pid}/fd/{fd}"))
    return held


def _kill_when_writing(proc: subprocess.Popen, folder: Path, *, at_least: int, timeout: float = 90) -> None:
    """SIGKILL *proc* once it holds a file in *folder* of at least *at_least* bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"finished before the kill: {proc.communicate()}"
        for held in _open_in(proc.pid, folder):
            with contextlib.suppress(OSError):
                if held.stat().st_size >= at_least:
                    proc.kill()
                    proc.wait()
                    return
        time.sleep(0.02)
    proc.kill()
    pytest.fail("the child never started writing")


def _slow_signer_args(pki, seconds: float = 60) -> list[str]:
    command = shlex.join([sys.executable, str(KMS_SCRIPT), str(pki.signer_key), "--sleep", str(seconds)])
    return ["--signer-command", command, "--cert", str(pki.chain)]


def test_kill_9_mid_sign_leaves_nothing_next_to_the_output(big_clip: Path, tmp_path: Path, env, pki) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [*CLI, "sign", str(big_clip), "-o", str(out / "s.mp4"), *_slow_signer_args(pki)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _kill_when_writing(proc, out, at_least=big_clip.stat().st_size // 2)
    assert proc.returncode == -signal.SIGKILL
    assert os.listdir(out) == []


def test_kill_9_mid_transcode_leaves_no_scratch_a_batch_would_take(tmp_path: Path, env) -> None:
    clip = make_sample_clip(tmp_path / "long.mp4", seconds=20, width=640, height=480)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [*CLI, "transcode", str(clip), "-o", str(out / "t.mp4"), "--height", "240"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _kill_when_writing(proc, out, at_least=1)
    assert os.listdir(out) == []
    assert collect_inputs([out], include=["*"]).inputs == ()


_NAMED_TEMP_CHILD = """
import sys, time
from pathlib import Path
from provenance import _files
from provenance.identity.signer import KeySigner
from provenance.signing import sign
_files._UNNAMED = False  # a file system without O_TMPFILE: named temporary files
class Slow(KeySigner):
    def sign(self, data):
        time.sleep(60)
        return super().sign(data)
base = KeySigner.from_files(key=Path(sys.argv[1]), chain=Path(sys.argv[2]))
sign(sys.argv[3], sys.argv[4], signer=Slow(base._key, chain=base.chain))
"""


def test_named_temp_files_of_dead_writers_are_recognised_skipped_and_removed(
    big_clip: Path, tmp_path: Path, pki, signer, monkeypatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _NAMED_TEMP_CHILD,
            str(pki.signer_key),
            str(pki.chain),
            str(big_clip),
            str(out / "s.mp4"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _kill_when_writing(proc, out, at_least=big_clip.stat().st_size // 2)
    (leftover,) = os.listdir(out)
    assert _files.is_temporary(leftover) and leftover.startswith(_files.TEMP_PREFIX)
    # a live writer's file is never removed, however old
    live = out / f"{_files.TEMP_PREFIX}{'0' * 16}{_files.TEMP_SUFFIX}"
    live.write_bytes(b"x")
    held = os.open(live, os.O_RDONLY)
    import fcntl

    fcntl.flock(held, fcntl.LOCK_EX)
    old = time.time() - 3600
    for name in (leftover, live.name):
        os.utime(out / name, (old, old))
    try:
        found = collect_inputs([out], include=["*"])
        assert found.inputs == ()
        assert {s.path.name for s in found.skipped} == {leftover, live.name}
        monkeypatch.setattr(_files, "_UNNAMED", False)
        sign(big_clip, out / "s.mp4", signer=signer)  # the next run into the folder
        assert sorted(os.listdir(out)) == sorted(["s.mp4", live.name])
    finally:
        os.close(held)


# --- item 6: a folder swapped for a symlink mid-batch -----------------------


def test_a_folder_swapped_for_a_symlink_mid_batch_never_leads_outside(make_clip, tmp_path: Path, signer) -> None:
    uploads, outdir, outside = tmp_path / "uploads", tmp_path / "out", tmp_path / "outside"
    (uploads / "day").mkdir(parents=True)
    for n in range(24):
        make_clip("mp4", name=f"uploads/day/clip{n:02d}.mp4")
    outside.mkdir()
    (outdir / "day").mkdir(parents=True)
    stop = threading.Event()
    swaps = 0

    def swapper() -> None:
        nonlocal swaps
        real, aside, link = outdir / "day", outdir / "day.real", outdir / "day.link"
        made = 0

        def restore() -> None:  # the batch made a new outdir/day meanwhile: keep it, inside OUTDIR
            nonlocal made
            if real.is_symlink():
                real.unlink()
            elif real.is_dir() and aside.is_dir():
                made += 1
                os.rename(real, outdir / f"day.made{made}")
            if aside.is_dir():
                os.rename(aside, real)
            if link.is_symlink():
                link.unlink()

        while not stop.is_set():
            try:
                os.rename(real, aside)
                os.symlink(outside, link)
                os.rename(link, real)  # now outdir/day -> outside
                time.sleep(0.002)
                os.unlink(real)
                os.rename(aside, real)
                swaps += 1
            except OSError:
                restore()
            time.sleep(0.002)

    thread = threading.Thread(target=swapper)
    thread.start()
    inputs = collect_inputs([uploads]).inputs
    results = []
    try:
        for _ in range(20):  # rounds, until the swapper has swapped often enough
            results += run_sign_job(inputs, SignJob(outdir=outdir, signer=signer, force=True), jobs=1)
            if swaps >= 40:
                break
    finally:
        stop.set()
        thread.join()
    assert swaps >= 20  # the race really ran
    assert os.listdir(outside) == [], "an output escaped OUTDIR"
    signed = [r for r in results if r.exit_code == 0]
    assert signed and len(signed) < len(results)  # some were refused: the link was met
    assert any("symlink inside the output folder" in (r.error or "") for r in results)
    # the others: a folder the swapper moved or replaced while it was written into
    assert {r.exit_code for r in results} <= {0, 2}, [r.error for r in results]


# --- item 7: misleading messages --------------------------------------------


def test_a_backslash_is_an_ordinary_character_of_a_name(make_clip, tmp_path: Path, signer) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    make_clip("mp4", name="uploads/a\\b.mp4")
    results = list(
        run_sign_job(collect_inputs([uploads]).inputs, SignJob(outdir=tmp_path / "out", signer=signer), jobs=1)
    )
    assert [r.exit_code for r in results] == [0], [r.error for r in results]
    assert os.listdir(tmp_path / "out") == ["a\\b.mp4"]


class _SlowSigner(KeySigner):
    def sign(self, data: bytes) -> bytes:
        time.sleep(0.5)  # every writer is past the early existence check before any finishes
        return super().sign(data)


def test_concurrent_signs_to_one_output_without_force_let_exactly_one_win(
    make_clip, tmp_path: Path, signer, trust
) -> None:
    slow = _SlowSigner(signer._key, chain=signer.chain)
    sources = [make_clip("mp4", name=f"in{n}.mp4") for n in range(4)]
    out = tmp_path / "same.mp4"

    def attempt(src: Path) -> str:
        try:
            sign(src, out, signer=slow)
            return "signed"
        except OutputExistsError:
            return "exists"

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(attempt, sources))
    assert outcomes == ["exists", "exists", "exists", "signed"]
    assert verify(out, trust=trust).verdict is Verdict.VERIFIED
    assert sorted(os.listdir(tmp_path)) == sorted([*(s.name for s in sources), "same.mp4"])


@pytest.mark.parametrize("command", ["sign", "transcode", "sidecar"])
def test_a_dangling_symlink_at_the_output_is_refused_like_a_file(make_clip, tmp_path: Path, env, command: str) -> None:
    target = tmp_path / "elsewhere" / "target.mp4"
    target.parent.mkdir()
    out = tmp_path / ("o.c2pa" if command == "sidecar" else "o.mp4")
    os.symlink(target, out)
    args = ["sign", "--sidecar"] if command == "sidecar" else [command]
    result = _cli(*args, make_clip("mp4"), "-o", out, env=env)
    _one_line_error(result, 2, "file exists")
    assert out.is_symlink() and os.readlink(out) == str(target)
    assert not target.exists()


def test_a_garbled_signature_is_named_not_blamed_on_the_time_stamp(make_clip, tmp_path: Path, signer, tsa) -> None:
    class Garbage(KeySigner):
        def sign(self, data: bytes) -> bytes:
            return os.urandom(0)

    with pytest.raises(IdentityError) as caught:
        sign(make_clip("mp4"), tmp_path / "o.mp4", signer=Garbage(signer._key, chain=signer.chain, tsa_url=tsa.url))
    message = caught.value.diagnostics()
    assert caught.value.exit_code == 6
    assert "signature the signer made does not verify" in message and "time-stamp" not in message
    assert not (tmp_path / "o.mp4").exists()
