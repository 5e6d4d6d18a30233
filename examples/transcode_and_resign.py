"""Transcode and re-sign: a pipeline step that re-encodes an upload for
delivery and signs the new rendition with the platform's identity, keeping
the upload's own credentials as its parent.

    python examples/transcode_and_resign.py --key keys/signer.key --cert keys/chain.pem \\
        --trust keys/root-ca.pem --height 480 upload.mp4 delivery/upload.mp4

Re-encoding changes every byte, so the upload's own signature cannot cover
the rendition. :func:`provenance.edit.transcode` records what was done
(``c2pa.transcoded``, ``c2pa.resized``) and keeps the upload's manifest as
the parent ingredient, so a viewer of the rendition still sees who filmed
it, and who transcoded it. The step refuses a tampered upload first.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from provenance import KeySigner, ProvenanceError, Signer, SourceKind, TrustStore, Verdict, verify
from provenance.edit import EditResult, transcode


class TranscodeStep:
    """One per worker: the signer and the trust store are loaded once."""

    def __init__(self, *, signer: Signer, trust: TrustStore, height: int | None = None) -> None:
        self._signer = signer
        self._trust = trust
        self._height = height

    def run(self, upload: Path, rendition: Path) -> EditResult:
        report = verify(upload, trust=self._trust)
        if report.verdict in (Verdict.TAMPERED, Verdict.INVALID, Verdict.ERROR):
            raise ValueError(f"{upload}: refusing to transcode a {report.verdict.value} upload")
        title = f"{report.title or upload.stem} (transcoded)"
        return transcode(upload, rendition, signer=self._signer, trust=self._trust, title=title, height=self._height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("upload", type=Path)
    parser.add_argument("rendition", type=Path)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--cert", type=Path, required=True, help="certificate chain (PEM), signer first")
    parser.add_argument("--trust", type=Path, action="append", default=[])
    parser.add_argument("--height", type=int, default=None, help="scale to this height (default: keep the size)")
    args = parser.parse_args(argv)

    try:
        trust = TrustStore()
        for pem in args.trust:
            trust = trust.with_pem_file(pem, kind=SourceKind.ANCHORS, name=pem.name)
        with KeySigner.from_files(key=args.key, chain=args.cert) as signer:
            result = TranscodeStep(signer=signer, trust=trust, height=args.height).run(args.upload, args.rendition)
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
