"""DKIM signatures (RFC 6376) with dkimpy: each message signed once, just before its hand-over.

Signing happens here rather than where the message is built because the signature covers the
final headers and body: every header is in place by then, the fast path's reused encodings stay
as they are, and a confirmation mail is signed the same way as a digest.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dkim
from dkim import asn1, crypto

from ..errors import DkimError
from ..models import DkimConfig, Outgoing
from .transports import Transport

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

# What the 2024 bulk-sender rules want covered: the list headers prove the one-click
# unsubscribe came from us. Named twice where a header must not be added after signing.
SIGNED_HEADERS = (
    b"From", b"To", b"Subject", b"Date", b"Message-ID", b"List-Id", b"List-Unsubscribe",
    b"List-Unsubscribe-Post", b"MIME-Version", b"Content-Type", b"Auto-Submitted",
)  # fmt: skip
MIN_BITS = 2048  # 1024-bit keys are refused by some receivers and deprecated by RFC 8301
RSA_OID = bytes.fromhex("2a864886f70d010101")  # rsaEncryption


class DkimSigner:
    """Signs messages with one private key for one selector and domain."""

    def __init__(self, config: DkimConfig) -> None:
        self.config = config
        self.key = read_private_key(config.key_file)
        _in_openssl(self.key)

    def sign(self, data: bytes) -> bytes:
        """`data` with a DKIM-Signature header in front (relaxed/relaxed, rsa-sha256)."""
        config = self.config
        signature = dkim.sign(
            data, config.selector.encode(), config.domain.encode(), self.key,
            canonicalize=(b"relaxed", b"relaxed"), include_headers=list(SIGNED_HEADERS),
            linesep=b"\r\n",
        )  # fmt: skip
        return bytes(signature) + data

    def signed(self, message: Outgoing) -> Outgoing:
        """The message with its DKIM-Signature header in front."""
        return Outgoing(message.message_id, message.sender, self.sign(message.data))

    def dns_record(self) -> tuple[str, str]:
        """The TXT record that publishes this key: its name and its value."""
        name = f"{self.config.selector}._domainkey.{self.config.domain}"
        return name, f"v=DKIM1; k=rsa; p={public_key_base64(self.key)}"


def read_private_key(path: Path) -> bytes:
    """The PEM text of an RSA key of at least 2048 bits; DkimError says what is wrong."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise DkimError(f"{path}: cannot read the DKIM key: {exc.strerror or exc}") from exc
    try:
        key = crypto.parse_pem_private_key(pem)
    except (crypto.UnparsableKeyError, asn1.ASN1FormatError, ValueError) as exc:
        hint = "make one: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim.pem"
        raise DkimError(f"{path}: not an RSA private key in PEM form", hint) from exc
    bits = int(key["modulus"]).bit_length()
    if bits < MIN_BITS:
        hint = "make a 2048-bit key and publish its record"
        raise DkimError(f"{path}: the DKIM key has {bits} bits; receivers want at least {MIN_BITS}", hint)
    return pem


def public_key_base64(pem: bytes) -> str:
    """The key's public half as DKIM publishes it: a DER SubjectPublicKeyInfo in base64."""
    key = crypto.parse_pem_private_key(pem)
    rsa_key = _der(asn1.SEQUENCE, _der_integer(key["modulus"]) + _der_integer(key["publicExponent"]))
    algorithm = _der(asn1.SEQUENCE, _der(asn1.OBJECT_IDENTIFIER, RSA_OID) + _der(asn1.NULL, b""))
    info = _der(asn1.SEQUENCE, algorithm + _der(asn1.BIT_STRING, b"\0" + rsa_key))
    return base64.b64encode(info).decode()


def public_key_of_record(record: str) -> str:
    """The p= value of a published DKIM record, without spaces ('' when it has none)."""
    tags = dict(part.strip().partition("=")[::2] for part in record.split(";") if "=" in part)
    return "".join(tags.get("p", "").split())


def _der(tag: int, content: bytes) -> bytes:
    """One DER element (dkimpy's own encoder fails on lengths past 255 bytes)."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _der_integer(value: int) -> bytes:
    return _der(asn1.INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


class SignedTransport:
    """A transport that signs each message before handing it to the one it wraps."""

    def __init__(self, inner: Transport, signer: DkimSigner) -> None:
        self.inner, self.signer = inner, signer

    def send(self, message: Outgoing, recipient: str) -> None:
        self.inner.send(self.signer.signed(message), recipient)

    def close(self) -> None:
        self.inner.close()


# dkimpy signs in Python: the RSA step alone, two 1024-bit modular powers, takes about 6 ms, more
# than composing the digest. It looks its signing function up in its module at every call and
# offers no other way in, so the keys our signers hold are signed with in OpenSSL instead: the
# same bytes (RSASSA-PKCS1-v1_5 is deterministic; a test holds the two equal), ten times faster.
# A key we did not load, or a hash other than SHA-256, still goes the library's own way.
_OPENSSL_KEYS: dict[int, RSAPrivateKey] = {}  # by modulus
_LIBRARY_SIGN = crypto.RSASSA_PKCS1_v1_5_sign


def _in_openssl(pem: bytes) -> None:
    # Imported here and below: only a site that signs loads OpenSSL's bindings (7 MB a process).
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = serialization.load_pem_private_key(pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        _OPENSSL_KEYS[key.private_numbers().public_numbers.n] = key


def openssl_sign(digest: Any, private_key: dict[str, int]) -> bytes:
    """dkimpy's RSASSA_PKCS1_v1_5_sign(hash object, parsed key), in OpenSSL when it can."""
    key = _OPENSSL_KEYS.get(private_key["modulus"])
    if key is None or digest.name.lower() != "sha256":
        return bytes(_LIBRARY_SIGN(digest, private_key))
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, utils

    return key.sign(digest.digest(), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


dkim.RSASSA_PKCS1_v1_5_sign = openssl_sign
