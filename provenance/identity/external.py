"""A signer that asks another program for each signature: the seam for a
cloud KMS (AWS KMS, Google Cloud KMS, Azure Key Vault, an HSM service).

The program gets the bytes to sign on stdin and writes the signature to
stdout. It learns the algorithm from ``PROVENANCE_SIGN_ALG`` (``es256``,
``ps256``, ...): ECDSA over SHA-2 of the bytes, returned as raw r||s or DER
(what KMS APIs return; provenance converts it); RSA-PSS with MGF1 and a salt
as long as the hash; Ed25519 over the bytes. Every signature is checked
against the signer certificate before it is used.

>>> signer = ExternalSigner("aws-kms-sign --key-id alias/newsroom",
...                         chain=load_pem_chain(Path("chain.pem").read_bytes()))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.errors import IdentityError, UsageError
from provenance.identity.algorithms import (
    SigningAlgorithm,
    algorithm_for_public_key,
    check_algorithm,
    raw_ecdsa_signature,
    verify_raw,
)
from provenance.identity.signer import Signer

ALG_ENV = "PROVENANCE_SIGN_ALG"
DEFAULT_TIMEOUT = 30.0
MAX_SIGNATURE_BYTES = 64 * 1024


class ExternalSigner(Signer):
    """Runs *command* (a string split like a shell would, or an argv list;
    never through a shell) once per signature."""

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        chain: list[x509.Certificate],
        alg: SigningAlgorithm | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        tsa_url: str | None = None,
    ) -> None:
        if not chain:
            raise IdentityError(
                "the certificate chain is empty", hint="give the KMS key's certificate chain", reason="kms_chain_empty"
            )
        public_key = chain[0].public_key()
        alg = alg or algorithm_for_public_key(public_key)
        check_algorithm(alg, public_key)
        super().__init__(chain=chain, alg=alg, tsa_url=tsa_url)
        try:
            self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        except ValueError as exc:
            raise UsageError(f"--signer-command cannot be parsed ({exc})", hint="check its quotes") from None
        if not self.argv:
            raise UsageError("--signer-command is empty", hint="give the program that signs, with its arguments")
        if timeout <= 0:
            raise UsageError("the signer timeout must be positive", hint="give a number of seconds")
        self.timeout = timeout
        self._name = os.path.basename(self.argv[0])

    def sign(self, data: bytes) -> bytes:
        env = dict(os.environ, **{ALG_ENV: self.alg.value})
        try:
            # its own process group, so a timeout ends the helpers it started too
            proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise IdentityError(
                f"signer command {self.argv[0]!r} not found",
                hint="check the command and PATH",
                reason="signer_command_not_found",
            ) from None
        except PermissionError:
            raise IdentityError(
                f"signer command {self.argv[0]!r} is not executable",
                hint="chmod +x it or call it through its interpreter",
            ) from None
        try:
            stdout, stderr = proc.communicate(data, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise IdentityError(
                f"signer command {self._name} did not answer within {self.timeout:g} s",
                hint="check the signing service is reachable, or allow it more time",
                reason="signer_command_timeout",
            ) from None
        done = subprocess.CompletedProcess(self.argv, proc.returncode, stdout, stderr)
        if done.returncode != 0:
            raise IdentityError(
                f"signer command {self._name} failed with exit status {done.returncode}{_last_line(done.stderr)}",
                hint="run it by hand to see why",
            )
        signature = done.stdout
        if not signature:
            raise IdentityError(
                f"signer command {self._name} returned no signature", hint="it must write the raw signature to stdout"
            )
        if len(signature) > MAX_SIGNATURE_BYTES:
            raise IdentityError(
                f"signer command {self._name} returned {len(signature)} bytes",
                hint="it must write only the signature to stdout",
            )
        public_key = self.certificate.public_key()
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            signature = raw_ecdsa_signature(signature, public_key)
        if not verify_raw(public_key, self.alg, data, signature):
            raise IdentityError(
                f"the signature from {self._name} does not verify with the signer certificate",
                hint=f"it must sign with the key of the chain's first certificate, using {self.alg.value}",
                reason="signer_command_wrong_key",
                details={"alg": self.alg.value},
            )
        return signature

    def __repr__(self) -> str:
        return f"ExternalSigner({self._name!r}, alg={self.alg.value})"


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return f": {lines[-1][:200]}" if lines else ""
