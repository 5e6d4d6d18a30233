"""The verify page at `/`, in real headless Chromium (Debian's `chromium`,
driven by Playwright): a signed, a tampered and an unsigned clip, each
uploaded through the file picker, each shown with the right badge and
signer. Screenshots of each state go to test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.identity.pki import DevPKI
from tests.helpers import Server, running_server, tampered_copy
from tests.support.system import require

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_api = pytest.importorskip("playwright.sync_api")


def _require_chromium() -> None:
    require(CHROMIUM.exists(), "Debian's chromium", hint="apt-get install chromium; .ci/run does it")


@pytest.fixture(autouse=True)
def _chromium() -> None:
    _require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki: DevPKI) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("page"), "--keys-dir", pki.directory, trusted_root=pki.root_cert
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _require_chromium()  # module-scoped fixtures run before the autouse check: skip here too
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server: Server) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1000, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/")
    yield page
    context.close()
    # No script errors, no CSP violations, no missing resources. (Chromium
    # logs an API answer of 415 as an error; the page shows it as it should.)
    assert [e for e in errors if "status of 415" not in e] == []


def upload(page, clip: Path, name: str) -> None:
    page.set_input_files("#file", str(clip))
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Checked')")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"verify-page-{name}.png"), full_page=True)


def test_page_is_accessible_before_any_upload(page) -> None:
    assert page.title().startswith("Check a video's content credentials")
    # The file picker has a label and is reached with the keyboard.
    assert page.locator("label[for=file]").inner_text().startswith("⬆")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "file"
    assert page.locator("#status").get_attribute("role") == "status"
    assert page.locator("#result").is_hidden()


def test_signed_clip_shows_verified_with_signer_and_thumbnail(page, signed_clip: Path, tmp_path: Path) -> None:
    clip = tmp_path / "harbour.mp4"
    shutil.copyfile(signed_clip, clip)
    upload(page, clip, "verified")
    assert page.inner_text("#verdict-title") == "Verified"
    assert page.inner_text("#badge-icon") == "✔"
    assert page.inner_text("#signer") == "Jane Doe (Example News)"
    assert page.inner_text("#vouched").startswith("development root")
    assert page.inner_text("#source") == "camera capture"
    assert page.locator("#ai-notice").is_hidden()
    assert page.locator("#thumbnail").evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.evaluate("document.activeElement.id") == "result"  # focus moves to the card
    assert page.locator("#checks-section").is_hidden()


def test_tampered_clip_shows_tampered_and_what_changed(page, signed_clip: Path, tmp_path: Path) -> None:
    clip = tampered_copy(signed_clip, tmp_path / "tampered.mp4")
    upload(page, clip, "tampered")
    assert page.inner_text("#verdict-title") == "Tampered"
    assert page.inner_text("#badge-icon") == "✗"
    assert page.inner_text("#signer") == "Jane Doe (Example News)"
    assert page.locator("#vouched").count() == 0  # nobody vouches for a changed clip
    checks = page.inner_text("#checks")
    assert "the video/audio bytes changed after signing" in checks


def test_unsigned_clip_shows_no_credentials(page, make_clip, tmp_path: Path) -> None:
    clip = make_clip("mov", name="unsigned.mov")
    upload(page, clip, "no-credentials")
    assert page.inner_text("#verdict-title") == "No credentials"
    assert page.locator("#signer").count() == 0
    assert "nothing says who made this clip" in page.inner_text("#headline")


def test_an_ai_clip_with_a_chain(page, make_clip, pki: DevPKI, signer, tmp_path: Path) -> None:
    from provenance.credentials.manifest import SourceType
    from provenance.signing import sign

    generated = sign(
        make_clip(), tmp_path / "generated.mp4", signer=signer, source=SourceType.AI, title="Generated clip"
    ).output
    edited = sign(generated, tmp_path / "edited.mp4", signer=signer, title="Edited clip").output
    upload(page, edited, "ai-chain")
    assert page.inner_text("#verdict-title") == "Verified"
    assert page.locator("#ai-notice").is_visible()
    assert page.inner_text("#source") == "generated by AI"
    tree = page.inner_text("#chain")
    assert "generated.mp4" in tree and "[parentOf]" in tree and "verified" in tree


def test_unsupported_file_says_why(page, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    page.set_input_files("#file", str(text))
    page.wait_for_selector("#status.error")
    assert "notes.txt: not a recognised video" in page.inner_text("#status")
    assert page.locator("#result").is_hidden()


def test_hostile_strings_show_as_visible_escapes_never_as_html(page, tmp_path: Path) -> None:
    """Issue 11, item 1: a title, signer, generator, action parameters and an
    ingredient title full of ESC sequences, bidi overrides, rich markup, HTML
    and 10,000 characters show as visible escapes, cut, and never as markup."""
    from tests.support import hostile

    clips = hostile.make_hostile_clips(tmp_path)
    named = tmp_path / f"upload{hostile.SET_WINDOW_TITLE}\u202e.mp4"
    shutil.copyfile(clips.clip, named)
    upload(page, named, "hostile")
    assert page.inner_text("#verdict-title") == "Untrusted"
    title = page.inner_text("#title")
    assert title.startswith("\\x1b[2K\\x1b[1A\\x1b[2K\\r\\x1b[1;32m✔ VERIFIED ─ Reuters\\x1b[0m " + hostile.MARKUP)
    assert hostile.HTML in title and title.endswith("…") and len(title) <= 200
    assert page.evaluate("window.pwned") is None
    assert page.locator("#facts img, #facts b, #chain img").count() == 0  # the HTML stayed text
    signer = page.inner_text("#signer")
    assert signer.startswith("claims to be Reuters\\x1b[32m\\u202e (" + hostile.MARKUP + "\\u202egnp.exe")
    assert signer.endswith("; no trusted authority vouches for this")
    facts = page.inner_text("#facts")
    assert "\\x1b]8;;https://evil.example/" in facts and "Reu\\u200bters\\u200d\\ufeff\\U000e0041\\u2028" in facts
    assert "note\\u202e=\\u202egnp.exe" in facts and "markup=[red]x[/]" in facts
    assert "upload\\x1b]2;pwned\\x07\\u202e.mp4" in page.inner_text("#status")
    hostile.assert_inert(page.evaluate("document.body.innerText"))

    upload(page, clips.chained, "hostile-chain")
    chain = page.inner_text("#chain")
    assert "news\\x1b]2;pwned\\x07\\x1b[31m\\u202e4pm.mp4" in chain and "edited\\x1b]2;pwned\\x07" in chain
    hostile.assert_inert(page.evaluate("document.body.innerText"))


def test_a_recovered_copy_is_shown_distinctly_not_as_verified(
    browser, pki: DevPKI, signer, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from provenance.repository import open_repository
    from provenance.signing import sign
    from tests.support.scenes import make_scene_clip
    from tests.support.transforms import apply

    repo = tmp_path / "repository.sqlite"
    clip = make_scene_clip(tmp_path / "scene.mp4", seed=51, seconds=8.0)
    with open_repository(str(repo), create=True) as repository:
        sign(clip, tmp_path / "scene.signed.mp4", signer=signer, title="Harbour", register=repository)
    copy, _, _ = apply("360p", tmp_path / "scene.signed.mp4", tmp_path)
    work = tmp_path_factory.mktemp("page-repo")
    with running_server(work, "--keys-dir", pki.directory, "--repo", repo, trusted_root=pki.root_cert) as srv:
        context = browser.new_context(viewport={"width": 1000, "height": 1100})
        page = context.new_page()
        page.goto(srv.url + "/")
        upload(page, copy, "recovered")
        assert page.inner_text("#verdict-title") == "Recovered by content"
        assert page.inner_text("#badge-icon") == "↺"
        assert "recovered" in page.locator("#result").get_attribute("class")
        assert "verified" not in page.locator("#result").get_attribute("class")
        assert page.inner_text("#original-signer") == "Jane Doe (Example News)"
        assert page.inner_text("#vouched").startswith("development root")
        assert "not by bytes" in page.inner_text("#matched")
        # a clip the repository does not know: the note names no server path
        upload(page, make_scene_clip(tmp_path / "other.mp4", seed=7, seconds=4.0), "not-recovered")
        assert page.inner_text("#verdict-title") == "No credentials"
        assert "this service's repository was asked: no match" in page.inner_text("#notes")
        assert str(repo) not in page.evaluate("document.body.innerText")
        context.close()


def _stamped_clip(make_clip, pki: DevPKI, tsa, tmp_path: Path) -> Path:
    from provenance.identity.signer import KeySigner
    from provenance.signing import sign

    signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url)
    return sign(make_clip("mp4"), tmp_path / "stamped.mp4", signer=signer, title="Stamped").output


def _signed_at(page) -> str:
    return page.locator("#facts dt:text-is('Signed at') + dd").inner_text()


def test_an_untrusted_time_stamp_is_worded_as_the_cli_words_it(
    page, make_clip, pki: DevPKI, tsa, trust, tmp_path: Path
) -> None:
    """Issue 12, item 7: a clip whose note says its time-stamp is not
    trusted was shown as "signer's own clock, not time-stamped"."""
    from provenance.cli.render import _time_text
    from provenance.verification.verifier import verify

    clip = _stamped_clip(make_clip, pki, tsa, tmp_path)
    upload(page, clip, "untrusted-time-stamp")
    assert page.inner_text("#verdict-title") == "Verified"
    shown = _signed_at(page)
    assert "not time-stamped" not in shown
    assert shown == _time_text(verify(clip, trust=trust))  # the CLI card's words, for the same report
    assert "time-stamp by Test Time Authority TSA, which no trusted TSA list vouches for" in shown
    assert "not vouched for by any TSA trust source" in page.inner_text("#notes")


def test_the_page_names_no_command_line_option_and_no_server_path(
    browser, make_clip, pki: DevPKI, tsa, tsa_identity, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Issue 12, item 7: trust given to `serve` as files showed as their
    server paths; the page must show no CLI option and no path."""
    tsa_root = tmp_path / "tsa-root.pem"
    tsa_root.write_bytes(tsa_identity.root_pem)
    clip = _stamped_clip(make_clip, pki, tsa, tmp_path)
    work = tmp_path_factory.mktemp("page-files")
    args = ("--no-trust-store", "--trust", pki.root_cert, "--tsa-trust", tsa_root)
    with running_server(work, "--keys-dir", pki.directory, *args) as srv:
        context = browser.new_context(viewport={"width": 1000, "height": 1100})
        page = context.new_page()
        page.goto(srv.url + "/")
        upload(page, clip, "trusted-time-stamp")
        assert page.inner_text("#verdict-title") == "Verified"
        assert page.inner_text("#vouched") == "this service's trust anchors"
        assert _signed_at(page).endswith(
            "(trusted time-stamp by Test Time Authority TSA, vouched for by this service's time-stamping roots)"
        )
        text = page.evaluate("document.body.innerText")
        for server_detail in (str(pki.directory), str(tmp_path), str(work), ".pem", "--", "provenance trust"):
            assert server_detail not in text
        context.close()


