"""A signer whose private key stays in a PKCS#11 token (an HSM, a smart
card, SoftHSM2), addressed by an RFC 7512 ``pkcs11:`` URI.

Only the bytes to sign go to the token and only the signature comes back.
ECDSA keys sign a SHA-2 digest with ``CKM_ECDSA``, whose output is already
the r||s form COSE wants; RSA keys sign with ``CKM_SHA*_RSA_PKCS_PSS`` and a
salt as long as the hash. Every signature is checked against the signer
certificate before it is used, so a token key that does not belong to the
certificate is caught at once.

>>> signer = Pkcs11Signer.open(
...     "pkcs11:token=newsroom;object=jane?module-path=/usr/lib/softhsm/libsofthsm2.so",
...     chain=load_pem_chain(Path("jane-chain.pem").read_bytes()), pin="1234")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlparse

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from provenance.errors import IdentityError, PassphraseError, UsageError
from provenance.identity.algorithms import SigningAlgorithm, algorithm_for_public_key, check_algorithm, verify_raw
from provenance.identity.signer import Signer

MODULE_ENV = "PROVENANCE_PKCS11_MODULE"
_PATH_ATTRS = {
    "token",
    "manufacturer",
    "serial",
    "model",
    "object",
    "id",
    "type",
    "slot-id",
    "slot-description",
    "slot-manufacturer",
    "library-manufacturer",
    "library-description",
    "library-version",
}
_QUERY_ATTRS = {"pin-value", "pin-source", "module-path", "module-name"}
_PROBE = b"provenance: does this token key belong to the certificate?"
# DER of the named-curve OIDs, as CKA_EC_PARAMS holds them
_CURVE_BY_PARAMS: dict[bytes, ec.EllipticCurve] = {
    bytes.fromhex("06082a8648ce3d030107"): ec.SECP256R1(),
    bytes.fromhex("06052b81040022"): ec.SECP384R1(),
    bytes.fromhex("06052b81040023"): ec.SECP521R1(),
}


@dataclass(frozen=True)
class Pkcs11Uri:
    """The parts of an RFC 7512 URI provenance uses. The PIN is never shown."""

    token: str | None = None
    serial: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    slot_id: int | None = None
    object: str | None = None
    id: bytes | None = None
    type: str | None = None
    module_path: str | None = None
    pin_value: str | None = field(default=None, repr=False)
    pin_source: str | None = None

    @classmethod
    def parse(cls, text: str) -> Pkcs11Uri:
        """Parse ``pkcs11:token=...;object=...?pin-value=...&module-path=...``."""
        if not text.startswith("pkcs11:"):
            raise UsageError(
                f"{_redact(text)!r} is not a pkcs11: URI", hint="write it as pkcs11:token=LABEL;object=KEY-LABEL"
            )
        body = text[len("pkcs11:") :]
        path, _, query = body.partition("?")
        attrs: dict[str, str] = {}
        raw_id: bytes | None = None
        for part, allowed, sep in ((path, _PATH_ATTRS, ";"), (query, _QUERY_ATTRS, "&")):
            for item in filter(None, part.split(sep)):
                name, eq, value = item.partition("=")
                if not eq or name not in allowed:
                    raise UsageError(
                        f"pkcs11 URI: unknown or malformed attribute {name!r}",
                        hint="see RFC 7512; provenance reads token, serial, object, id, type, slot-id, "
                        "pin-value, pin-source and module-path",
                    )
                if name in attrs:
                    raise UsageError(f"pkcs11 URI: attribute {name!r} given twice", hint="give each attribute once")
                if name == "id":
                    raw_id = unquote_to_bytes(value)
                attrs[name] = unquote(value)
        if "module-name" in attrs:
            raise UsageError(
                "pkcs11 URI: module-name is not supported",
                hint="give module-path=/path/to/module.so, or the module's path",
                reason="pkcs11_module_name",
            )
        slot = attrs.get("slot-id")
        if slot is not None and not slot.isdigit():
            raise UsageError(f"pkcs11 URI: slot-id {slot!r} is not a number", hint="give the decimal slot number")
        if attrs.get("type") not in (None, "private"):
            raise UsageError(
                f"pkcs11 URI: type={attrs['type']} cannot sign", hint="address the private key (type=private)"
            )
        if not (attrs.get("object") or raw_id):
            raise UsageError("pkcs11 URI names no key", hint="add object=KEY-LABEL or id=%01...")
        return cls(
            token=attrs.get("token"),
            serial=attrs.get("serial"),
            manufacturer=attrs.get("manufacturer"),
            model=attrs.get("model"),
            slot_id=int(slot) if slot is not None else None,
            object=attrs.get("object"),
            id=raw_id,
            type=attrs.get("type"),
            module_path=attrs.get("module-path"),
            pin_value=attrs.get("pin-value"),
            pin_source=attrs.get("pin-source"),
        )

    def describe(self) -> str:
        """The key's address, for messages (never the PIN)."""
        return ";".join(p for p in (f"token={self.token}" if self.token else "", self.key_name()) if p)

    def key_name(self) -> str:
        """The key's object label and id, for messages."""
        parts = [f"object={self.object}" if self.object else "", f"id={self.id.hex()}" if self.id else ""]
        return ";".join(p for p in parts if p)


