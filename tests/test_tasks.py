"""The Celery engine against real components: a real Redis server, real
``provenance worker`` processes (two, sharing a PostgreSQL repository),
real clips. Faults: a worker killed mid-task, a file that kills every
worker that opens it, the broker restarted mid-batch."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.identity.pki import DevPKI
from provenance.identity.signer import KeySigner
from provenance.signing import sign
from tests.conftest import CLI
from tests.helpers import tampered_copy
from tests.support.celery_workers import Workers, running_workers
from tests.support.postgres import free_port, postgres_server  # noqa: F401 - fixture
from tests.support.redis_server import RedisServer, redis_available, running_redis
from tests.support.system import require

pytest.importorskip("celery", reason="the celery extra: pip install 'provenance[celery]'")

TASK_TIMEOUT = 60


@pytest.fixture(scope="module")
def _redis_required() -> None:
    require(redis_available(), "redis-server", hint="Debian: apt-get install redis-server")


@pytest.fixture
def redis_server(_redis_required: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


def worker_identity(pki: DevPKI) -> list[str]:
    """Trust and signing identity of the test workers: the test PKI."""
    return ["--no-trust-store", "--trust", str(pki.root_cert), "--key", str(pki.signer_key), "--cert", str(pki.chain)]


@dataclass
class Cluster:
    redis: RedisServer
    workers: Workers
    repository: str
    outputs: Path

    @property
    def app(self):  # noqa: ANN201 - a Celery app
        from provenance.tasks import make_app

        return make_app(self.redis.url)

    def call(self, name: str, *args: object, task_id: str | None = None, **kwargs: object) -> dict:
        return self.app.send_task(name, args=list(args), kwargs=kwargs, task_id=task_id).get(timeout=TASK_TIMEOUT)


@pytest.fixture(scope="module")
def cluster(
    _redis_required: None,
    tmp_path_factory: pytest.TempPathFactory,
    pki: DevPKI,
    postgres_server: str,  # noqa: F811 - the fixture imported above
) -> Iterator[Cluster]:
    """Redis, a fresh PostgreSQL repository and two workers that share it
    (and an output folder, as shared storage)."""
    import psycopg

    from provenance.repository import open_repository

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    repository = postgres_server.rsplit("/", 1)[0] + "/" + name
    open_repository(repository, create=True).close()
    folder = tmp_path_factory.mktemp("cluster")
    outputs = folder / "outputs"
    outputs.mkdir()
    args = [
        *worker_identity(pki),
        "--repo",
        repository,
        "--output-root",
        str(outputs),
        "--max-retries",
        "1",
        "--retry-delay",
        "0.2",
        "--fetch-max",
        "1M",
    ]
    with running_redis(folder) as redis, running_workers(redis.url, 2, folder=folder, args=args) as workers:
        yield Cluster(redis, workers, repository, outputs)


def records(path: Path) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        assert record["file"] not in found, f"{record['file']} recorded twice"
        found[record["file"]] = record
    return found


def uploads(folder: Path, make_clip: Callable[..., Path], signer: KeySigner, *, plain: int = 1) -> Path:
    """A folder of uploads: a signed clip, a tampered one, unsigned ones, a
    file that is no video."""
    folder.mkdir()
    sign(make_clip("mp4", name="src.mp4"), folder / "signed.mp4", signer=signer)
    tampered_copy(folder / "signed.mp4", folder / "tampered.mp4")
    for i in range(plain):
        make_clip("mp4", name=f"plain-{i}.mp4").rename(folder / f"plain-{i}.mp4")
    (folder / "junk.mp4").write_bytes(b"\0not a video" * 100)
    return folder


# -- the batch on the workers


def test_a_batch_on_two_workers_writes_what_a_local_batch_writes(
    cluster: Cluster, run: CLI, tmp_path: Path, make_clip: Callable[..., Path], signer: KeySigner, pki: DevPKI
) -> None:
    folder = uploads(tmp_path / "up", make_clip, signer, plain=3)
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    here = run("verify", folder, "--no-trust-store", "--trust", pki.root_cert, "--jsonl", local, "-q")
    there = run("verify", folder, "--engine", "celery", "--broker", cluster.redis.url, "--jsonl", remote, "-q")
    assert there.exit_code == here.exit_code == 5, there.output  # the junk file is the worst
    assert "Celery workers on redis://127.0.0.1" in there.output
    assert records(remote) == records(local)
    verdicts = {Path(f).name: r["verdict"] for f, r in records(remote).items()}
    assert verdicts == {
        "signed.mp4": "verified",
        "tampered.mp4": "tampered",  # a result, not an error
        "plain-0.mp4": "no_credentials",
        "plain-1.mp4": "no_credentials",
        "plain-2.mp4": "no_credentials",
        "junk.mp4": "error",
    }
    assert "tampered.mp4" in there.output  # the summary names the failures with their reason
    again = run("verify", folder, "--engine", "celery", "--broker", cluster.redis.url, "--jsonl", remote, "--resume")
    assert again.exit_code == 5 and "6 already done in an earlier run" in again.output
    assert len(remote.read_text().splitlines()) == 6


def test_the_policy_travels_with_the_task(cluster: Cluster, signed_clip: Path) -> None:
    from provenance.tasks.app import VERIFY

    right = cluster.call(VERIFY, str(signed_clip), expect_org="Example News")
    wrong = cluster.call(VERIFY, str(signed_clip), expect_org="Someone Else")
    assert right["verdict"] == "verified" and right["file"] == str(signed_clip)
    assert wrong["verdict"] == "wrong_signer" and wrong["policy_failures"]


# -- sign, register, lookup: idempotent, one repository for both workers


def test_signing_again_under_the_same_task_id_signs_and_registers_once(
    cluster: Cluster, make_clip: Callable[..., Path]
) -> None:
    from provenance.repository import open_repository
    from provenance.tasks.app import SIGN, VERIFY

    clip = make_clip("mp4", name="publish.mp4")
    output = f"sign-{uuid.uuid4().hex[:8]}/publish.mp4"
    with open_repository(cluster.repository) as repo:
        before = repo.stats().manifests
    task_id = str(uuid.uuid4())
    first = cluster.call(SIGN, str(clip), output, register=True, task_id=task_id)
    written = (cluster.outputs / output).read_bytes()
    # A redelivery is the same task id handed out again: same result, same file, no second registration.
    second = cluster.call(SIGN, str(clip), output, register=True, task_id=task_id)
    assert first["error"] is None and first["manifest_id"].startswith("urn:")
    assert second == first
    assert (cluster.outputs / output).read_bytes() == written
    assert first["registered_in"].startswith("postgresql://")
    with open_repository(cluster.repository) as repo:
        assert repo.stats().manifests == before + 1
        assert repo.manifest(first["manifest_id"]) is not None
    assert cluster.call(VERIFY, first["output"])["verdict"] == "verified"
    # Another task for the same output is refused: nothing is overwritten.
    other = cluster.call(SIGN, str(clip), output)
    assert other["exit_code"] == 2 and "exists" in other["error"]
    escape = cluster.call(SIGN, str(clip), "../outside.mp4")
    assert escape["exit_code"] == 2 and not (cluster.outputs.parent / "outside.mp4").exists()


def test_register_and_lookup_tasks_share_the_repository(cluster: Cluster, tmp_path: Path, signer: KeySigner) -> None:
    from provenance.tasks.app import LOOKUP, REGISTER
    from tests.support.scenes import make_scene_clip

    clip = make_scene_clip(tmp_path / "scene.mp4", seed=5, seconds=4.0, width=320, height=180, audio=False)
    signed = sign(clip, tmp_path / "scene.signed.mp4", signer=signer).output
    first = cluster.call(REGISTER, str(signed))
    again = cluster.call(REGISTER, str(signed))
    assert first["created"] is True and first["fingerprinted"] is True
    assert again["created"] is False and again["manifest_id"] == first["manifest_id"]
    found = cluster.call(LOOKUP, str(clip))  # the unsigned original: its content matches
    assert [c["manifest_id"] for c in found["candidates"]][:1] == [first["manifest_id"]]
    refused = cluster.call(REGISTER, str(clip))  # no credentials: refused, as repo add refuses it
    assert refused["exit_code"] == 5 and "not registered" in refused["error"]


# -- files over http(s)


def test_a_url_is_fetched_within_bounds_and_only_transient_faults_are_retried(
    cluster: Cluster,
    http_site,
    signed_clip: Path,  # noqa: ANN001 - the StaticSite fixture
) -> None:
    from provenance.tasks.app import VERIFY

    url = http_site.put("uploads/clip.mp4", signed_clip.read_bytes())
    report = cluster.call(VERIFY, url)
    assert report["file"] == url and report["verdict"] == "verified"
    missing = cluster.call(VERIFY, http_site.url("uploads/none.mp4"))
    assert missing["verdict"] == "error" and "404" in missing["error"]
    assert http_site.hits.count("/uploads/none.mp4") == 1  # a 404 is an answer: not retried
    busy = http_site.put("uploads/busy.mp4", b"later", status=503)
    failed = cluster.call(VERIFY, busy)
    assert failed["verdict"] == "error" and "503" in failed["error"]
    assert http_site.hits.count("/uploads/busy.mp4") == 2  # once, then --max-retries 1
    big = cluster.call(VERIFY, http_site.put("uploads/big.mp4", b"\0" * (2 << 20)))
    assert big["verdict"] == "error" and "more than" in big["error"]
    other = cluster.call(VERIFY, "ftp://example.org/clip.mp4")
    assert other["verdict"] == "error" and "ftp:" in other["error"]


# -- faults


def test_a_worker_killed_mid_task_hands_it_to_the_other_and_every_file_is_recorded_once(
    redis_server: RedisServer,
    run: CLI,
    tmp_path: Path,
    make_clip: Callable[..., Path],
    signer: KeySigner,
    pki: DevPKI,
) -> None:
    folder = uploads(tmp_path / "up", make_clip, signer, plain=3)
    (folder / "signed.mp4").rename(folder / "hold-signed.mp4")
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"PROVENANCE_TEST_HOLD": f"hold-,30,{markers}"}
    jsonl = tmp_path / "out.jsonl"
    with running_workers(redis_server.url, 2, folder=tmp_path, args=worker_identity(pki), env=env) as workers:
        import threading

        outcome: dict[str, object] = {}

        def batch() -> None:
            outcome["result"] = run(
                "verify", folder, "--engine", "celery", "--broker", redis_server.url, "--jsonl", jsonl, "-q"
            )

        thread = threading.Thread(target=batch)
        thread.start()
        marker = markers / "hold-signed.mp4.pid"
        deadline = time.monotonic() + TASK_TIMEOUT
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), workers.log(0)
        time.sleep(0.1)  # the pid is written
        holder = workers.index_of(int(marker.read_text()))
        workers.kill(holder)  # the worker and its task process, mid-task
        thread.join(TASK_TIMEOUT)
        assert not thread.is_alive()
        survivor = workers.processes[1 - holder]
        assert survivor.poll() is None
    result = outcome["result"]
    assert result.exit_code == 5, result.output
    done = records(jsonl)  # each file once
    assert sorted(Path(f).name for f in done) == sorted(p.name for p in folder.iterdir())
    assert done[str(folder / "hold-signed.mp4")]["verdict"] == "verified"  # done by the other worker


def test_a_file_that_kills_every_worker_ends_as_an_error_record(
    redis_server: RedisServer,
    run: CLI,
    tmp_path: Path,
    make_clip: Callable[..., Path],
    signer: KeySigner,
    pki: DevPKI,
) -> None:
    folder = uploads(tmp_path / "up", make_clip, signer, plain=2)
    make_clip("mp4", name="poison.mp4").rename(folder / "poison.mp4")
    env = {"PROVENANCE_TEST_CRASH": "poison"}
    jsonl = tmp_path / "out.jsonl"
    args = [*worker_identity(pki), "--max-deliveries", "2"]
    with running_workers(redis_server.url, 2, folder=tmp_path, args=args, env=env) as workers:
        result = run("verify", folder, "--engine", "celery", "--broker", redis_server.url, "--jsonl", jsonl, "-q")
        assert all(p.poll() is None for p in workers.processes)  # the task processes died, the workers did not
    done = records(jsonl)
    assert len(done) == 6, result.output + workers.log(0)
    poison = done[str(folder / "poison.mp4")]
    assert poison["verdict"] == "error" and "died each of the 2 times" in poison["error"]
    assert done[str(folder / "signed.mp4")]["verdict"] == "verified"
    assert result.exit_code == 5 and "poison.mp4" in result.output


def test_a_broker_restarted_mid_batch_is_reported_and_resume_finishes(
    redis_server: RedisServer,
    run: CLI,
    tmp_path: Path,
    make_clip: Callable[..., Path],
    signer: KeySigner,
    pki: DevPKI,
) -> None:
    folder = uploads(tmp_path / "up", make_clip, signer, plain=1)
    for i in range(8):
        make_clip("mp4", name=f"slow-{i}.mp4").rename(folder / f"slow-{i}.mp4")
    env = {"PROVENANCE_TEST_SLOW": "slow-,0.4"}
    jsonl = tmp_path / "out.jsonl"
    command = ("verify", folder, "--engine", "celery", "--broker", redis_server.url, "--jsonl", jsonl, "-q")
    with running_workers(redis_server.url, 2, folder=tmp_path, args=worker_identity(pki), env=env) as workers:
        import threading

        outcome: dict[str, object] = {}
        thread = threading.Thread(target=lambda: outcome.setdefault("result", run(*command)))
        thread.start()
        deadline = time.monotonic() + TASK_TIMEOUT
        while not (jsonl.exists() and jsonl.read_text().count("\n") >= 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        redis_server.restart()  # the queue and the results it held are gone
        thread.join(TASK_TIMEOUT)
        assert not thread.is_alive()
        stopped = outcome["result"]
        assert stopped.exit_code == 10, stopped.output
        message = [line for line in stopped.output.splitlines() if line.strip()]
        # gone (the client saw it down) or restarted (it came back meanwhile): either is said, in one line
        assert len(message) == 1 and message[0].startswith("error:"), stopped.output
        assert ("lost the broker" in message[0] or "restarted mid-batch" in message[0]) and "--resume" in message[0]
        partial = len(records(jsonl))
        assert 2 <= partial < 12
        workers.wait_ready()  # they reconnect by themselves
        finished = run(*command, "--resume")
    assert finished.exit_code == 5, finished.output
    assert f"{partial} already done in an earlier run" in finished.output
    done = records(jsonl)  # each file once, across both runs
    assert sorted(Path(f).name for f in done) == sorted(p.name for p in folder.iterdir())


# -- the command line


def test_the_celery_engine_refuses_what_belongs_to_the_workers(run: CLI, signed_clip: Path, pki: DevPKI) -> None:
    broker = "redis://127.0.0.1:1/0"
    for extra in (["--trust", str(pki.root_cert)], ["--jobs", "2"], ["--lookup", "repo.sqlite"]):
        result = run("verify", signed_clip, "--engine", "celery", "--broker", broker, *extra)
        assert result.exit_code == 2 and "does not apply to --engine celery" in result.output, result.output
    missing = run("verify", signed_clip, "--engine", "celery")
    assert missing.exit_code == 2 and "--broker" in missing.output
    wrong = run("verify", signed_clip, "--engine", "celery", "--broker", "amqp://127.0.0.1/")
    assert wrong.exit_code == 2 and "not a Redis URL" in wrong.output
    stray = run("verify", signed_clip, "--broker", broker)
    assert stray.exit_code == 2 and "--engine celery" in stray.output


def test_an_unreachable_broker_is_one_line_and_exit_10(run: CLI, signed_clip: Path, tmp_path: Path) -> None:
    broker = f"redis://127.0.0.1:{free_port()}/0"
    result = run("verify", signed_clip, "--engine", "celery", "--broker", broker, "--jsonl", tmp_path / "o.jsonl")
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 10 and len(lines) == 1, result.output
    assert lines[0].startswith("error:") and "broker" in lines[0]


def test_no_worker_on_the_broker_is_reported_not_waited_for(
    redis_server: RedisServer, run: CLI, signed_clip: Path
) -> None:
    result = run("verify", signed_clip, "--engine", "celery", "--broker", redis_server.url)
    assert result.exit_code == 10 and "no worker answers" in result.output, result.output


def test_a_worker_refuses_a_broker_that_is_not_redis(run: CLI) -> None:
    result = run("worker", "--broker", "amqp://127.0.0.1/")
    assert result.exit_code == 2 and "not a Redis URL" in result.output
    assert run("worker").exit_code == 2


def test_a_batch_larger_than_the_window_is_sent_as_results_come_back(
    cluster: Cluster, make_clip: Callable[..., Path], signed_clip: Path
) -> None:
    from provenance.tasks.app import VERIFY
    from provenance.tasks.client import gather

    plain = make_clip("mp4", name="plain.mp4")
    paths = [signed_clip, plain] * 3
    calls = [((str(p),), {}) for p in paths]
    found = dict(gather(cluster.app, VERIFY, calls, failed=lambda i, why: {"error": why}, window=2))
    assert sorted(found) == list(range(6))
    assert [found[i]["verdict"] for i in range(6)] == ["verified", "no_credentials"] * 3
    assert [found[i]["file"] for i in range(6)] == [str(p) for p in paths]


def test_without_the_extra_the_commands_say_how_to_install_it(tmp_path: Path, signed_clip: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['celery'] = None  # as if the extra were not installed\n"
        "from provenance.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    for argv in (
        ["worker", "--broker", "redis://127.0.0.1:1/0"],
        ["verify", str(signed_clip), "--engine", "celery", "--broker", "redis://127.0.0.1:1/0"],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, cwd=tmp_path
        )
        assert proc.returncode == 2, proc.stderr
        assert "pip install 'provenance[celery]'" in proc.stderr and "Traceback" not in proc.stderr
