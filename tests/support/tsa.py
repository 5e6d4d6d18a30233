"""A real RFC 3161 time-stamp authority for the tests.

It answers ``application/timestamp-query`` POSTs on 127.0.0.1 with a
``TimeStampResp`` signed by its own TSA certificate (the C2PA TSA leaf
profile: EKU id-kp-timeStamping only, critical), issued by a test TSA root.
Its clock is settable, so a test can time-stamp "five days ago" without
sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

C2PA_CERTIFICATE_POLICY = ObjectIdentifier("1.3.6.1.4.1.62558.1.1")
TSA_POLICY = "1.3.6.1.4.1.99999.3161.1"  # a test policy OID for the TSTInfo


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass
class TSAIdentity:
    """The TSA's key, certificate and root."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    root: x509.Certificate

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def create(
        cls,
        *,
        org: str = "Test Time Authority",
        not_before: dt.datetime | None = None,
        days: int = 3650,
    ) -> TSAIdentity:
        """A TSA root and a TSA leaf following tsaLeaf.cert.schema.yaml."""
        nb = not_before or (dt.datetime.now(dt.UTC) - dt.timedelta(days=365))
        root_key = ec.generate_private_key(ec.SECP384R1())
        root_name = _name(f"{org} Root CA", org)
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(nb)
            .not_valid_after(nb + dt.timedelta(days=days * 2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA384())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{org} TSA", org))
            .issuer_name(root_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(nb)
            .not_valid_after(nb + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # digitalSignature + nonRepudiation (contentCommitment)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(C2PA_CERTIFICATE_POLICY, None)]), critical=False
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier("http://127.0.0.1/tsa.crl")], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
            .sign(root_key, hashes.SHA384())
        )
        return cls(key=key, cert=cert, root=root)


@dataclass
class TimeStampAuthority:
    """Builds RFC 3161 responses. ``gen_time`` (when set) is the TSA's clock."""

    identity: TSAIdentity
    gen_time: dt.datetime | None = None
    requests: list[bytes] = field(default_factory=list)

    def now(self) -> dt.datetime:
        return (self.gen_time or dt.datetime.now(dt.UTC)).replace(microsecond=0)

    def respond(self, request_der: bytes) -> bytes:
        self.requests.append(request_der)
        try:
            request = tsp.TimeStampReq.load(request_der)
            imprint = request["message_imprint"]
            imprint.native  # force a full parse: garbage raises here
        except (ValueError, TypeError, KeyError):
            return tsp.TimeStampResp({"status": {"status": "rejection", "fail_info": {"bad_data_format"}}}).dump()
        if imprint["hash_algorithm"]["algorithm"].native not in ("sha256", "sha384", "sha512"):
            return tsp.TimeStampResp({"status": {"status": "rejection", "fail_info": {"bad_alg"}}}).dump()
        tst_info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": TSA_POLICY,
                "message_imprint": imprint,
                "serial_number": secrets.randbits(64),
                "gen_time": self.now(),
                "accuracy": {"seconds": 1},
                "nonce": request["nonce"].native,
                "tsa": asn1_x509.GeneralName(
                    name="directory_name",
                    value=asn1_x509.Name.load(self.identity.cert.subject.public_bytes()),
                ),
            }
        )
        return tsp.TimeStampResp(
            {
                "status": {"status": "granted"},
                "time_stamp_token": self._token(tst_info, with_certs=bool(request["cert_req"].native)),
            }
        ).dump()

    def _token(self, tst_info: tsp.TSTInfo, *, with_certs: bool) -> cms.ContentInfo:
        content = tst_info.dump()
        cert_der = self.identity.cert.public_bytes(serialization.Encoding.DER)
        cert = asn1_x509.Certificate.load(cert_der)
        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(content).digest()]}),
                cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [
                            {
                                "certs": [
                                    {
                                        "hash_algorithm": {"algorithm": "sha256"},
                                        "cert_hash": hashlib.sha256(cert_der).digest(),
                                    }
                                ],
                            }
                        ],
                    }
                ),
            ]
        )
        # The signature covers the DER of the attributes as a SET OF (tag 0x31).
        signature = self.identity.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    name="issuer_and_serial_number",
                    value={"issuer": cert.issuer, "serial_number": cert.serial_number},
                ),
                "digest_algorithm": {"algorithm": "sha256"},
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed_data = {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(content)},
            "signer_infos": [signer_info],
        }
        if with_certs:
            signed_data["certificates"] = [cert]
        return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})


class _Handler(BaseHTTPRequestHandler):
    tsa: TimeStampAuthority  # set on the subclass the server makes

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 64 * 1024))
        if self.headers.get("Content-Type") != "application/timestamp-query":
            self.send_error(415, "expected application/timestamp-query")
            return
        reply = self.tsa.respond(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@dataclass
class TSAServer:
    """A running TSA: ``url`` to sign with, ``authority.gen_time`` to set its clock."""

    authority: TimeStampAuthority
    url: str

    @property
    def identity(self) -> TSAIdentity:
        return self.authority.identity


@contextmanager
def serve_tsa(identity: TSAIdentity) -> Iterator[TSAServer]:
    """Run a TSA on 127.0.0.1 (a free port) in a thread for the block."""
    authority = TimeStampAuthority(identity)
    handler = type("TSAHandler", (_Handler,), {"tsa": authority})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-tsa", daemon=True)
    thread.start()
    try:
        yield TSAServer(authority, f"http://127.0.0.1:{server.server_address[1]}/tsa")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
