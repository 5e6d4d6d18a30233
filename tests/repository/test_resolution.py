"""The C2PA Soft Binding Resolution API of `provenance serve --repo`, on a
real server on 127.0.0.1, over both backends."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import c2pa
import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

from provenance.identity.pki import DevPKI
from provenance.identity.signer import KeySigner
from provenance.media.fingerprint import compute
from provenance.service import create_app
from provenance.service.config import ServiceConfig
from provenance.signing import sign
from tests.helpers import Server, running_server
from tests.repository.clips import make_content_clip, platform_copy

TOKEN = "resolution-token-for-tests-0123456789"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pki: DevPKI) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("resolution")
    if request.param == "sqlite":
        location = str(work / "repository.sqlite")
    else:
        import psycopg

        base = request.getfixturevalue("postgres_server")
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute("CREATE DATABASE resolution_test")
        location = base.rsplit("/", 1)[0] + "/resolution_test"
    tokens = work / "tokens"
    tokens.write_text(TOKEN + "\n")
    with running_server(
        work,
        "--keys-dir",
        pki.directory,
        "--tokens-file",
        tokens,
        "--max-upload",
        "2M",
        "--repo",
        location,
        trusted_root=pki.root_cert,
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, signer: KeySigner) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("resolution-clips")
    original = make_content_clip(folder / "original.mp4", seed=7)
    signed = sign(original, folder / "signed.mp4", signer=signer).output
    return {
        "signed": signed,
        "copy": platform_copy(signed, folder / "copy.mp4"),
        "other": make_content_clip(folder / "other.mp4", seed=8),
    }


@pytest.fixture(scope="module")
def registered(server: Server, clips: dict[str, Path]) -> str:
    response = httpx.post(
        server.url + "/manifests?filename=signed.mp4",
        content=clips["signed"].read_bytes(),
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["fingerprinted"] and body["created"]
    return str(body["manifestId"])


@pytest.fixture(scope="module")
def openapi(server: Server) -> dict:
    return httpx.get(server.url + "/openapi.json", timeout=30).json()


@pytest.fixture
def conforms(openapi: dict) -> Callable[[dict, str], None]:
    def check(body: dict, schema: str) -> None:
        root = {"$ref": f"#/components/schemas/{schema}", "components": openapi["components"]}
        jsonschema.Draft202012Validator(root).validate(body)

    return check


def test_openapi_describes_the_resolution_routes(openapi: dict) -> None:
    validate_openapi(openapi)
    app = create_app(ServiceConfig(repository=object()))  # type: ignore[arg-type] - only the routes are read
    routes = {
        (r.path, m.lower()) for r in app.routes if hasattr(r, "methods") and r.methods for m in r.methods if m != "HEAD"
    }
    described = {(path, method) for path, ops in openapi["paths"].items() for method in ops}
    assert routes == described
    for path in (
        "/matches/byBinding",
        "/matches/byContent",
        "/manifests/{manifestId}",
        "/services/supportedAlgorithms",
    ):
        assert path in described_paths(openapi)


def described_paths(openapi: dict) -> set[str]:
    return set(openapi["paths"])


def test_register_is_idempotent_and_needs_a_token(
    server: Server, registered: str, clips: dict[str, Path], conforms
) -> None:
    again = httpx.post(
        server.url + "/manifests",
        content=clips["signed"].read_bytes(),
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60,
    )
    assert again.status_code == 200 and again.json()["manifestId"] == registered and not again.json()["created"]
    conforms(again.json(), "Registration")
    for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token-wrong"}):
        refused = httpx.post(
            server.url + "/manifests", content=clips["signed"].read_bytes(), headers=headers, timeout=60
        )
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    unsigned = httpx.post(
        server.url + "/manifests?filename=other.mp4",
        content=clips["other"].read_bytes(),
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60,
    )
    assert unsigned.status_code == 422 and "no content credentials" in unsigned.json()["error"]
    assert str(server.tmp_dir) not in unsigned.text  # the client's name, never the server's temp path


def test_by_content_finds_the_original_of_a_platform_copy(
    server: Server, registered: str, clips: dict[str, Path], conforms
) -> None:
    response = httpx.post(
        server.url + "/matches/byContent?filename=copy.mp4", content=clips["copy"].read_bytes(), timeout=60
    )
    assert response.status_code == 200, response.text
    body = response.json()
    conforms(body, "c2pa.softBindingQueryResult")
    assert body["matches"][0]["manifestId"] == registered
    assert 0 < body["matches"][0]["similarityScore"] <= 100
    assert body["matches"][0]["signer"]["name"] == "Jane Doe"
    other = httpx.post(server.url + "/matches/byContent", content=clips["other"].read_bytes(), timeout=60)
    assert other.status_code == 200 and other.json() == {"matches": []}


def test_by_content_refuses_what_it_cannot_fingerprint(server: Server, registered: str) -> None:
    response = httpx.post(server.url + "/matches/byContent", content=b"not a video at all" * 100, timeout=60)
    assert response.status_code in (415, 422) and response.json()["error"]
    too_big = httpx.post(server.url + "/matches/byContent", content=b"\0" * (3 * 1024 * 1024), timeout=60)
    assert too_big.status_code == 413


def test_by_binding_get_and_post(server: Server, registered: str, clips: dict[str, Path], conforms) -> None:
    fingerprint = compute(clips["copy"])
    value = base64.b64encode(fingerprint.to_bytes()).decode()
    got = httpx.get(
        server.url + "/matches/byBinding", params={"alg": fingerprint.algorithm, "value": value}, timeout=60
    )
    assert got.status_code == 200, got.text
    conforms(got.json(), "c2pa.softBindingQueryResult")
    assert got.json()["matches"][0]["manifestId"] == registered
    posted = httpx.post(
        server.url + "/matches/byBinding?maxResults=1", json={"alg": fingerprint.algorithm, "value": value}, timeout=60
    )
    assert posted.status_code == 200 and [m["manifestId"] for m in posted.json()["matches"]] == [registered]
    # one per-second hash of the original is a binding value too
    one = base64.b64encode(fingerprint.hashes[2][1]).decode()
    single = httpx.get(
        server.url + "/matches/byBinding", params={"alg": fingerprint.algorithm, "value": one}, timeout=60
    )
    assert single.status_code == 200
    unrelated = base64.b64encode(compute(clips["other"]).to_bytes()).decode()
    none = httpx.get(
        server.url + "/matches/byBinding", params={"alg": fingerprint.algorithm, "value": unrelated}, timeout=60
    )
    assert none.status_code == 200 and none.json() == {"matches": []}


@pytest.mark.parametrize(
    "params, words",
    [
        ({"value": "AAAA"}, "required"),
        ({"alg": "org.example.unknown.1", "value": "AAAA"}, "not supported"),
        ({"alg": "ALG", "value": "***not base64***"}, "base64"),
        ({"alg": "ALG", "value": base64.b64encode(b"seventeen bytes!!").decode()}, "fingerprint"),
        ({"alg": "ALG", "value": "AAAA", "maxResults": "0"}, "maxResults"),
    ],
)
def test_by_binding_bad_queries_are_400(
    server: Server, registered: str, clips: dict[str, Path], params: dict[str, str], words: str
) -> None:
    alg = compute(clips["copy"]).algorithm
    params = {k: (alg if v == "ALG" else v) for k, v in params.items()}
    response = httpx.get(server.url + "/matches/byBinding", params=params, timeout=60)
    assert response.status_code == 400 and words in response.json()["error"]


def test_by_binding_post_bad_bodies(server: Server, registered: str) -> None:
    for body in (b"{not json", b"[1, 2]", json.dumps({"alg": 1, "value": 2}).encode()):
        response = httpx.post(
            server.url + "/matches/byBinding", content=body, headers={"content-type": "application/json"}, timeout=60
        )
        assert response.status_code == 400


def test_manifest_is_the_registered_store(server: Server, registered: str, clips: dict[str, Path]) -> None:
    response = httpx.get(server.url + f"/manifests/{registered}", timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "application/c2pa"
    # c2pa reads the bytes as a manifest store, with the registered manifest active
    with c2pa.Reader("application/c2pa", io.BytesIO(response.content)) as reader:
        assert json.loads(reader.json())["active_manifest"] == registered
    # and they validate the signed clip as its sidecar would
    with open(clips["signed"], "rb") as fh, c2pa.Reader("video/mp4", fh, response.content) as reader:
        assert json.loads(reader.json())["active_manifest"] == registered
    missing = httpx.get(server.url + "/manifests/urn:c2pa:00000000-0000-0000-0000-000000000000", timeout=60)
    assert missing.status_code == 404


def test_supported_algorithms(server: Server, registered: str, clips: dict[str, Path], conforms) -> None:
    response = httpx.get(server.url + "/services/supportedAlgorithms", timeout=60)
    assert response.status_code == 200
    conforms(response.json(), "c2pa.softBindingAlgList")
    assert {"alg": compute(clips["copy"]).algorithm} in response.json()["fingerprints"]


def test_serve_with_an_unreachable_repository_stops_in_one_line(run, tmp_path: Path) -> None:
    result = run("serve", "--port", "0", "--repo", "postgresql://u@127.0.0.1:1/none")
    assert result.exit_code == 9 and "cannot reach the repository" in result.output
    assert result.output.count("\n") == 1