def _redact(text: str) -> str:
    return text.split("?", 1)[0] + ("?…" if "?" in text else "")


def _pin_from_source(source: str) -> str:
    path = Path(urlparse(source).path if source.startswith("file:") else source)
    try:
        return path.read_text().rstrip("\r\n")
    except OSError as exc:
        raise IdentityError(
            f"pin-source {path}: cannot read ({exc.strerror})", hint="check the PIN file's path and permissions"
        ) from None


def _import_pkcs11() -> Any:
    try:
        import pkcs11
    except ImportError:
        raise IdentityError(
            "PKCS#11 support needs the python-pkcs11 package", hint="pip install 'provenance[hsm]'"
        ) from None
    return pkcs11


def _module(uri: Pkcs11Uri, module: str | None) -> str:
    path = uri.module_path or module or os.environ.get(MODULE_ENV)
    if not path:
        raise UsageError(
            "no PKCS#11 module given",
            hint=f"add module-path=... to the URI, give the module's path, or set {MODULE_ENV} "
            "(SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)",
            reason="pkcs11_no_module",
            details={"env": MODULE_ENV},
        )
    if not Path(path).is_file():
        raise IdentityError(
            f"PKCS#11 module {path} not found", hint="install the token's PKCS#11 library or fix the path"
        )
    return path


