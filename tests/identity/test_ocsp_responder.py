"""The organisation CA's revocation and its OCSP responder: a real
``provenance keys ocsp-serve`` on 127.0.0.1, asked by provenance's own
client and by an independent one (``openssl ocsp``), over POST and GET,
and with hostile requests."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp as x509_ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenance.cli import cli
from provenance.errors import IdentityError
from provenance.identity import ocsp, revocation
from provenance.identity.certificates import read_chain
from tests.support.ocsp import OrgCA, issue_creator, make_org_ca, new_creator, org_with_responder, running_responder
from tests.support.system import require


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OrgCA, Path]]:
    with org_with_responder(tmp_path_factory.mktemp("ocsp-org")) as made:
        yield made


_creator = new_creator


def _post(url: str, body: bytes, content_type: str = "application/ocsp-request") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _cli(*args: str | Path) -> tuple[int, str]:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_issued_certificates_name_the_responder_only_once_one_is_set_up(tmp_path: Path) -> None:
    plain = make_org_ca(tmp_path / "plain", responder=False)
    (tmp_path / "a").mkdir()
    without = issue_creator(plain, tmp_path / "a")
    assert ocsp.responder_urls(without.certificate) == ()
    revocation.setup_responder(plain.ca, url=plain.url)
    (tmp_path / "b").mkdir()
    with_aia = issue_creator(plain, tmp_path / "b")
    assert ocsp.responder_urls(with_aia.certificate) == (plain.url,)
    # the delegated responder: issued by the issuing CA, id-kp-OCSPSigning only, ocsp-nocheck
    responder = read_chain(revocation.responder_cert_file(plain.ca))[0]
    issuing = plain.ca.issuing_certificate()
    responder.verify_directly_issued_by(issuing)
    eku = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.OCSP_SIGNING] and eku.critical
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)


def test_the_responder_answers_good_then_revoked_with_reason_and_time(org) -> None:
    authority, _ = org
    creator = _creator(org, "Good Then Revoked")
    chain = read_chain(creator.chain)
    first = ocsp.fetch_status(chain)
    assert first.state is ocsp.CertState.GOOD and first.url == authority.url
    assert "OCSP Responder" in first.responder
    code, out = _cli(
        "keys", "ca", "revoke", creator.serial, "--ca", authority.ca.directory, "--reason", "key-compromise", "--json"
    )
    assert code == 0, out
    recorded = json.loads(out)
    assert recorded["serial"] == creator.serial and recorded["reason"] == "key-compromise"
    second = ocsp.fetch_status(chain)  # the responder re-reads the record: at once
    assert second.state is ocsp.CertState.REVOKED
    assert second.reason == "key_compromise"
    assert second.revoked_at is not None and second.revoked_at.isoformat() == recorded["revoked_at"]
    # revoking again keeps the first record
    code, out = _cli("keys", "ca", "revoke", creator.chain, "--ca", authority.ca.directory, "--json")
    assert code == 0 and json.loads(out)["already_revoked"] is True


def test_openssl_agrees_with_the_responder_over_post(org, tmp_path: Path) -> None:
    require(shutil.which("openssl") is not None, "openssl", hint="apt-get install openssl")
    authority, _ = org
    good = _creator(org, "Openssl Good")
    revoked = _creator(org, "Openssl Revoked")
    revocation.revoke(authority.ca, str(revoked.chain), reason="superseded")
    for creator, expected in ((good, "good"), (revoked, "revoked")):
        leaf = tmp_path / f"{creator.serial}.pem"
        leaf.write_bytes(
            creator.chain.read_bytes().split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
        )
        done = subprocess.run(
            [
                "openssl",
                "ocsp",
                "-issuer",
                str(authority.ca.issuing_cert),
                "-cert",
                str(leaf),
                "-url",
                authority.url,
                "-CAfile",
                str(authority.root),
                "-resp_text",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert "Response verify OK" in done.stderr + done.stdout  # signature and responder chain check out
        assert f"{leaf}: {expected}" in done.stdout
        assert "OCSP Nonce" in done.stdout  # openssl's nonce is echoed
        if expected == "revoked":
            assert "Reason: superseded" in done.stdout


def test_get_requests_are_answered_under_any_path(org) -> None:
    authority, _ = org
    creator = _creator(org, "Get Request")
    chain = read_chain(creator.chain)
    der = ocsp.request_for(chain[0], chain[1])
    encoded = urllib.parse.quote(base64.b64encode(der).decode(), safe="")
    raw = base64.b64encode(der).decode()  # what c2pa-rs sends: unescaped, '/' and '+' included
    for url in (authority.url + encoded, authority.url + "ocsp/" + encoded, authority.url + raw):
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.headers["Content-Type"] == "application/ocsp-response"
            status = ocsp.check_response(answer.read(), chain, url=url)
        assert status.state is ocsp.CertState.GOOD


def test_hostile_requests_get_ocsp_errors_not_crashes(org) -> None:
    authority, _ = org
    code, body = _post(authority.url, b"\x30\x03not ocsp")
    assert code == 200
    assert x509_ocsp.load_der_ocsp_response(body).response_status is x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    code, _ = _post(authority.url, b"x" * (ocsp.MAX_REQUEST_BYTES + 1))
    assert code == 413
    with urllib.request.urlopen(authority.url + "%ff%00garbage", timeout=10) as answer:
        status = x509_ocsp.load_der_ocsp_response(answer.read()).response_status
    assert status is x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    # a certificate of another CA: not this responder's to answer
    from provenance.identity.certificates import Subject
    from provenance.identity.pki import init_dev_pki

    other = init_dev_pki(authority.ca.directory.parent / "other", subject=Subject("X", "Other", "US"))
    leaf, issuer = read_chain(other.chain)
    code, body = _post(authority.url, ocsp.request_for(leaf, issuer))
    assert x509_ocsp.load_der_ocsp_response(body).response_status is x509_ocsp.OCSPResponseStatus.UNAUTHORIZED
    # a serial this CA never issued, under its own name and key: unknown
    fake = x509_ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        *ocsp._issuer_hashes(authority.ca.issuing_certificate(), hashes.SHA1()), 12345, hashes.SHA1()
    )
    from cryptography.hazmat.primitives import serialization

    code, body = _post(authority.url, fake.build().public_bytes(serialization.Encoding.DER))
    answer = x509_ocsp.load_der_ocsp_response(body)
    assert answer.certificate_status is x509_ocsp.OCSPCertStatus.UNKNOWN
    # and it still answers afterwards
    assert ocsp.fetch_status(read_chain(_creator(org, "Still Answers").chain)).state is ocsp.CertState.GOOD


def test_revoke_refuses_what_this_ca_did_not_issue(org, tmp_path: Path) -> None:
    authority, _ = org
    code, out = _cli("keys", "ca", "revoke", "abc123", "--ca", authority.ca.directory)
    assert code == 6 and "not among the certificates this CA issued" in out
    code, out = _cli("keys", "ca", "revoke", "not-hex!", "--ca", authority.ca.directory)
    assert code == 2 and "neither a certificate file nor a hexadecimal serial" in out
    other = make_org_ca(tmp_path / "other", responder=False)
    (tmp_path / "o").mkdir()
    stranger = issue_creator(other, tmp_path / "o")
    code, out = _cli("keys", "ca", "revoke", stranger.chain, "--ca", authority.ca.directory)
    assert code == 6 and "was not issued by this CA" in out
    assert len(out.strip().splitlines()) == 1


def test_a_damaged_revocation_record_is_a_one_line_error(tmp_path: Path) -> None:
    authority = make_org_ca(tmp_path / "ca")
    (tmp_path / "c").mkdir()
    creator = issue_creator(authority, tmp_path / "c")
    revocation.revoked_file(authority.ca).write_text('{"revoked": {"zz": 1}}')
    before = revocation.revoked_file(authority.ca).read_bytes()
    with pytest.raises(IdentityError, match="malformed"):
        revocation.revocations(authority.ca)
    code, out = _cli("keys", "ca", "revoke", creator.serial, "--ca", authority.ca.directory)
    assert code == 6 and "restore the CA folder" in out and len(out.strip().splitlines()) == 1
    assert revocation.revoked_file(authority.ca).read_bytes() == before  # never overwritten
    # the responder answers internalError rather than a wrong "good"
    with running_responder(authority, tmp_path / "responder.log"):
        code, body = _post(authority.url, ocsp.request_for(*read_chain(creator.chain)[:2]))
    assert code == 200
    assert x509_ocsp.load_der_ocsp_response(body).response_status is x509_ocsp.OCSPResponseStatus.INTERNAL_ERROR
    assert "Traceback" not in (tmp_path / "responder.log").read_text()


def test_published_response_file_and_revocation_before_issue_time(tmp_path: Path) -> None:
    authority = make_org_ca(tmp_path / "ca")
    (tmp_path / "c").mkdir()
    creator = issue_creator(authority, tmp_path / "c")
    out = tmp_path / "status.der"
    code, text = _cli("keys", "ca", "ocsp-response", creator.chain, "-o", out, "--ca", authority.ca.directory)
    assert code == 0, text
    status = ocsp.check_response(out.read_bytes(), read_chain(creator.chain), url=str(out))
    assert status.state is ocsp.CertState.GOOD
    assert status.next_update is not None and (status.next_update - status.this_update).total_seconds() == 86400
    code, _ = _cli("keys", "ca", "ocsp-response", creator.chain, "-o", out, "--ca", authority.ca.directory)
    assert code == 2  # exists, no --force
    code, _ = _cli(
        "keys", "ca", "revoke", creator.serial, "--ca", authority.ca.directory, "--at", "2026-01-01T00:00:00Z"
    )
    assert code == 0
    code, _ = _cli("keys", "ca", "ocsp-response", creator.chain, "-o", out, "--ca", authority.ca.directory, "--force")
    revoked = ocsp.check_response(out.read_bytes(), read_chain(creator.chain), url=str(out))
    assert revoked.state is ocsp.CertState.REVOKED
    assert revoked.revoked_at is not None and revoked.revoked_at.isoformat() == "2026-01-01T00:00:00+00:00"


def test_a_stale_or_revoked_response_file_is_refused_for_signing(tmp_path: Path) -> None:
    import datetime as dt

    from provenance.errors import CredentialError

    authority = make_org_ca(tmp_path / "ca")
    (tmp_path / "c").mkdir()
    creator = issue_creator(authority, tmp_path / "c")
    chain = read_chain(creator.chain)
    responder = revocation.Responder.load(authority.ca)
    old, _ = responder.response_for(chain[0], now=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    # c2pa-rs would call a good answer past its nextUpdate "revoked": refused before signing
    with pytest.raises(CredentialError) as stale:
        ocsp.usable_status(chain, response=old, source="old.der")
    assert stale.value.reason == "ocsp_stale"
    fresh, word = responder.response_for(chain[0])
    assert word == "good" and ocsp.usable_status(chain, response=fresh).state is ocsp.CertState.GOOD
    revocation.revoke(authority.ca, creator.serial, reason="privilege-withdrawn")
    revoked, word = responder.response_for(chain[0])
    assert word == "revoked"
    with pytest.raises(IdentityError) as refused:
        ocsp.usable_status(chain, response=revoked)
    assert refused.value.reason == "signer_revoked" and "privilege withdrawn" in str(refused.value)


def test_keys_issue_says_which_responder_the_certificate_names(tmp_path: Path) -> None:
    authority = make_org_ca(tmp_path / "ca")
    code, _ = _cli(
        "keys", "request", "--dir", tmp_path / "k", "--name", "Ann", "--org", "Example News", "--country", "US"
    )
    assert code == 0
    code, out = _cli(
        "keys",
        "issue",
        tmp_path / "k" / "signer.csr",
        "-o",
        tmp_path / "chain.pem",
        "--ca",
        authority.ca.directory,
        "--json",
    )
    assert code == 0 and json.loads(out)["ocsp_url"] == authority.url
    assert ocsp.responder_urls(read_chain(tmp_path / "chain.pem")[0]) == (authority.url,)


def test_revocations_at_the_same_time_are_all_kept(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    authority = make_org_ca(tmp_path / "ca", responder=False)
    creators = []
    for i in range(6):
        (tmp_path / str(i)).mkdir()
        creators.append(issue_creator(authority, tmp_path / str(i), f"Creator {i}"))
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda c: revocation.revoke(authority.ca, c.serial, reason="superseded"), creators))
    assert set(revocation.revocations(authority.ca)) == {c.certificate.serial_number for c in creators}
