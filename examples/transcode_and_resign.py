"""Transcode and re-sign: a pipeline step that re-encodes an upload for
delivery, then signs the new rendition with the platform's identity.

    python examples/transcode_and_resign.py --key keys/signer.key --chain keys/chain.pem \\
        --trust keys/root-ca.pem upload.mp4 delivery/upload.mp4

Re-encoding changes every byte, so the upload's own credentials cannot
survive it; what the platform can do is check them first, refuse tampered
input, and vouch for its rendition with its own signature.

The transcode below is a placeholder (decode every frame, encode again);
the chain-keeping transcode of provenance.edit replaces it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from provenance import (
    KeySigner,
    ProvenanceError,
    SignResult,
    SourceKind,
    SourceType,
    TrustStore,
    Verdict,
    sign,
    verify,
)
from provenance.media.video import reencode


class TranscodeStep:
    """One per worker: the signer and the trust store are loaded once."""

    def __init__(self, *, signer: KeySigner, trust: TrustStore) -> None:
        self._signer = signer
        self._trust = trust

    def run(self, upload: Path, rendition: Path) -> SignResult:
        report = verify(upload, trust=self._trust)
        if report.verdict in (Verdict.TAMPERED, Verdict.INVALID, Verdict.ERROR):
            raise ValueError(f"{upload}: refusing to transcode a {report.verdict.value} upload")
        source = SourceType.AI if report.ai_generated else SourceType.CAMERA
        title = f"{report.title or upload.stem} (transcoded)"
        with tempfile.TemporaryDirectory(prefix="transcode-") as work:
            encoded = reencode(upload, Path(work) / f"encoded{upload.suffix}")
            return sign(encoded, rendition, signer=self._signer, title=title, source=source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upload", type=Path)
    parser.add_argument("rendition", type=Path)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--chain", type=Path, required=True)
    parser.add_argument("--trust", type=Path, action="append", default=[])
    args = parser.parse_args(argv)

    try:
        signer = KeySigner.from_files(key=args.key, chain=args.chain)
        trust = TrustStore()
        for pem in args.trust:
            trust = trust.with_pem_file(pem, kind=SourceKind.ANCHORS, name=pem.name)
        result = TranscodeStep(signer=signer, trust=trust).run(args.upload, args.rendition)
    except ProvenanceError as exc:
        print(f"error: {exc.diagnostics()}", file=sys.stderr)
        return int(exc.exit_code)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
