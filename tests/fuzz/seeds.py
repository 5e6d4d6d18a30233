"""The clips the fuzzer starts from, signed with provenance's real sign():
MP4, MOV and AVI, an MP4 with its moov first, a flat-hashed MP4, a chain
(a signed clip signed again, the first manifest its parent) and a
time-stamped MP4 (from the test suite's own RFC 3161 authority)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provenance.identity.certificates import Subject
from provenance.identity.pki import DevPKI, init_dev_pki
from provenance.identity.signer import KeySigner
from provenance.media.video import make_sample_clip
from provenance.signing import sign
from provenance.trust.store import SourceKind, TrustStore

SEED_NAMES = ("mp4", "mov", "avi", "faststart", "flat", "chain", "stamped")


@dataclass(frozen=True)
class Seeds:
    directory: Path
    pki: DevPKI
    tsa_root: Path
    files: dict[str, Path]

    @property
    def trust(self) -> TrustStore:
        return (
            TrustStore()
            .with_pem_file(self.pki.root_cert, kind=SourceKind.ANCHORS, name="fuzz root")
            .with_pem_file(self.tsa_root, kind=SourceKind.TSA, name="fuzz tsa")
        )

    @property
    def signer(self) -> KeySigner:
        return KeySigner.from_files(key=self.pki.signer_key, chain=self.pki.chain)

    def trust_args(self) -> list[str]:
        """The CLI options that trust exactly what signed the seeds."""
        return ["--no-trust-store", "--trust", str(self.pki.root_cert), "--tsa-trust", str(self.tsa_root)]


def build(directory: Path) -> Seeds:
    """Make the PKI, the clips and their signed copies in *directory*."""
    from tests.support.bmff import remux
    from tests.support.tsa import TSAIdentity, serve_tsa

    directory.mkdir(parents=True, exist_ok=True)
    pki = init_dev_pki(directory / "pki", subject=Subject("Jane Doe", "Example News", "US", email="jane@example.org"))
    signer = KeySigner.from_files(key=pki.signer_key, chain=pki.chain)
    raw = directory / "raw"
    raw.mkdir()
    files: dict[str, Path] = {}
    for ext in ("mp4", "mov", "avi"):
        clip = make_sample_clip(raw / f"clip.{ext}", seconds=0.5)
        files[ext] = sign(clip, directory / f"signed.{ext}", signer=signer).output
    faststart = remux(raw / "clip.mp4", raw / "faststart.mp4", movflags="faststart")
    files["faststart"] = sign(faststart, directory / "signed-faststart.mp4", signer=signer).output
    files["flat"] = sign(raw / "clip.mp4", directory / "signed-flat.mp4", signer=signer, flat_hash=True).output
    files["chain"] = sign(files["mp4"], directory / "signed-chain.mp4", signer=signer, title="re-signed").output
    identity = TSAIdentity.create()
    tsa_root = directory / "tsa-root.pem"
    tsa_root.write_bytes(identity.root_pem)
    with serve_tsa(identity) as tsa:
        stamped = KeySigner.from_files(key=pki.signer_key, chain=pki.chain, tsa_url=tsa.url)
        files["stamped"] = sign(raw / "clip.mp4", directory / "signed-stamped.mp4", signer=stamped).output
    return Seeds(directory, pki, tsa_root, files)