class TokenKey:
    """A private key inside a PKCS#11 token, reached through a logged-in
    session. It signs; it never hands out the key."""

    def __init__(self, *, pkcs11: Any, session: Any, key: Any, uri: Pkcs11Uri) -> None:
        self._pkcs11 = pkcs11
        self._session = session
        self._key = key
        self.uri = uri
        self.kind = "ec" if key.key_type == pkcs11.KeyType.EC else "rsa"
        # PKCS#11 forbids using one session from two threads at once; the
        # service signs from worker threads.
        self._lock = threading.Lock()

    @classmethod
    def open(cls, uri: str | Pkcs11Uri, *, module: str | None = None, pin: str | None = None) -> TokenKey:
        """Load the module, find the token, log in and find the private key.
        *pin* overrides the URI's ``pin-value``/``pin-source``."""
        parsed = uri if isinstance(uri, Pkcs11Uri) else Pkcs11Uri.parse(uri)
        pkcs11 = _import_pkcs11()
        path = _module(parsed, module)
        try:
            lib = pkcs11.lib(path)
        except Exception as exc:  # noqa: BLE001 - a broken module raises anything
            raise IdentityError(
                f"PKCS#11 module {path} cannot be loaded ({exc})", hint="check it is a PKCS#11 library"
            ) from None
        token = _find_token(pkcs11, lib, parsed)
        if pin is None:
            pin = (
                parsed.pin_value
                if parsed.pin_value is not None
                else (_pin_from_source(parsed.pin_source) if parsed.pin_source else None)
            )
        if pin is None and token.flags & pkcs11.TokenFlag.LOGIN_REQUIRED:
            raise PassphraseError(
                f"token {token.label!r} needs a PIN",
                hint="give the PIN, or add pin-source=FILE to the URI",
                reason="pkcs11_pin_missing",
            )
        try:
            session = token.open(user_pin=pin)
        except pkcs11.exceptions.PinIncorrect:
            raise PassphraseError(
                f"wrong PIN for token {token.label!r}", hint="check the PIN (tokens lock after a few failures)"
            ) from None
        except pkcs11.exceptions.PinLocked:
            raise IdentityError(
                f"token {token.label!r} is locked", hint="unlock it with the security officer PIN"
            ) from None
        except pkcs11.exceptions.PKCS11Error as exc:
            raise IdentityError(
                f"cannot log in to token {token.label!r} ({type(exc).__name__})", hint="check the PIN and the token"
            ) from None
        try:
            key = _find_key(pkcs11, session, parsed, token.label)
            if key.key_type not in (pkcs11.KeyType.EC, pkcs11.KeyType.RSA):
                raise IdentityError(
                    f"token key {parsed.key_name()} is {key.key_type.name}",
                    hint="use an EC P-256/384/521 or RSA key in the token",
                )
        except BaseException:
            session.close()
            raise
        return cls(pkcs11=pkcs11, session=session, key=key, uri=parsed)

    def public_key(self) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
        """The public half, read from the token's matching public key object."""
        p = self._pkcs11
        attrs: dict[Any, Any] = {p.Attribute.CLASS: p.ObjectClass.PUBLIC_KEY}
        key_id = self._attribute(self._key, p.Attribute.ID)
        if key_id:
            attrs[p.Attribute.ID] = key_id
        elif self.uri.object:
            attrs[p.Attribute.LABEL] = self.uri.object
        found = list(self._session.get_objects(attrs))
        if len(found) != 1:
            raise IdentityError(
                f"token has {len(found) or 'no'} public key objects for {self.uri.key_name()}",
                hint="store the public key next to the private key (pkcs11-tool --keypairgen does)",
            )
        pub = found[0]
        if self.kind == "rsa":
            n = int.from_bytes(pub[p.Attribute.MODULUS], "big")
            e = int.from_bytes(pub[p.Attribute.PUBLIC_EXPONENT], "big")
            return rsa.RSAPublicNumbers(e, n).public_key()
        curve = _CURVE_BY_PARAMS.get(bytes(pub[p.Attribute.EC_PARAMS]))
        if curve is None:
            raise IdentityError("the token key's EC curve is not allowed by C2PA", hint="use P-256, P-384 or P-521")
        point = bytes(pub[p.Attribute.EC_POINT])
        if point[:1] == b"\x04" and len(point) > 2 and point[1] + 2 == len(point):  # DER OCTET STRING wrapper
            point = point[2:]
        elif point[:1] == b"\x04" and len(point) > 3 and point[1] == 0x81 and point[2] + 3 == len(point):
            point = point[3:]
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)

    def sign(self, data: bytes, alg: SigningAlgorithm) -> bytes:
        """ECDSA (r||s) or RSA-PSS (salt = hash length) over *data*."""
        p = self._pkcs11
        bits = alg.value[-3:]
        try:
            with self._lock:
                if self.kind == "ec":
                    return bytes(self._key.sign(hashlib.new(alg.hash.name, data).digest(), mechanism=p.Mechanism.ECDSA))
                mechanism = getattr(p.Mechanism, f"SHA{bits}_RSA_PKCS_PSS")
                param = (getattr(p.Mechanism, f"SHA{bits}"), getattr(p.MGF, f"SHA{bits}"), alg.hash.digest_size)
                return bytes(self._key.sign(data, mechanism=mechanism, mechanism_param=param))
        except p.exceptions.PKCS11Error as exc:
            raise IdentityError(
                f"the token refused to sign with {self.uri.describe()} ({type(exc).__name__})",
                hint=f"check the key allows signing with {alg.value}",
            ) from None

    def sign_pkcs1v15_sha256(self, data: bytes) -> bytes:
        """RSA PKCS#1 v1.5 with SHA-256: only for certificate requests."""
        p = self._pkcs11
        try:
            with self._lock:
                return bytes(self._key.sign(data, mechanism=p.Mechanism.SHA256_RSA_PKCS))
        except p.exceptions.PKCS11Error as exc:
            raise IdentityError(
                f"the token refused to sign with {self.uri.describe()} ({type(exc).__name__})",
                hint="check the key allows signing",
            ) from None

    def close(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):  # closing a dead session is not worth an error
                session.close()

    def __enter__(self) -> TokenKey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _attribute(obj: Any, attr: Any) -> Any:
        try:
            return obj[attr]
        except Exception:  # noqa: BLE001 - tokens refuse attributes in many ways
            return None

    def __repr__(self) -> str:
        return f"TokenKey({self.uri.describe()})"


