"""The organisation CA: its certificates follow the C2PA CA profiles, it
issues claim-signing certificates from checked CSRs, and refuses bad ones."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from provenance.errors import IdentityError, InsecureKeyError, PassphraseError, UsageError
from provenance.identity import certificates as certs
from provenance.identity.ca import OrganisationCA, init_organisation_ca, issue_certificate
from provenance.identity.csr import create_request, read_request
from provenance.identity.profile import check_chain


@pytest.fixture(scope="module")
def org_ca(tmp_path_factory: pytest.TempPathFactory) -> OrganisationCA:
    return init_organisation_ca(tmp_path_factory.mktemp("ca"), organization="Acme News", country="GB")


def _csr_file(tmp_path: Path, subject: x509.Name, key=None, *, san: x509.GeneralName | None = None) -> Path:
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False)
    path = tmp_path / "req.csr"
    path.write_bytes(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return path


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.Extension:
    return cert.extensions.get_extension_for_oid(oid)


def test_root_and_issuing_ca_follow_their_profiles(org_ca: OrganisationCA) -> None:
    root = x509.load_pem_x509_certificate(org_ca.root_cert.read_bytes())
    issuing = org_ca.issuing_certificate()
    for cert in (root, issuing):
        assert cert.version is x509.Version.v3
        assert {a.oid for a in cert.subject} == {NameOID.COUNTRY_NAME, NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME}
        ku = _ext(cert, ExtensionOID.KEY_USAGE)
        assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign and not ku.value.digital_signature
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey) and cert.public_key().curve.name == "secp384r1"
        assert not _ext(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER).critical
    root_oids = {e.oid for e in root.extensions}  # the root profile: MUST NOT carry AIA or CRL DP
    assert (
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS not in root_oids
        and ExtensionOID.CRL_DISTRIBUTION_POINTS not in root_oids
    )
    bc_root = _ext(root, ExtensionOID.BASIC_CONSTRAINTS)
    assert bc_root.critical and bc_root.value.ca and bc_root.value.path_length <= 2
    bc_issuing = _ext(issuing, ExtensionOID.BASIC_CONSTRAINTS)
    assert bc_issuing.critical and bc_issuing.value.ca and bc_issuing.value.path_length == 0
    assert issuing.not_valid_after_utc - issuing.not_valid_before_utc <= dt.timedelta(days=1827)
    eku = _ext(issuing, ExtensionOID.EXTENDED_KEY_USAGE).value
    assert certs.C2PA_CLAIM_SIGNING in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    policies = _ext(issuing, ExtensionOID.CERTIFICATE_POLICIES).value
    assert any(p.policy_identifier == certs.C2PA_CERTIFICATE_POLICY for p in policies)
    aki = _ext(issuing, ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value
    assert aki.key_identifier == _ext(root, ExtensionOID.SUBJECT_KEY_IDENTIFIER).value.digest
    issuing.verify_directly_issued_by(root)
    for key in (org_ca.root_key, org_ca.issuing_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_creator_request_becomes_a_profile_conforming_certificate(org_ca: OrganisationCA, tmp_path: Path) -> None:
    made = create_request(
        tmp_path / "signer.key",
        tmp_path / "signer.csr",
        subject=certs.Subject("Jane Doe", "Acme News", "GB", email="jane@acme.example"),
    )
    assert stat.S_IMODE(made.key.stat().st_mode) == 0o600
    assert b"PRIVATE" not in made.csr.read_bytes()
    issued = issue_certificate(org_ca, read_request(made.csr), days=366)
    leaf = issued.certificate
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == dt.timedelta(days=366)
    assert list(issued.chain) == [leaf, org_ca.issuing_certificate()]
    assert check_chain(issued.chain).clean
    ku = _ext(leaf, ExtensionOID.KEY_USAGE)
    assert ku.critical and ku.value.digital_signature
    bc = _ext(leaf, ExtensionOID.BASIC_CONSTRAINTS)
    assert bc.critical and not bc.value.ca
    eku = _ext(leaf, ExtensionOID.EXTENDED_KEY_USAGE).value
    assert list(eku) == [certs.C2PA_CLAIM_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert _ext(leaf, ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value.get_values_for_type(x509.RFC822Name) == [
        "jane@acme.example"
    ]
    assert issued.record.read_bytes() == certs.pem(leaf)


def test_validity_over_366_days_is_refused(org_ca: OrganisationCA, tmp_path: Path) -> None:
    req = read_request(_csr_file(tmp_path, certs.Subject("A", "Acme News", "GB").name()))
    with pytest.raises(UsageError, match="366"):
        issue_certificate(org_ca, req, days=367)


def test_certificate_is_cut_to_the_issuing_ca_lifetime(tmp_path: Path) -> None:
    short = init_organisation_ca(tmp_path / "ca", organization="Acme News", country="GB", issuing_days=30)
    req = read_request(_csr_file(tmp_path, certs.Subject("A", "Acme News", "GB").name()))
    issued = issue_certificate(short, req, days=365)
    assert issued.shortened
    assert issued.certificate.not_valid_after_utc <= short.issuing_certificate().not_valid_after_utc


def test_another_organisation_needs_an_explicit_yes(org_ca: OrganisationCA, tmp_path: Path) -> None:
    req = read_request(_csr_file(tmp_path, certs.Subject("Mallory", "Reuters", "GB").name()))
    with pytest.raises(IdentityError, match="O='Reuters'.*O='Acme News'"):
        issue_certificate(org_ca, req)
    assert (
        issue_certificate(org_ca, req, allow_other_org=True)
        .certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0]
        .value
        == "Reuters"
    )


def test_tampered_csr_is_refused(tmp_path: Path) -> None:
    path = _csr_file(tmp_path, certs.Subject("Jane Doe", "Acme News", "GB").name())
    csr = x509.load_pem_x509_csr(path.read_bytes())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    i = der.find(b"Jane Doe")
    der[i : i + 8] = b"John Doe"  # same length: still parses, signature no longer matches
    path.write_bytes(bytes(der))
    with pytest.raises(IdentityError, match="self-signature does not verify"):
        read_request(path)


@pytest.mark.parametrize(
    "subject, san, match",
    [
        (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "No Org")]), None, "lacks O, C"),
        (certs.Subject("Jane", "Acme News", "GB").name(), x509.DNSName("acme.example"), "only an e-mail"),
        (
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "G1"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme News"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Jane"),
                ]
            ),
            None,
            "two-letter",
        ),
    ],
)
def test_requests_outside_the_profile_are_refused(subject, san, match, tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match=match):
        read_request(_csr_file(tmp_path, subject, san=san))


def test_small_rsa_key_and_garbage_are_refused(tmp_path: Path) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(IdentityError, match="1024 bits is too small"):
        read_request(_csr_file(tmp_path, certs.Subject("A", "Acme News", "GB").name(), small))
    junk = tmp_path / "junk.csr"
    junk.write_bytes(b"-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n")
    with pytest.raises(IdentityError, match="not a certificate signing request"):
        read_request(junk)
    with pytest.raises(IdentityError, match="not found"):
        read_request(tmp_path / "missing.csr")


def test_encrypted_ca_key_needs_its_passphrase_and_safe_permissions(tmp_path: Path) -> None:
    ca = init_organisation_ca(tmp_path / "ca", organization="Acme News", country="GB", passphrase=b"ca secret")
    req = read_request(_csr_file(tmp_path, certs.Subject("A", "Acme News", "GB").name()))
    with pytest.raises(PassphraseError, match="wrong passphrase"):
        issue_certificate(ca, req, passphrase=b"nope")
    with pytest.raises(PassphraseError, match="no passphrase"):
        issue_certificate(ca, req)
    assert issue_certificate(ca, req, passphrase=b"ca secret").certificate
    os.chmod(ca.issuing_key, 0o640)
    with pytest.raises(InsecureKeyError, match="accessible by other users"):
        issue_certificate(ca, req, passphrase=b"ca secret")


def test_existing_ca_is_not_replaced_without_force(org_ca: OrganisationCA) -> None:
    before = org_ca.root_key.read_bytes()
    with pytest.raises(UsageError, match="a CA already exists") as err:
        init_organisation_ca(org_ca.directory, organization="X", country="US")
    assert err.value.reason == "output_exists" and "allow replacing it" in err.value.diagnostics()
    assert org_ca.root_key.read_bytes() == before
