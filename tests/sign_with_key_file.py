"""A stand-in for a cloud KMS client, for the external signer tests: reads
the bytes to sign on stdin and writes the signature to stdout, signing with
a PEM key file as ``$PROVENANCE_SIGN_ALG`` says.

    python sign_with_key_file.py KEY.pem [--der] [--fail] [--empty] [--sleep SECONDS]

--der answers ECDSA in DER, as AWS/GCP KMS do; --fail, --empty and --sleep
act out a broken service.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("key", type=Path)
    parser.add_argument("--der", action="store_true")
    parser.add_argument("--fail", action="store_true")
    parser.add_argument("--empty", action="store_true")
    parser.add_argument("--sleep", type=float, default=0)
    args = parser.parse_args()
    data = sys.stdin.buffer.read()
    if args.sleep:
        time.sleep(args.sleep)
    if args.fail:
        print("kms: AccessDeniedException: not authorized to sign with this key", file=sys.stderr)
        return 3
    if args.empty:
        return 0
    alg = os.environ["PROVENANCE_SIGN_ALG"]
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}.get(alg[-3:], hashes.SHA256())
    key = serialization.load_pem_private_key(args.key.read_bytes(), password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        der = key.sign(data, ec.ECDSA(digest))
        if args.der:
            signature = der
        else:
            size = (key.curve.key_size + 7) // 8
            r, s = decode_dss_signature(der)
            signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(data)
    else:
        signature = key.sign(data, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
    sys.stdout.buffer.write(signature)
    return 0


if __name__ == "__main__":
    sys.exit(main())
