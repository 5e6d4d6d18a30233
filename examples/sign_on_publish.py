"""Sign on publish: the step of a publishing system that signs each clip as
it goes live, with the newsroom's identity.

    python examples/sign_on_publish.py --key keys/signer.key --cert keys/chain.pem \\
        clip.mp4 published/clip.mp4 --title "Harbour at dawn"

The signer is loaded once and reused for every clip (it is thread-safe), so
a long-running publisher does not read the key per file. An encrypted key's
passphrase comes from $PROVENANCE_PASSPHRASE.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from provenance import KeySigner, ProvenanceError, SignResult, SourceType, sign


class Publisher:
    """Signs clips as they are published; one instance per process."""

    def __init__(self, signer: KeySigner) -> None:
        self._signer = signer

    def publish(
        self, clip: Path, destination: Path, *, title: str, source: SourceType = SourceType.CAMERA
    ) -> SignResult:
        # sign() never touches `clip` and writes `destination` atomically:
        # a reader of the published folder sees the whole signed file or none.
        return sign(clip, destination, signer=self._signer, title=title, source=source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("destination", type=Path)
    parser.add_argument("--key", type=Path, required=True, help="private key (PEM, 0600)")
    parser.add_argument("--cert", type=Path, required=True, help="certificate chain (PEM), signer first")
    parser.add_argument("--title", default=None)
    parser.add_argument("--source", choices=[s.value for s in SourceType], default="camera")
    args = parser.parse_args(argv)

    passphrase = os.environ.get("PROVENANCE_PASSPHRASE")
    try:
        signer = KeySigner.from_files(
            key=args.key, chain=args.cert, passphrase=passphrase.encode() if passphrase else None
        )
        result = Publisher(signer).publish(
            args.clip, args.destination, title=args.title or args.clip.stem, source=SourceType(args.source)
        )
    except ProvenanceError as exc:
        # Every provenance error has a one-line diagnosis and an exit code.
        print(f"error: {exc.diagnostics()}", file=sys.stderr)
        return int(exc.exit_code)
    print(json.dumps(result.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