def test_an_image_is_refused_once_by_name_without_a_sidecar_field(page, tmp_path: Path) -> None:
    """Issue 12, item 7: a PNG's status named the file twice and told the
    visitor to send a "sidecar part" the page has no field for."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17))
    page.set_input_files("#file", str(photo))
    page.wait_for_selector("#status.error")
    status = page.inner_text("#status")
    assert status.startswith("Could not check photo.png: not a recognised video")
    assert status.count("photo.png") == 1 and "sidecar" not in status
    assert status.endswith("(this page checks MP4, MOV, M4V and AVI videos)")


def test_an_init_segment_note_names_no_command_line_option(page, corpus: Path, tmp_path: Path) -> None:
    clip = tmp_path / "dashinit.mp4"
    shutil.copyfile(corpus / "fragmented/dashinit.mp4", clip)
    upload(page, clip, "init-segment")
    notes = page.inner_text("#notes")
    assert "init segment of a fragmented MP4" in notes
    assert "--" not in notes and "the segments are not checked here" in notes


# --- CAWG identities (issue 10, part 1) ---


def test_a_cawg_identity_has_its_own_status_beside_the_verdict(page, make_clip, pki: DevPKI, tmp_path: Path) -> None:
    from provenance.identity.cawg import CawgIdentity
    from provenance.identity.certificates import Subject
    from provenance.identity.pki import init_dev_pki
    from provenance.identity.signer import KeySigner
    from provenance.signing import sign

    editor = init_dev_pki(tmp_path / "editor", subject=Subject("Ed Itor", "Other Desk", "GB"))
    clip = sign(
        make_clip(),
        tmp_path / "identity.mp4",
        signer=KeySigner.from_files(key=pki.signer_key, chain=pki.chain),
        identity=CawgIdentity.from_files(key=editor.signer_key, cert=editor.chain),
    ).output
    upload(page, clip, "cawg-identity")
    assert page.inner_text("#verdict-title") == "Verified"  # the server trusts no identity root: still verified
    identity = page.locator(".identity.untrusted")
    assert identity.inner_text().startswith("? claims to be Ed Itor (Other Desk) (untrusted")
