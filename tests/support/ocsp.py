"""An organisation CA with an OCSP responder URL, creators it certifies, and
a real ``provenance keys ocsp-serve`` in a subprocess on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from provenance.identity import ca as org_ca
from provenance.identity import csr, revocation
from provenance.identity.certificates import Subject, pem
from tests.support.postgres import free_port

ORG = "Example News"
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)/")


@dataclass(frozen=True)
class OrgCA:
    ca: org_ca.OrganisationCA
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def root(self) -> Path:
        return self.ca.root_cert


@dataclass(frozen=True)
class Creator:
    key: Path
    chain: Path
    certificate: x509.Certificate

    @property
    def serial(self) -> str:
        return f"{self.certificate.serial_number:x}"


def make_org_ca(directory: Path, *, port: int | None = None, responder: bool = True) -> OrgCA:
    """A CA whose issued certificates name the responder at 127.0.0.1:*port*."""
    ca = org_ca.init_organisation_ca(directory, organization=ORG, country="US")
    chosen = port or free_port()
    if responder:
        revocation.setup_responder(ca, url=f"http://127.0.0.1:{chosen}/")
    return OrgCA(ca, chosen)


def issue_creator(authority: OrgCA, directory: Path, name: str = "Jane Doe") -> Creator:
    made = csr.create_request(
        directory / "signer.key", directory / "signer.csr", subject=Subject(name, ORG, "US"), passphrase=None
    )
    issued = org_ca.issue_certificate(authority.ca, csr.read_request(made.csr))
    chain = directory / "chain.pem"
    chain.write_bytes(pem(*issued.chain))
    return Creator(made.key, chain, issued.certificate)


@contextlib.contextmanager
def running_responder(authority: OrgCA, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``provenance keys ocsp-serve`` for *authority* on its port, until the
    block ends (stopped by its own pid)."""
    command = [
        sys.executable,
        "-c",
        "from provenance.cli import main; raise SystemExit(main())",
        "keys",
        "ocsp-serve",
        "--ca",
        str(authority.ca.directory),
        "--port",
        str(authority.port),
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while not _LISTENING.search(log.read_text(errors="replace")):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"responder did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def org_with_responder(work: Path) -> Iterator[tuple[OrgCA, Path]]:
    """An organisation CA in *work* with its responder running, and the
    folder its creators go in (for a module-scoped fixture)."""
    authority = make_org_ca(work / "ca")
    with running_responder(authority, work / "responder.log"):
        yield authority, work


def new_creator(org: tuple[OrgCA, Path], name: str) -> Creator:
    """A creator certificate *name* issued by the CA of :func:`org_with_responder`."""
    authority, work = org
    folder = work / name.replace(" ", "-")
    folder.mkdir()
    return issue_creator(authority, folder, name)
