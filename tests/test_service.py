"""`provenance serve`, started for real on a loopback port and spoken to
over HTTP: every endpoint, every error path, uploads that stop halfway,
and a bounded load run."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

from provenance.identity.pki import DevPKI
from provenance.service import create_app
from provenance.service.config import BearerTokens, ServiceConfig, parse_size
from provenance.trust.store import TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.helpers import Server, running_server, tampered_copy

TOKEN = "s3cret-token-for-tests-0123456789"
LIMIT = 1024 * 1024  # 1 MiB: the test clips are far smaller


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki: DevPKI) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("service")
    tokens = work / "tokens"
    tokens.write_text(f"# issued to the test suite\n{TOKEN}\n")
    with running_server(
        work,
        "--keys-dir",
        pki.directory,
        "--tokens-file",
        tokens,
        "--max-upload",
        "1M",
        "--upload-timeout",
        "1",
        trusted_root=pki.root_cert,
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory, pki: DevPKI) -> Iterator[Server]:
    """One request at a time, no queue, no signing."""
    work = tmp_path_factory.mktemp("busy")
    with running_server(
        work, "--keys-dir", pki.directory, "--max-verifications", "1", "--queue", "0", trusted_root=pki.root_cert
    ) as srv:
        yield srv


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
    assert server.leftovers() == []  # every request left its temp files behind it


@pytest.fixture(scope="module")
def openapi(server: Server) -> dict:
    return httpx.get(server.url + "/openapi.json", timeout=30).json()


@pytest.fixture
def conforms(openapi: dict) -> Callable[[dict, str], None]:
    def check(body: dict, schema: str) -> None:
        root = {"$ref": f"#/components/schemas/{schema}", "components": openapi["components"]}
        jsonschema.Draft202012Validator(root).validate(body)

    return check


def raw_connection(server: Server) -> socket.socket:
    parts = urlsplit(server.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


# --- health and the API description ------------------------------------------


def test_healthz(http: httpx.Client, conforms) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["signing"] is True and body["max_upload"] == LIMIT
    conforms(body, "Health")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_openapi_is_valid_and_describes_every_route(openapi: dict, pki: DevPKI) -> None:
    validate_openapi(openapi)
    app = create_app(ServiceConfig())
    routes = {
        (r.path, m.lower()) for r in app.routes if hasattr(r, "methods") and r.methods for m in r.methods if m != "HEAD"
    }
    described = {(path, method) for path, ops in openapi["paths"].items() for method in ops}
    assert routes == described
    assert "1048576 bytes" in openapi["info"]["description"]


# --- POST /v1/verify -----------------------------------------------------------


def test_verify_a_raw_body(http: httpx.Client, server: Server, signed_clip: Path, conforms) -> None:
    response = http.post("/v1/verify", params={"filename": "harbour.mp4"}, content=signed_clip.read_bytes())
    assert response.status_code == 200
    report = response.json()
    conforms(report, "VerificationReport")
    assert report["verdict"] == "verified" and report["file"] == "harbour.mp4"
    assert report["signer"]["common_name"] == "Jane Doe"
    assert report["signer"]["trusted_by"].startswith("development root")
    assert "thumbnail" not in report
    assert str(server.tmp_dir) not in response.text  # no temp path leaks into the answer


def test_verify_a_form_with_thumbnail(http: httpx.Client, signed_clip: Path, conforms) -> None:
    with open(signed_clip, "rb") as fh:
        response = http.post("/v1/verify", params={"thumbnail": "1"}, files={"file": ("clip.mp4", fh, "video/mp4")})
    assert response.status_code == 200
    report = response.json()
    conforms(report, "VerificationReport")
    assert report["file"] == "clip.mp4"
    assert base64.b64decode(report["thumbnail"]["data_base64"])[:2] == b"\xff\xd8"


def test_verify_tampered_and_unsigned(http: httpx.Client, signed_clip: Path, make_clip, tmp_path: Path) -> None:
    tampered = tampered_copy(signed_clip, tmp_path / "tampered.mp4")
    assert http.post("/v1/verify", content=tampered.read_bytes()).json()["verdict"] == "tampered"
    assert http.post("/v1/verify", content=make_clip("mov").read_bytes()).json()["verdict"] == "no_credentials"


def test_verify_expected_signer(http: httpx.Client, signed_clip: Path, conforms) -> None:
    body = signed_clip.read_bytes()
    met = http.post(
        "/v1/verify", params={"expect_signer": "jane@example.org", "expect_org": "Example News"}, content=body
    ).json()
    conforms(met, "VerificationReport")
    assert met["expectation"]["met"] is True and met["expectation"]["problems"] == []
    assert met["verdict"] == "verified" and met["policy_failures"] == []
    unmet = http.post(
        "/v1/verify", params={"expect_signer": "Tom Cruise", "require_timestamp": "1"}, content=body
    ).json()
    conforms(unmet, "VerificationReport")
    assert unmet["verdict"] == "wrong_signer"  # as `verify --expect-signer` says (exit 7)
    reasons = [
        "expected signer 'Tom Cruise', but it was signed by Jane Doe (Example News)",
        "a trusted time-stamp is required, but the signing time comes only from the signer's own clock",
    ]
    assert unmet["policy_failures"] == reasons
    assert unmet["expectation"]["met"] is False and unmet["expectation"]["problems"] == reasons
    bad = http.post("/v1/verify", params={"require_timestamp": "maybe"}, content=body)
    assert bad.status_code == 400 and "require_timestamp" in bad.json()["error"]


def test_verify_unsupported_media_is_415(http: httpx.Client, conforms) -> None:
    response = http.post("/v1/verify", params={"filename": "notes.txt"}, content=b"just some text, not a video")
    assert response.status_code == 415
    conforms(response.json(), "Error")
    assert response.json()["error"].startswith("notes.txt: ")  # named as the client named it


def test_verify_damaged_clip_is_422_with_the_report(http: httpx.Client, signed_clip: Path, conforms) -> None:
    data = signed_clip.read_bytes()
    response = http.post("/v1/verify", params={"filename": "cut.mp4"}, content=data[: len(data) // 2])
    assert response.status_code == 422
    report = response.json()
    conforms(report, "VerificationReport")
    assert report["verdict"] == "error" and report["error"].startswith("cut.mp4")


def test_verify_passes_a_sidecar_on(http: httpx.Client, server: Server, make_clip, conforms) -> None:
    files = {"file": ("clip.mp4", make_clip().read_bytes()), "sidecar": ("clip.c2pa", b"not a manifest store")}
    response = http.post("/v1/verify", files=files)
    assert response.status_code == 422
    report = response.json()
    conforms(report, "VerificationReport")
    assert report["verdict"] == "error" and "JUMBF" in report["error"] and "\n" not in report["error"]
    assert report["error"].startswith("sidecar.c2pa: ") and str(server.tmp_dir) not in response.text


def test_verify_a_webm_with_its_sidecar(http: httpx.Client, server: Server, signer, tmp_path: Path, conforms) -> None:
    from provenance.media.video import make_sample_clip
    from provenance.signing import sign_sidecar

    webm = make_sample_clip(tmp_path / "clip.webm", seconds=0.5, width=96, height=64)
    sidecar = sign_sidecar(webm, signer=signer).output
    files = {"file": ("clip.webm", webm.read_bytes()), "sidecar": ("clip.c2pa", sidecar.read_bytes())}
    report = http.post("/v1/verify", files=files).json()
    conforms(report, "VerificationReport")
    assert (report["verdict"], report["credentials_source"], report["sidecar"]) == (
        "verified",
        "sidecar",
        "sidecar.c2pa",
    )
    alone = http.post("/v1/verify", params={"filename": "clip.webm"}, content=webm.read_bytes())
    assert alone.status_code == 415 and "'sidecar' part" in alone.json()["hint"]
    assert str(server.tmp_dir) not in report["sidecar"] + alone.text


@pytest.mark.parametrize(
    "body, status, words",
    [
        (b"", 400, "no clip"),
        (None, 400, "unexpected file field"),
    ],
)
def test_verify_bad_requests(http: httpx.Client, body: bytes | None, status: int, words: str) -> None:
    if body is None:
        response = http.post("/v1/verify", files={"video": ("a.mp4", b"1234")})
    else:
        response = http.post("/v1/verify", content=body)
    assert response.status_code == status and words in response.json()["error"]


def test_upload_over_the_limit_is_413(http: httpx.Client, server: Server, conforms) -> None:
    response = http.post("/v1/verify", content=b"\0" * (LIMIT + 1))
    assert response.status_code == 413
    conforms(response.json(), "Error")
    # Without a Content-Length (chunked), the limit is enforced as bytes arrive.
    with raw_connection(server) as sock:
        sock.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"\0" * 65536
        try:
            for _ in range(LIMIT // len(chunk) + 4):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may stop reading once it has answered
        status, body = read_response(sock)
    assert status == 413
    wait_for(lambda: server.leftovers() == [], "temp files of the refused upload removed")


def test_a_stalled_upload_is_408(server: Server) -> None:
    with raw_connection(server) as sock:
        sock.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"\0" * 1000)
        status, _ = read_response(sock)  # --upload-timeout 1
    assert status == 408
    wait_for(lambda: server.leftovers() == [], "temp files of the stalled upload removed")


@pytest.mark.parametrize("multipart", [False, True])
def test_a_client_that_disconnects_mid_upload_leaves_no_temp_file(server: Server, multipart: bool) -> None:
    if multipart:
        boundary = b"xyzzy"
        head = (
            b'--xyzzy\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
            b"Content-Type: video/mp4\r\n\r\n"
        )
        headers = b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
    else:
        head, headers = b"", b""
    with raw_connection(server) as sock:
        sock.sendall(
            b"POST /v1/verify HTTP/1.1\r\nHost: t\r\nContent-Length: 900000\r\n"
            + headers
            + b"\r\n"
            + head
            + b"\0" * 200_000
        )
        wait_for(lambda: any(server.tmp_dir.rglob("*")), "the upload reached a temp file")
    # The socket is closed: the client went away halfway through its upload.
    wait_for(lambda: server.leftovers() == [], "temp files of the abandoned upload removed")


# The work gate (503 beyond the queue) is tested in test_service_bounds.py:
# it is entered only once a body is on disk.


# --- POST /v1/sign --------------------------------------------------------------


def test_sign_needs_a_valid_token(http: httpx.Client, make_clip) -> None:
    clip = make_clip().read_bytes()
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": f"Basic {TOKEN}"}):
        response = http.post("/v1/sign", content=clip, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "bearer token" in response.json()["error"]


def test_sign_returns_the_signed_clip(http: httpx.Client, make_clip, tmp_path: Path, trust: TrustStore) -> None:
    clip = make_clip("mov")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with http.stream(
        "POST",
        "/v1/sign",
        params={"filename": "harbour.mov", "title": "Harbour", "source": "ai"},
        content=clip.read_bytes(),
        headers=auth,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "video/quicktime"
        assert response.headers["content-disposition"] == 'attachment; filename="harbour.mov"'
        assert response.headers["x-provenance-signer"] == "Jane Doe"
        out = tmp_path / "harbour.signed.mov"
        with open(out, "wb") as fh:
            for chunk in response.iter_bytes():
                fh.write(chunk)
    assert int(response.headers["content-length"]) == out.stat().st_size
    report = verify(out, trust=trust)
    assert (report.verdict, report.title, report.ai_generated) == (Verdict.VERIFIED, "Harbour", True)
    assert report.manifest_id == response.headers["x-provenance-manifest-id"]


def test_sign_errors(http: httpx.Client, make_clip) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    unsupported = http.post(
        "/v1/sign", content=b"\x1a\x45\xdf\xa3 webm bytes", headers=auth, params={"filename": "clip.webm"}
    )
    assert unsupported.status_code == 415
    assert unsupported.json() == {
        "error": "clip.webm: a Matroska/WebM file is not a supported container",
        "hint": "this service embeds credentials in MP4, MOV, M4V or AVI files; remux the clip to MP4 first",
    }
    bad_source = http.post("/v1/sign", content=make_clip().read_bytes(), headers=auth, params={"source": "dream"})
    assert bad_source.status_code == 400 and "source" in bad_source.json()["error"]


def test_sign_is_503_where_not_enabled(busy_server: Server, make_clip) -> None:
    response = httpx.post(
        busy_server.url + "/v1/sign",
        content=make_clip().read_bytes(),
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 503 and "not enabled" in response.json()["error"]


def test_unknown_paths_and_methods(http: httpx.Client) -> None:
    assert http.get("/v2/nothing").status_code == 404
    assert http.get("/v1/verify").status_code == 405
    assert http.get("/v2/nothing").json()["error"] == "Not Found"


# --- configuration --------------------------------------------------------------


def test_tokens_are_compared_whole() -> None:
    tokens = BearerTokens([TOKEN, "another-long-token-abcdefgh"])
    assert tokens.accepts(TOKEN) and tokens.accepts("another-long-token-abcdefgh")
    assert not tokens.accepts(TOKEN[:-1]) and not tokens.accepts(TOKEN + "x") and not tokens.accepts(None)
    assert not BearerTokens([]).accepts("")


def test_sizes() -> None:
    assert parse_size("2G") == 2 * 1024**3 and parse_size("500M") == 500 * 1024**2
    assert parse_size("1024") == 1024 and parse_size("1.5k") == 1536


def test_server_refuses_short_tokens(run, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("short\n")
    result = run("serve", "--port", "0", "--tokens-file", tokens)
    assert result.exit_code == 2 and "shorter than 16" in result.stderr


# --- load ---------------------------------------------------------------------------


def test_bounded_load_run(server: Server, signed_clip: Path) -> None:
    """A fixed number of verifications from a few client threads, over
    loopback; prints the rate and the server's peak memory (no timing is
    asserted: the machine is shared)."""
    body = signed_clip.read_bytes()
    requests, clients = 60, 4

    def one(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            return client.post("/v1/verify", content=body).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        statuses = list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    assert statuses == [200] * requests
    print(
        f"\nload: {requests} verifications of a {len(body) / 1e3:.0f} kB clip, {clients} clients: "
        f"{requests / elapsed:.1f} requests/s, server peak RSS {server.peak_rss_kib() / 1024:.0f} MiB"
    )
    assert server.leftovers() == []


def test_service_trusts_the_trust_store_and_signs_with_any_signer_backend(
    run, pki: DevPKI, make_clip, tmp_path: Path
) -> None:
    """The service builds its trust as `verify` does (the persistent trust
    store by default) and its signer as `sign` does: here a signer command
    (the KMS seam), named by environment variable, and no development PKI."""
    import shlex
    import sys

    store = tmp_path / "store"
    assert run("trust", "add", "newsroom", pki.root_cert, "--trust-dir", store).exit_code == 0
    script = Path(__file__).resolve().parent / "sign_with_key_file.py"
    env = {
        "PROVENANCE_TRUST_DIR": str(store),
        "PROVENANCE_TOKENS": TOKEN,
        "PROVENANCE_SIGNING_COMMAND": shlex.join([sys.executable, str(script), str(pki.signer_key)]),
        "PROVENANCE_SIGNING_CERT": str(pki.chain),
    }
    with (
        running_server(tmp_path / "srv", "--keys-dir", tmp_path / "no-keys", env=env) as srv,
        httpx.Client(base_url=srv.url, timeout=60) as client,
    ):
        signed = client.post(
            "/v1/sign",
            content=make_clip().read_bytes(),
            headers={"Authorization": f"Bearer {TOKEN}"},
            params={"filename": "a.mp4"},
        )
        assert signed.status_code == 200, signed.text
        assert signed.headers["x-provenance-signer"] == "Jane Doe"
        report = client.post("/v1/verify", content=signed.content, params={"expect_org": "Example News"}).json()
    assert report["verdict"] == "verified" and report["signer"]["trusted_by"] == "newsroom"
    assert report["expectation"]["met"] is True


def test_what_the_service_says_names_no_cli_option_and_no_server_path() -> None:
    """Issue 12, item 7: the page and the service's answers are for web
    visitors and API clients: no command-line options, no server paths."""
    import ast

    import provenance.verification.verifier as verifier
    from provenance.service.app import STATIC, render_page
    from provenance.service.hints import HTTP_HINTS, NOTE_TAILS, http_note
    from tests.test_error_hints import CLI_WORDS

    page = render_page() + (STATIC / "app.js").read_text(encoding="utf-8")
    assert CLI_WORDS.findall(page) == [] and ".pem" not in page
    said: list[str] = list(HTTP_HINTS.values())
    answers = ("ServiceError", "UploadError", "UploadLimitError", "error_response")
    for module in sorted((Path(verifier.__file__).parent.parent / "service").glob("*.py")):
        if module.name == "openapi.py":  # the API's documentation, for developers
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in answers:
                parts = [*node.args, *(k.value for k in node.keywords if k.arg in ("hint", "message"))]
                said += [
                    c.value
                    for p in parts
                    for c in ast.walk(p)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                ]
    assert len(said) > 30
    assert [s for s in said if CLI_WORDS.search(s)] == []
    # the library's notes that name CLI options reach clients reworded
    source = Path(verifier.__file__).read_text(encoding="utf-8")
    for tail, _ in NOTE_TAILS:
        assert tail.removeprefix("; ") in source  # the rewrite still matches the library's words
        assert CLI_WORDS.search(http_note("the init segment" + tail)) is None
    sidecar = "a sidecar manifest (a.c2pa) is also next to this clip. Verify the sidecar with --manifest /srv/up/a.c2pa"
    assert "--" not in http_note(sidecar) and "/srv" not in http_note(sidecar)
