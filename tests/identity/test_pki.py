import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.errors import OutputExistsError
from provenance.identity.algorithms import SigningAlgorithm
from provenance.identity.certificates import C2PA_CLAIM_SIGNING, Subject
from provenance.identity.pki import DevPKI, init_dev_pki
from provenance.identity.signer import KeySigner
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustStore
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify


def test_leaf_follows_the_c2pa_claim_signing_profile(pki: DevPKI) -> None:
    leaf = x509.load_pem_x509_certificate(pki.signer_cert.read_bytes())
    issuing = x509.load_pem_x509_certificate(pki.issuing_cert.read_bytes())
    assert leaf.version is x509.Version.v3
    assert leaf.serial_number > 2**64  # random, high entropy
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= dt.timedelta(days=366)
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert C2PA_CLAIM_SIGNING in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
    ski = leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    issuing_ski = issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski.digest and aki.key_identifier == issuing_ski.digest
    subject = {a.oid: a.value for a in leaf.subject}
    assert subject == {
        NameOID.COUNTRY_NAME: "US",
        NameOID.ORGANIZATION_NAME: "Example News",
        NameOID.COMMON_NAME: "Jane Doe",
    }
    # the chain file holds leaf then issuing CA, never the root
    chain = x509.load_pem_x509_certificates(pki.chain.read_bytes())
    assert chain == [leaf, issuing]
    leaf.verify_directly_issued_by(issuing)


def test_private_keys_are_0600_and_refuse_overwrite(pki: DevPKI) -> None:
    for key in (pki.root_key, pki.issuing_key, pki.signer_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = pki.signer_key.read_bytes()
    with pytest.raises(OutputExistsError) as err:
        init_dev_pki(pki.directory, subject=Subject("X", "Y", "US"))
    assert err.value.reason == "output_exists" and "allow replacing it" in err.value.diagnostics()
    assert pki.signer_key.read_bytes() == before


@pytest.mark.parametrize(
    "alg",
    list(SigningAlgorithm)[:1]
    + [SigningAlgorithm.ES384, SigningAlgorithm.ES512, SigningAlgorithm.PS256, SigningAlgorithm.ED25519],
)
def test_every_algorithm_signs_a_clip_that_verifies(alg: SigningAlgorithm, tmp_path: Path, make_clip) -> None:
    pki = init_dev_pki(tmp_path / "k", subject=Subject("Algo Tester", "Example News", "GB"), alg=alg)
    key_type = {"es": ec.EllipticCurvePrivateKey, "ps": rsa.RSAPrivateKey, "ed": ed25519.Ed25519PrivateKey}[
        alg.value[:2]
    ]
    signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain)
    assert isinstance(signer._key, key_type) and signer.alg is alg
    out = sign(make_clip("mp4"), tmp_path / "s.mp4", signer=signer).output
    store = TrustStore().with_pem_file(pki.root_cert, kind=SourceKind.ANCHORS)
    assert verify(out, trust=store).verdict is Verdict.VERIFIED
