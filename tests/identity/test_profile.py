"""The C2PA profile linter: each finding on a certificate made to break
exactly one rule, and the REJECTED/PROFILE split checked against c2pa-rs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID as EKU

from provenance.cli.hints import cli_diagnostics
from provenance.errors import CredentialError, ExitCode
from provenance.identity import certificates as certs
from provenance.identity.algorithms import SigningAlgorithm
from provenance.identity.profile import ProfileError, Severity, check_chain, require_signable
from provenance.identity.signer import KeySigner
from provenance.trust.store import SourceKind, TrustSource, TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify
from tests.certfactory import NOW, SIGNING_KU, MiniCA

R, P = Severity.REJECTED, Severity.PROFILE


@pytest.fixture(scope="module")
def ca() -> MiniCA:
    return MiniCA.make()


@pytest.fixture(scope="module")
def rsa1024() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _chain(ca: MiniCA, pair: tuple[Any, x509.Certificate]) -> tuple[Any, list[x509.Certificate]]:
    return pair[0], [pair[1], ca.issuing]


def _variant_chain(mini: MiniCA, **changes: Any) -> tuple[Any, list[x509.Certificate]]:
    issuer_key, issuer = mini.issuing_variant(**changes)
    key, leaf = mini.leaf_under(issuer_key, issuer)
    return key, [leaf, issuer]


# name -> (builder, expected code, expected severity); each breaks one rule
CASES: dict[str, tuple[Callable[..., tuple[Any, list[x509.Certificate]]], str, Severity]] = {
    "no EKU": (lambda ca, k: _chain(ca, ca.leaf(eku=None)), "eku-missing", R),
    "EKU without emailProtection": (
        lambda ca, k: _chain(ca, ca.leaf(eku=[certs.C2PA_CLAIM_SIGNING])),
        "eku-email-protection",
        R,
    ),
    "EKU without claimSigning": (lambda ca, k: _chain(ca, ca.leaf(eku=[EKU.EMAIL_PROTECTION])), "eku-claim-signing", P),
    "anyExtendedKeyUsage": (
        lambda ca, k: _chain(
            ca, ca.leaf(eku=[certs.C2PA_CLAIM_SIGNING, EKU.EMAIL_PROTECTION, EKU.ANY_EXTENDED_KEY_USAGE])
        ),
        "eku-any",
        R,
    ),
    "timeStamping on a signer": (
        lambda ca, k: _chain(ca, ca.leaf(eku=[certs.C2PA_CLAIM_SIGNING, EKU.EMAIL_PROTECTION, EKU.TIME_STAMPING])),
        "eku-tsa-ocsp",
        R,
    ),
    "cA=true signer": (lambda ca, k: _chain(ca, ca.leaf(ca=True)), "ca-signer", R),
    "no basic constraints": (
        lambda ca, k: _chain(ca, ca.leaf(basic_constraints=False)),
        "basic-constraints-missing",
        P,
    ),
    "RSA 1024": (lambda ca, k: _chain(ca, ca.leaf(k)), "key-too-small", R),
    "curve P-224": (lambda ca, k: _chain(ca, ca.leaf(ec.generate_private_key(ec.SECP224R1()))), "curve-unsupported", R),
    "validity 400 days": (lambda ca, k: _chain(ca, ca.leaf(days=400)), "validity-too-long", P),
    "expired": (lambda ca, k: _chain(ca, ca.leaf(not_before=NOW - dt.timedelta(days=30), days=1)), "expired", R),
    "not yet valid": (lambda ca, k: _chain(ca, ca.leaf(not_before=NOW + dt.timedelta(days=2))), "not-yet-valid", R),
    "no SKI": (lambda ca, k: _chain(ca, ca.leaf(ski=False)), "ski-missing", P),
    "no AKI": (lambda ca, k: _chain(ca, ca.leaf(aki=False)), "aki-missing", R),
    "no key usage": (lambda ca, k: _chain(ca, ca.leaf(key_usage=None)), "key-usage-missing", R),
    "keyEncipherment only": (
        lambda ca, k: _chain(
            ca, ca.leaf(key_usage={**SIGNING_KU, "digital_signature": False, "key_encipherment": True})
        ),
        "key-usage-digital-signature",
        R,
    ),
    "keyCertSign on signer": (
        lambda ca, k: _chain(ca, ca.leaf(key_usage={**SIGNING_KU, "key_cert_sign": True})),
        "key-usage-cert-sign",
        R,
    ),
    "key usage not critical": (
        lambda ca, k: _chain(ca, ca.leaf(key_usage_critical=False)),
        "key-usage-not-critical",
        P,
    ),
    "no C2PA policy": (lambda ca, k: _chain(ca, ca.leaf(policies=False)), "policy-missing", P),
    "unknown critical extension": (
        lambda ca, k: _chain(
            ca, ca.leaf(critical_extra=x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x05\x00"))
        ),
        "critical-extension",
        R,
    ),
    "chain: wrong issuer name": (
        lambda ca, k: _chain(ca, ca.leaf(issuer_name=certs.Subject("Other", "Test Org", "US").name())),
        "chain-issuer",
        P,
    ),
    "chain: bad signature": (lambda ca, k: _chain(ca, ca.leaf(signing_key=ca.root_key)), "chain-signature", R),
    "chain: includes the root": (
        lambda ca, k: (lambda kc: (kc[0], kc[1] + [ca.root]))(_chain(ca, ca.leaf())),
        "chain-includes-root",
        P,
    ),
    "chain: issuer not a CA": (lambda ca, k: _variant_chain(ca, ca=False), "issuer-not-ca", R),
    "chain: issuer without keyCertSign": (lambda ca, k: _variant_chain(ca, key_cert_sign=False), "issuer-key-usage", R),
    "chain: issuer expired": (
        lambda ca, k: _variant_chain(ca, not_before=NOW - dt.timedelta(days=30), days=1),
        "expired",
        R,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_finding_on_a_certificate_that_breaks_one_rule(case: str, ca: MiniCA, rsa1024) -> None:
    build, code, severity = CASES[case]
    _, chain = build(ca, rsa1024)
    report = check_chain(chain)
    assert [(f.code, f.severity) for f in report.findings] == [(code, severity)], [f.line() for f in report.findings]
    finding = report.findings[0]
    assert finding.rule and "\n" not in finding.line() and finding.subject in finding.line()
    assert report.to_dict()["findings"][0]["code"] == code
    assert report.to_dict()["signable"] is (severity is P)


def test_a_profile_conforming_chain_is_clean(ca: MiniCA, pki) -> None:
    assert check_chain([ca.leaf()[1], ca.issuing]).clean
    assert check_chain(certs.read_chain(pki.chain)).clean


def test_validity_is_judged_at_the_given_time(ca: MiniCA) -> None:
    _, leaf = ca.leaf(days=30)
    assert check_chain([leaf, ca.issuing], at=NOW + dt.timedelta(days=10)).clean
    later = check_chain([leaf, ca.issuing], at=NOW + dt.timedelta(days=60))
    assert [f.code for f in later.findings] == ["expired"]


def test_require_signable_names_the_first_rejected_rule(ca: MiniCA) -> None:
    _, leaf = ca.leaf(eku=[certs.C2PA_CLAIM_SIGNING, EKU.EMAIL_PROTECTION, EKU.ANY_EXTENDED_KEY_USAGE], ca=True)
    with pytest.raises(ProfileError) as err:
        require_signable([leaf, ca.issuing])
    message = err.value.diagnostics()
    assert err.value.exit_code is ExitCode.IDENTITY
    assert "cA=TRUE" in message and "1 more finding" in message and "--" not in message
    # the library names no command; the CLI's hint for this reason does
    assert err.value.reason == "chain_rejected" and "keys check" in cli_diagnostics(err.value)
    assert len(err.value.report.rejected) == 2
    # profile-only findings do not stop signing
    assert require_signable([ca.leaf(days=400)[1], ca.issuing]).findings


def _sign_without_precheck(
    monkeypatch: pytest.MonkeyPatch, key: Any, chain: list[x509.Certificate], clip: Path, out: Path
) -> None:
    # Turn provenance's own refusal off so c2pa-rs alone decides.
    from provenance import _sign_step, signing

    monkeypatch.setattr(_sign_step, "require_signable", lambda chain: None)
    alg = SigningAlgorithm.PS256 if isinstance(key, rsa.RSAPrivateKey) else SigningAlgorithm.ES256
    signing.sign(clip, out, signer=KeySigner(key, chain=chain, alg=alg), force=True)


@pytest.mark.parametrize("case", list(CASES))
def test_rejected_findings_are_what_c2pa_rs_rejects(
    case: str, ca: MiniCA, rsa1024, make_clip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Measured against c2pa-rs: a REJECTED finding makes c2pa-rs refuse to
    sign or the clip fail verification; a PROFILE one still verifies."""
    build, _, severity = CASES[case]
    key, chain = build(ca, rsa1024)
    trust = TrustStore().with_source(TrustSource("test root", SourceKind.ANCHORS, (ca.root,)))
    out = tmp_path / "signed.mp4"
    try:
        _sign_without_precheck(monkeypatch, key, chain, make_clip("mp4"), out)
    except CredentialError:
        assert severity is R, f"c2pa-rs refused to sign a chain with a profile-only finding ({case})"
        return
    verdict = verify(out, trust=trust).verdict
    assert (verdict is not Verdict.VERIFIED) is (severity is R), f"{case}: c2pa-rs says {verdict.value}"
