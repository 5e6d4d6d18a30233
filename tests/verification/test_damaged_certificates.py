"""A changed byte inside a certificate of the COSE x5chain (issue 11: about
7% of single-byte changes in the protected header made verify raise a
ValueError from certificate parsing, exit 70). The model checks every
certificate when it is built, so each such file gets a verdict."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from provenance.verification.report import Verdict
from provenance.verification.verifier import verify


def test_every_byte_of_the_signer_certificate_changed_still_gives_a_verdict(
    signed_clip: Path, pki, trust, tmp_path: Path, run
) -> None:
    data = signed_clip.read_bytes()
    der = pki.signer_cert.read_bytes()
    from cryptography import x509

    der = x509.load_pem_x509_certificate(der).public_bytes(serialization.Encoding.DER)
    start = data.index(der)
    offsets = range(start, start + len(der), max(1, len(der) // 90))
    seen: set[str] = set()
    for n, at in enumerate(offsets):
        damaged = tmp_path / f"d{n}.mp4"
        changed = bytearray(data)
        changed[at] ^= 0x5A
        damaged.write_bytes(changed)
        report = verify(damaged, trust=trust)  # never raises
        assert report.verdict is not Verdict.VERIFIED, at  # the signature covers the certificate
        seen.add(report.verdict.value)
        if n % 15 == 0:  # and through the CLI: a documented exit code, JSON printed
            result = run("verify", damaged, "--json")
            assert result.exit_code in (1, 3, 5), (at, result.output)
            assert json.loads(result.output)["verdict"] == report.verdict.value
            shown = run("show", damaged)
            assert shown.exit_code in (0, 5), (at, shown.output)
    assert seen <= {"invalid", "tampered", "error", "untrusted"}