class Pkcs11Signer(Signer):
    """Signs with a private key that never leaves a PKCS#11 token."""

    def __init__(
        self,
        key: TokenKey,
        *,
        chain: list[x509.Certificate],
        alg: SigningAlgorithm | None = None,
        tsa_url: str | None = None,
    ) -> None:
        if not chain:
            raise IdentityError(
                "the certificate chain is empty",
                hint="give the token key's certificate chain",
                reason="token_chain_empty",
            )
        public_key = chain[0].public_key()
        alg = alg or algorithm_for_public_key(public_key)
        check_algorithm(alg, public_key)
        super().__init__(chain=chain, alg=alg, tsa_url=tsa_url)
        wanted = "ec" if isinstance(public_key, ec.EllipticCurvePublicKey) else "rsa"
        if key.kind != wanted:
            raise IdentityError(
                f"token key {key.uri.key_name()} is {key.kind.upper()}, the certificate's key is {wanted.upper()}",
                hint="give the certificate chain of this token key",
                reason="token_chain_other_key",
            )
        self._key = key

    @classmethod
    def open(
        cls,
        uri: str | Pkcs11Uri,
        *,
        chain: list[x509.Certificate],
        module: str | None = None,
        pin: str | None = None,
        alg: SigningAlgorithm | None = None,
        tsa_url: str | None = None,
    ) -> Pkcs11Signer:
        """Log in to the token, find the key and check it belongs to
        ``chain[0]`` (one probe signature)."""
        key = TokenKey.open(uri, module=module, pin=pin)
        try:
            signer = cls(key, chain=chain, alg=alg, tsa_url=tsa_url)
            signer.sign(_PROBE)
        except BaseException:
            key.close()
            raise
        return signer

    def sign(self, data: bytes) -> bytes:
        signature = self._key.sign(data, self.alg)
        if not verify_raw(self.certificate.public_key(), self.alg, data, signature):
            raise IdentityError(
                f"the token key {self._key.uri.describe()} does not belong to the signer certificate",
                hint="give the chain issued for this token key",
                reason="token_chain_wrong_key",
            )
        return signature

    def close(self) -> None:
        self._key.close()

    def __repr__(self) -> str:
        return f"Pkcs11Signer({self._key.uri.describe()}, alg={self.alg.value})"


def _find_token(pkcs11: Any, lib: Any, uri: Pkcs11Uri) -> Any:
    try:
        if uri.slot_id is not None:
            slots = [s for s in lib.get_slots(token_present=True) if s.slot_id == uri.slot_id]
            tokens = [s.get_token() for s in slots]
        else:
            tokens = list(
                lib.get_tokens(token_label=uri.token, token_serial=uri.serial.encode() if uri.serial else None)
            )
    except pkcs11.exceptions.PKCS11Error as exc:
        raise IdentityError(
            f"cannot list PKCS#11 tokens ({type(exc).__name__})", hint="check the module and its configuration"
        ) from None
    tokens = [
        t
        for t in tokens
        if (uri.token is None or t.label == uri.token)
        and (uri.manufacturer is None or t.manufacturer_id == uri.manufacturer)
        and (uri.model is None or t.model == uri.model)
    ]
    if not tokens:
        what = f"labelled {uri.token!r}" if uri.token else "matching the URI"
        raise IdentityError(
            f"no PKCS#11 token {what}", hint="check token= in the URI (softhsm2-util --show-slots lists them)"
        )
    if len(tokens) > 1:
        raise IdentityError(
            f"{len(tokens)} PKCS#11 tokens match the URI", hint="add token=LABEL or serial=... to the URI"
        )
    return tokens[0]


def _find_key(pkcs11: Any, session: Any, uri: Pkcs11Uri, token_label: str) -> Any:
    try:
        return session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=uri.object, id=uri.id)
    except pkcs11.exceptions.NoSuchKey:
        raise IdentityError(
            f"no private key {uri.key_name()} in token {token_label!r}",
            hint="check object= / id= in the URI (pkcs11-tool --list-objects lists them)",
        ) from None
    except pkcs11.exceptions.MultipleObjectsReturned:
        raise IdentityError(
            f"several private keys match {uri.key_name()} in token {token_label!r}", hint="add id=... to the URI"
        ) from None
