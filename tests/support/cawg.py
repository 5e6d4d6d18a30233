"""Clips that carry a CAWG identity assertion (X.509 form), signed by
c2pa-rs itself: its ``cawg_x509_signer`` setting adds a ``cawg.identity``
assertion signed with the given key, when the signer comes from the
settings (c2pa-python 0.38 only reaches that path through the context's
signer, so the test sets the Builder's flag for it)."""

from __future__ import annotations

from pathlib import Path

import c2pa

from provenance.identity.pki import DevPKI

_CREATED = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def sign_with_cawg_identity(
    src: Path, out: Path, *, pki: DevPKI, identity: DevPKI | None = None, identity_key: DevPKI | None = None
) -> Path:
    """Sign *src* into *out* with *pki*'s creator key, adding a CAWG X.509
    identity assertion signed by *identity*'s creator key (default: the same).
    *identity_key* signs it instead, under *identity*'s certificate: a
    mismatched credential (c2pa-rs writes it; validation reports
    ``cawg.x509.signature.mismatch``)."""
    identity = identity or pki
    key = (identity_key or identity).signer_key.read_text()
    signer = {"alg": "es256", "sign_cert": pki.chain.read_text(), "private_key": pki.signer_key.read_text()}
    cawg = {"alg": "es256", "sign_cert": identity.chain.read_text(), "private_key": key}
    context = c2pa.Context.from_dict({"signer": {"local": signer}, "cawg_x509_signer": {"local": cawg}})
    definition = {
        "claim_generator_info": [{"name": "provenance tests", "version": "1"}],
        "title": out.name,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": _CREATED}]}}
        ],
    }
    with c2pa.Builder(definition, context=context) as builder, open(src, "rb") as source, open(out, "w+b") as dest:
        builder._has_context_signer = True  # the settings' signer (see the module docstring)
        builder.sign("video/mp4", source, dest)
    return out
