"""Serve ../shared/trust as the official lists' URLs name their files."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.static_http import StaticSite


def mirror_official_lists(site: StaticSite, lists: Path) -> None:
    """Serve ../shared/trust under the file names of the official URLs."""
    site.put("C2PA-TRUST-LIST.pem", (lists / "C2PA-TRUST-LIST.pem").read_bytes())
    site.put("C2PA-TSA-TRUST-LIST.pem", (lists / "C2PA-TSA-TRUST-LIST.pem").read_bytes())
    site.put("anchors.pem", (lists / "interim-anchors.pem").read_bytes())
    site.put("store.cfg", (lists / "interim-store.cfg").read_bytes())
    hashes = [
        base64.b64encode(hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).digest()).decode()
        for c in x509.load_pem_x509_certificates((lists / "interim-allowed.pem").read_bytes())
    ]
    site.put("allowed.sha256.txt", ("\n".join(hashes) + "\n").encode())
