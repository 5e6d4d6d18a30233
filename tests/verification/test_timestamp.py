"""Trusted time (RFC 3161) against a real TSA on 127.0.0.1.

The headline behaviour: a clip signed while its certificate was valid and
time-stamped still verifies after the certificate expired; the same clip
without a time-stamp is ``invalid`` (signingCredential.expired). The
signing runs in a child process whose clock is five days in the past
(libfaketime), because c2pa-rs reads the system clock and has no setting
for another time; nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import tsp

from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm, generate_key
from provenance.identity.keys import write_private_key
from provenance.identity.signer import KeySigner
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustSource, TrustStore
from provenance.verification.policy import RequireTimestamp
from provenance.verification.report import TimeSource, Verdict
from provenance.verification.verifier import verify
from tests.support import flat
from tests.support.clock import run_cli_at

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _store(pki, tsa_identity=None, *, tsa_kind: SourceKind = SourceKind.TSA) -> TrustStore:
    store = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.ANCHORS, name="newsroom")
    if tsa_identity is not None:
        store = store.with_source(TrustSource.from_pem(tsa_identity.root_pem, kind=tsa_kind, name="test TSA roots"))
    return store


@pytest.fixture
def tsa_root_pem(tsa_identity, tmp_path: Path) -> Path:
    path = tmp_path / "tsa-root.pem"
    path.write_bytes(tsa_identity.root_pem)
    return path


def test_the_test_tsa_follows_the_c2pa_tsa_profile(tsa_identity) -> None:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    eku = tsa_identity.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert tsa_identity.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_sign_with_tsa_sends_an_rfc3161_request_and_records_the_stamp(make_clip, pki, tsa, tmp_path: Path) -> None:
    tsa.authority.gen_time = NOW - dt.timedelta(hours=3)
    signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url)
    result = sign(make_clip("mp4"), tmp_path / "stamped.mp4", signer=signer)
    assert result.timestamp_authority == "Test Time Authority TSA"
    assert result.timestamped_at == (NOW - dt.timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    assert result.to_dict()["timestamped_at"] == result.timestamped_at
    [raw] = tsa.authority.requests  # what c2pa-rs asked for (POSTed as application/timestamp-query)
    request = tsp.TimeStampReq.load(raw)
    assert request["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert request["nonce"].native is not None and request["cert_req"].native is True


def test_verify_reports_a_trusted_time_stamp_and_its_authority(
    run, make_clip, pki, tsa, tsa_root_pem: Path, tmp_path: Path
) -> None:
    # a fixed TSA time (the dev PKI's certificate is only valid from its creation on)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    tsa.authority.gen_time = stamp
    out = tmp_path / "stamped.mp4"
    signed = run("sign", make_clip("mp4"), "-o", out, "--tsa", tsa.url)
    assert signed.exit_code == 0, signed.output
    assert "time-stamped" in signed.output and "Test Time Authority TSA" in signed.output

    trusted = run("verify", out, "--tsa-trust", tsa_root_pem, "--json")
    data = json.loads(trusted.output)
    assert trusted.exit_code == 0 and data["verdict"] == "verified"
    assert data["timestamped"] is True and data["time_source"] == "trusted_timestamp"
    assert data["signed_at"] == stamp.isoformat().replace("+00:00", "Z")
    assert data["timestamp"] == {
        "time": data["signed_at"],
        "authority": "Test Time Authority TSA",
        "trusted": True,
        "trusted_by": str(tsa_root_pem),
    }
    card = flat(run("verify", out, "--tsa-trust", tsa_root_pem).output)
    assert "(trusted time-stamp by Test Time Authority TSA, vouched for by /" in card  # a long path: rich may fold it
    assert run("verify", out, "--tsa-trust", tsa_root_pem, "--require-timestamp").exit_code == 0

    # without TSA trust the stamp is only a claim: verified (the certificate is valid now), not time-stamped
    plain = json.loads(run("verify", out, "--json").output)
    assert plain["verdict"] == "verified" and plain["timestamped"] is False
    assert plain["time_source"] == "untrusted_timestamp" and plain["timestamp"]["trusted"] is False
    assert any("not vouched for by any TSA trust source" in n for n in plain["notes"])
    required = run("verify", out, "--require-timestamp")
    assert required.exit_code == 7 and "a trusted time-stamp is required" in flat(required.output)


def test_tsa_trust_from_the_trust_store(run, make_clip, pki, tsa, tsa_root_pem: Path, tmp_path: Path) -> None:
    out = sign(
        make_clip("mp4"),
        tmp_path / "s.mp4",
        signer=KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url),
    ).output
    assert run("trust", "add", "acme-tsa", tsa_root_pem, "--kind", "tsa", "--title", "Acme TSA roots").exit_code == 0
    data = json.loads(run("verify", out, "--json").output)
    assert data["timestamp"]["trusted_by"] == "Acme TSA roots" and data["timestamped"] is True


def test_a_tsa_root_given_as_signer_anchor_does_not_make_a_trusted_time(
    make_clip, pki, tsa, tsa_identity, tmp_path: Path
) -> None:
    out = sign(
        make_clip("mp4"),
        tmp_path / "s.mp4",
        signer=KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url),
    ).output
    report = verify(out, trust=_store(pki, tsa_identity, tsa_kind=SourceKind.ANCHORS))
    assert report.verdict is Verdict.VERIFIED
    assert report.timestamped is False and report.time_source is TimeSource.UNTRUSTED_TIMESTAMP
    good = verify(out, trust=_store(pki, tsa_identity))
    assert good.timestamped is True and good.timestamp.trusted_by == "test TSA roots"


def test_a_tsa_root_never_vouches_for_a_signer(signed_clip: Path, pki) -> None:
    """c2pa-rs keeps one anchor pool; provenance keeps signer and TSA trust apart."""
    as_tsa = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.TSA, name="some TSA list")
    report = verify(signed_clip, trust=as_tsa)
    assert report.verdict is Verdict.UNTRUSTED and report.signer.trusted_by is None
    assert any("time-stamping authority list" in n for n in report.notes)


def test_time_from_the_signers_clock_without_tsa(signed_clip: Path, trust) -> None:
    report = verify(signed_clip, trust=trust, policy=RequireTimestamp())
    assert report.time_source is TimeSource.SIGNER_CLOCK and report.timestamp is None
    assert report.verdict is Verdict.WRONG_SIGNER


def test_unreachable_or_bad_tsa_is_a_one_line_error(run, make_clip, tmp_path: Path) -> None:
    clip = make_clip("mp4")
    out = tmp_path / "o.mp4"
    down = run("sign", clip, "-o", out, "--tsa", "http://127.0.0.1:9/tsa")
    lines = [line for line in down.output.splitlines() if line.strip()]
    assert down.exit_code == 1 and len(lines) == 1 and "time-stamping failed" in lines[0], down.output
    assert not out.exists()
    bad = run("sign", clip, "-o", out, "--tsa", "ftp://127.0.0.1/tsa")
    assert bad.exit_code == 2 and "http(s) URL" in bad.output


@dataclass
class ShortLived:
    key: Path
    chain: Path
    root_pem: Path
    store: TrustStore


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory, tsa_identity) -> ShortLived:
    """A claim-signing certificate valid from ten days ago until yesterday."""
    d = tmp_path_factory.mktemp("short-lived")
    root_key = generate_key(SigningAlgorithm.ES384)
    root = certs.root_ca(
        certs.Subject("Brief Root CA", "Brief News", "US"), root_key, not_before=NOW - dt.timedelta(days=400)
    )
    ica_key = generate_key(SigningAlgorithm.ES384)
    ica = certs.issuing_ca(
        certs.Subject("Brief Issuing CA", "Brief News", "US"),
        ica_key.public_key(),
        root,
        root_key,
        not_before=NOW - dt.timedelta(days=400),
    )
    key = generate_key(SigningAlgorithm.ES256)
    leaf = certs.claim_signing_leaf(
        certs.Subject("Brief Reporter", "Brief News", "US"),
        key.public_key(),
        ica,
        ica_key,
        not_before=NOW - dt.timedelta(days=10),
        days=9,
    )
    write_private_key(d / "signer.key", key)
    (d / "chain.pem").write_bytes(certs.pem(leaf, ica))
    (d / "root.pem").write_bytes(certs.pem(root))
    store = (
        TrustStore()
        .with_source(TrustSource.from_pem(certs.pem(root), kind=SourceKind.ANCHORS, name="Brief News root"))
        .with_source(TrustSource.from_pem(tsa_identity.root_pem, kind=SourceKind.TSA, name="test TSA roots"))
    )
    return ShortLived(d / "signer.key", d / "chain.pem", d / "root.pem", store)


def _sign_five_days_ago(short_lived: ShortLived, clip: Path, out: Path, tsa_url: str | None) -> None:
    args = ["sign", clip, "-o", out, "--key", short_lived.key, "--cert", short_lived.chain]
    if tsa_url:
        args += ["--tsa", tsa_url]
    child = run_cli_at(-5, *args)
    assert child.returncode == 0, child.stderr


def test_time_stamped_clip_still_verifies_after_the_certificate_expired(
    short_lived: ShortLived, make_clip, tsa, tmp_path: Path
) -> None:
    tsa.authority.gen_time = NOW - dt.timedelta(days=5)
    out = tmp_path / "stamped.mp4"
    _sign_five_days_ago(short_lived, make_clip("mp4"), out, tsa.url)
    report = verify(out, trust=short_lived.store)
    assert report.verdict is Verdict.VERIFIED, report.failures
    assert report.timestamped is True and report.timestamp.trusted_by == "test TSA roots"
    assert report.signed_at == (NOW - dt.timedelta(days=5)).isoformat().replace("+00:00", "Z")
    assert report.signer.trusted_by == "Brief News root"
    assert dt.datetime.fromisoformat(report.signer.not_after) < NOW  # expired now, valid when stamped

    # the same stamp from a TSA nobody vouches for does not rescue the expired certificate
    no_tsa_trust = TrustStore(tuple(s for s in short_lived.store.sources if s.kind is not SourceKind.TSA))
    untrusted_time = verify(out, trust=no_tsa_trust)
    assert untrusted_time.verdict is Verdict.INVALID
    assert "signingCredential.expired" in [s.code for s in untrusted_time.failures]


def test_the_same_clip_without_time_stamp_is_expired(short_lived: ShortLived, make_clip, run, tmp_path: Path) -> None:
    out = tmp_path / "unstamped.mp4"
    _sign_five_days_ago(short_lived, make_clip("mp4"), out, None)
    report = verify(out, trust=short_lived.store)
    assert report.verdict is Verdict.INVALID and report.exit_code == 1
    assert "signingCredential.expired" in [s.code for s in report.failures]
    assert report.timestamped is False and report.time_source is TimeSource.SIGNER_CLOCK
    # the signer's own (five-day-old) clock is what it claims
    assert report.signed_at.startswith((NOW - dt.timedelta(days=5)).date().isoformat())
    card = run("verify", out, "--trust", short_lived.root_pem)
    assert card.exit_code == 1
    assert "signingCredential.expired the signer's certificate had expired when it signed" in flat(card.output)
