"""The C2PA trust lists in their JSON form (ETSI TS 119 602 LoTE), as
../shared/trust/C2PA-TRUST-LIST.json has it: accepted by `trust add`,
`verify --trust` and the library, hostile copies refused in one line."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from provenance.errors import UsageError
from provenance.trust.sources import TrustDirectory
from provenance.trust.store import SourceKind, TrustSource
from provenance.verification.report import Verdict
from provenance.verification.verifier import verify

TRUSTED = "http://c2pa.org/conformance/trust-list/trusted"


def lote(*certs: x509.Certificate, status: str = TRUSTED) -> dict[str, Any]:
    """A one-entity list in the published layout."""
    der = [{"val": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()} for c in certs]
    service = {
        "ServiceInformation": {
            "ServiceName": [{"lang": "en", "value": "Newsroom root"}],
            "ServiceDigitalIdentity": {"X509Certificates": der},
            "ServiceStatus": status,
            "StatusStartingTime": "2026-01-01T00:00:00Z",
        }
    }
    entity = {"TrustedEntityInformation": {"TEName": [{"lang": "en", "value": "Newsroom"}]}}
    entity["TrustedEntityServices"] = [service]
    return {"LoTE": {"ListAndSchemeInformation": {"LoTEVersionIdentifier": 1}, "TrustedEntitiesList": [entity]}}


def test_the_published_json_list_holds_the_same_roots_as_the_pem_list(trust_lists: Path) -> None:
    as_json = TrustSource.from_pem_file(trust_lists / "C2PA-TRUST-LIST.json", kind=SourceKind.ANCHORS)
    as_pem = TrustSource.from_pem_file(trust_lists / "C2PA-TRUST-LIST.pem", kind=SourceKind.ANCHORS)
    assert len(as_json.certificates) == 30
    assert set(as_json.certificates) == set(as_pem.certificates)


def test_trust_add_takes_the_json_list_and_keeps_it_as_json(run, trust_lists: Path, tmp_path: Path) -> None:
    result = run("trust", "add", "c2pa-json", trust_lists / "C2PA-TRUST-LIST.json", "--title", "C2PA trust list")
    assert result.exit_code == 0, result.output
    assert "(anchors, 30 entries)" in result.output
    [entry] = json.loads(run("trust", "list", "--json").output)["sources"][-1:]
    assert entry["name"] == "c2pa-json" and entry["copy"] == "c2pa-json.json"


def test_a_json_list_vouches_for_its_signers(signed_clip: Path, pki, tmp_path: Path) -> None:
    root = x509.load_pem_x509_certificate(pki.root_cert.read_bytes())
    listed = tmp_path / "newsroom.json"
    listed.write_text(json.dumps(lote(root)))
    store = TrustDirectory(tmp_path / "store")
    store.add("newsroom", str(listed), title="Newsroom list")
    report = verify(signed_clip, trust=store.load().store)
    assert report.verdict is Verdict.VERIFIED and report.signer.trusted_by == "Newsroom list"


def test_a_withdrawn_service_vouches_for_nobody(pki, tmp_path: Path) -> None:
    root = x509.load_pem_x509_certificate(pki.root_cert.read_bytes())
    listed = tmp_path / "withdrawn.json"
    listed.write_text(json.dumps(lote(root, status="http://c2pa.org/conformance/trust-list/withdrawn")))
    with pytest.raises(UsageError, match=r"no trusted certificates .*1 certificates are of services not trusted"):
        TrustSource.from_pem_file(listed, kind=SourceKind.ANCHORS)
    both = lote(root)
    withdrawn = copy.deepcopy(both["LoTE"]["TrustedEntitiesList"][0])
    withdrawn["TrustedEntityServices"][0]["ServiceInformation"]["ServiceStatus"] = "withdrawn"
    both["LoTE"]["TrustedEntitiesList"].append(withdrawn)
    listed.write_text(json.dumps(both))
    assert len(TrustSource.from_pem_file(listed, kind=SourceKind.ANCHORS).certificates) == 1


def _hostile(trust_lists: Path) -> dict[str, bytes]:
    published = json.loads((trust_lists / "C2PA-TRUST-LIST.json").read_text())
    bad_cert = copy.deepcopy(published)
    services = bad_cert["LoTE"]["TrustedEntitiesList"][3]["TrustedEntityServices"]
    services[0]["ServiceInformation"]["ServiceDigitalIdentity"]["X509Certificates"][0]["val"] = "MIIB" + "A" * 40
    not_base64 = copy.deepcopy(published)
    services = not_base64["LoTE"]["TrustedEntitiesList"][0]["TrustedEntityServices"]
    services[0]["ServiceInformation"]["ServiceDigitalIdentity"]["X509Certificates"][0]["val"] = "<b>not base64</b>"
    wrong_shape = copy.deepcopy(published)
    wrong_shape["LoTE"]["TrustedEntitiesList"][1]["TrustedEntityServices"] = {"a": 1}
    return {
        "truncated": (trust_lists / "C2PA-TRUST-LIST.json").read_bytes()[:5000],
        "deep": b"[" * 200_000,
        "deep-object": b'{"LoTE": ' + b'{"a": ' * 100_000,
        "not-lote": b'{"certificates": []}',
        "a list": b"[1, 2, 3]",
        "bad certificate": json.dumps(bad_cert).encode(),
        "not base64": json.dumps(not_base64).encode(),
        "wrong shape": json.dumps(wrong_shape).encode(),
        "no certificates": b'{"LoTE": {"TrustedEntitiesList": []}}',
        "latin-1": b'{"LoTE": "\xe9"}',
    }


def test_hostile_json_lists_are_refused_in_one_line(trust_lists: Path, tmp_path: Path, run) -> None:
    for label, data in _hostile(trust_lists).items():
        path = tmp_path / "list.json"
        path.write_bytes(data)
        with pytest.raises(UsageError) as caught:
            TrustSource.from_pem_file(path, kind=SourceKind.ANCHORS)
        assert str(path) in caught.value.message and "\n" not in caught.value.diagnostics(), label
        result = run("trust", "add", "hostile", path)
        assert result.exit_code == 5, (label, result.output)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (label, result.stderr)
        assert "Traceback" not in result.output
