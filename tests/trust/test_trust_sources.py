"""The persistent trust store: add from files and URLs (a real HTTP server
on 127.0.0.1), list, remove, update that keeps the previous copy when a
download fails, and the official defaults from a mirror."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509

from provenance.errors import UsageError
from provenance.trust.download import TrustSourceError, download
from provenance.trust.sources import DEFAULT_SOURCES, TrustDirectory, default_trust_dir
from provenance.trust.store import SourceKind
from tests.support.trust_lists import mirror_official_lists


@pytest.fixture
def trust_dir(tmp_path: Path) -> TrustDirectory:
    return TrustDirectory(tmp_path / "store")


def test_default_dir_honours_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROVENANCE_TRUST_DIR", str(tmp_path / "x"))
    assert default_trust_dir() == tmp_path / "x"
    monkeypatch.delenv("PROVENANCE_TRUST_DIR")
    assert default_trust_dir().parts[-2:] == ("provenance", "trust")


def test_add_from_file_and_url_then_list_and_remove(trust_dir: TrustDirectory, http_site, pki) -> None:
    url = http_site.put("newsroom.pem", pki.root_cert.read_bytes())
    a = trust_dir.add("acme-newsroom", url)
    b = trust_dir.add("local-root", str(pki.root_cert), kind=SourceKind.ANCHORS, title="Local root")
    assert a.entries == 1 and a.fetched_at and a.origin == url
    assert b.origin == str(pki.root_cert.resolve())
    assert [e.name for e in trust_dir.entries()] == ["acme-newsroom", "local-root"]
    loaded = trust_dir.load()
    assert loaded.problems == () and [s.display_name for s in loaded.store.sources] == ["acme-newsroom", "Local root"]
    with pytest.raises(UsageError, match="exists"):
        trust_dir.add("acme-newsroom", url)
    trust_dir.remove("acme-newsroom")
    assert [e.name for e in trust_dir.entries()] == ["local-root"]
    assert not (trust_dir.path / "lists" / "acme-newsroom.pem").exists()
    with pytest.raises(UsageError, match="no trust source named"):
        trust_dir.remove("acme-newsroom")


def test_a_failed_add_registers_nothing(trust_dir: TrustDirectory, http_site) -> None:
    with pytest.raises(TrustSourceError, match="HTTP 404"):
        trust_dir.add("gone", http_site.url("missing.pem"))
    http_site.put("garbage.pem", b"<html>captive portal</html>")
    with pytest.raises(TrustSourceError, match="no PEM certificates"):
        trust_dir.add("garbage", http_site.url("garbage.pem"))
    with pytest.raises(UsageError, match="not a valid source name"):
        trust_dir.add("../evil", http_site.url("garbage.pem"))
    with pytest.raises(UsageError, match="only http"):
        trust_dir.add("ftp", "ftp://127.0.0.1/x.pem")
    assert trust_dir.entries() == []


def test_update_keeps_the_previous_copy_on_404_and_garbage(
    trust_dir: TrustDirectory, http_site, pki, tsa_identity
) -> None:
    url = http_site.put("list.pem", pki.root_cert.read_bytes())
    other = http_site.put("other.pem", pki.root_cert.read_bytes())
    trust_dir.add("list", url)
    trust_dir.add("other", other)
    copy = trust_dir.path / "lists" / "list.pem"
    before = copy.read_bytes()
    first = trust_dir.get("list")

    http_site.put("list.pem", b"", status=404)
    http_site.put("other.pem", pki.root_cert.read_bytes() + tsa_identity.root_pem)  # a real update
    outcomes = {o.name: o for o in trust_dir.update()}
    assert not outcomes["list"].ok and "HTTP 404" in outcomes["list"].error
    assert outcomes["other"].ok and outcomes["other"].changed and outcomes["other"].entries == 2
    assert copy.read_bytes() == before
    entry = trust_dir.get("list")
    assert entry.fetched_at == first.fetched_at and entry.sha256 == first.sha256 and "404" in entry.last_error

    damaged = pki.root_cert.read_bytes() + b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    http_site.put("list.pem", damaged)
    [outcome] = trust_dir.update(["list"])
    assert not outcome.ok and "PEM block 2" in outcome.error
    assert copy.read_bytes() == before
    assert trust_dir.load().problems == ()  # the old copy is still used

    http_site.put("list.pem", pki.root_cert.read_bytes())
    [outcome] = trust_dir.update(["list"])
    assert outcome.ok and not outcome.changed and trust_dir.get("list").last_error is None


def test_update_follows_a_changed_file(trust_dir: TrustDirectory, tmp_path: Path, pki, tsa_identity) -> None:
    f = tmp_path / "mine.pem"
    f.write_bytes(pki.root_cert.read_bytes())
    trust_dir.add("mine", str(f))
    f.write_bytes(pki.root_cert.read_bytes() + tsa_identity.root_pem)
    [outcome] = trust_dir.update()
    assert outcome.ok and outcome.changed and trust_dir.get("mine").entries == 2
    f.unlink()
    [outcome] = trust_dir.update()
    assert not outcome.ok and "not found" in outcome.error and trust_dir.get("mine").entries == 2


def test_add_defaults_from_a_mirror(trust_dir: TrustDirectory, http_site, trust_lists: Path) -> None:
    lists = trust_lists
    mirror_official_lists(http_site, lists)
    outcomes = trust_dir.add_defaults(mirror=http_site.base_url)
    assert all(o.ok for o in outcomes), outcomes
    entries = {e.name: e for e in trust_dir.entries()}
    assert set(entries) == {d.name for d in DEFAULT_SOURCES}
    assert entries["c2pa-trust-list"].entries == 30 and entries["c2pa-tsa-trust-list"].kind is SourceKind.TSA
    assert entries["interim-allowed"].entries == len(
        x509.load_pem_x509_certificates((lists / "interim-allowed.pem").read_bytes())
    )
    assert entries["interim-ekus"].kind is SourceKind.EKUS
    settings = trust_dir.load().store.c2pa_settings()["trust"]
    assert {"trust_anchors", "allowed_list", "trust_config"} <= set(settings)


def test_add_defaults_registers_even_when_offline(trust_dir: TrustDirectory, http_site, trust_lists: Path) -> None:
    outcomes = trust_dir.add_defaults(mirror=http_site.base_url)  # nothing served: every fetch is a 404
    assert not any(o.ok for o in outcomes)
    assert len(trust_dir.entries()) == len(DEFAULT_SOURCES)
    loaded = trust_dir.load()
    assert loaded.store.sources == () and len(loaded.problems) == len(DEFAULT_SOURCES)
    mirror_official_lists(http_site, trust_lists)
    assert all(o.ok for o in trust_dir.update())


def test_downloads_are_bounded(http_site) -> None:
    url = http_site.put("big.pem", b"x" * 5000)
    with pytest.raises(TrustSourceError, match="over the 1,000-byte limit"):
        download(url, max_bytes=1000)
    assert download(url, max_bytes=5000) == b"x" * 5000
    with pytest.raises(TrustSourceError, match="cannot download"):
        download("http://127.0.0.1:9/nothing-listens-here.pem", timeout=5)


def test_a_damaged_index_is_a_one_line_error(trust_dir: TrustDirectory) -> None:
    trust_dir.path.mkdir(parents=True)
    trust_dir.index_path.write_text("{not json")
    with pytest.raises(UsageError, match="index is damaged"):
        trust_dir.entries()
    trust_dir.index_path.write_text(json.dumps({"version": 1, "sources": [{"name": "x"}]}))
    with pytest.raises(UsageError, match="index is damaged"):
        trust_dir.load()


PUBLISHED_NAMES = (
    "C2PA-TRUST-LIST.json",
    "C2PA-TSA-TRUST-LIST.pem",
    "interim-anchors.pem",
    "interim-allowed.pem",
    "interim-store.cfg",
)


def test_add_defaults_from_a_folder_with_the_published_names(trust_dir: TrustDirectory, trust_lists: Path) -> None:
    """Issue 12, item 9: a mirror holding the lists under the names their
    published copies have (../shared/trust as it is) is taken as it is."""
    outcomes = trust_dir.add_defaults(mirror=str(trust_lists))
    assert all(o.ok for o in outcomes), outcomes
    entries = {e.name: e for e in trust_dir.entries()}
    assert entries["c2pa-trust-list"].origin == str(trust_lists / "C2PA-TRUST-LIST.pem")  # our name first
    assert entries["interim-anchors"].origin == str(trust_lists / "interim-anchors.pem")
    assert entries["interim-allowed"].entries == 86 and entries["interim-ekus"].entries == 6
    assert trust_dir.load().problems == ()


def test_add_defaults_from_a_url_with_the_published_names(
    trust_dir: TrustDirectory, http_site, trust_lists: Path
) -> None:
    for name in PUBLISHED_NAMES:  # the C2PA list only in its JSON form
        http_site.put(name, (trust_lists / name).read_bytes())
    outcomes = trust_dir.add_defaults(mirror=http_site.base_url)
    assert all(o.ok for o in outcomes), outcomes
    entries = {e.name: e for e in trust_dir.entries()}
    assert entries["c2pa-trust-list"].origin.endswith("/C2PA-TRUST-LIST.json")
    assert entries["c2pa-trust-list"].entries == 30 and entries["c2pa-trust-list"].copy == "c2pa-trust-list.json"
    assert [o.ok for o in trust_dir.update()] == [True] * len(DEFAULT_SOURCES)  # update fetches the same names


def test_a_failed_fetch_says_whether_an_earlier_copy_is_kept(
    trust_dir: TrustDirectory, tmp_path: Path, trust_lists
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    first = trust_dir.add_defaults(mirror=str(empty))
    assert not any(o.ok or o.kept_previous for o in first)
    assert first[0].error == f"no C2PA-TRUST-LIST.pem or C2PA-TRUST-LIST.json in {empty}"
    assert all(o.ok for o in trust_dir.add_defaults(mirror=str(trust_lists)))
    again = trust_dir.add_defaults(mirror=str(empty))
    assert all(o.kept_previous and not o.ok for o in again) and again[0].entries == 30
    with pytest.raises(UsageError, match="must be an http"):
        trust_dir.add_defaults(mirror=str(tmp_path / "missing"))
