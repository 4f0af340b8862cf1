"""Signed tokens for links in emails (unsubscribe, manage): HMAC-SHA256 over a small payload."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from pathlib import Path

from .errors import DigestError


class TokenError(DigestError):
    """A token that is forged, damaged, or meant for something else."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: str, purpose: str, address: str) -> str:
    """A URL-safe token binding `address` to `purpose` (e.g. "unsubscribe")."""
    payload = _b64(json.dumps({"p": purpose, "a": address}, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac[:18])}"


def verify(secret: str, purpose: str, token: str) -> str:
    """The address a token was signed for; TokenError when it is not genuine or not for `purpose`."""
    payload, _, mac = token.partition(".")
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:18]
    try:
        genuine = hmac.compare_digest(_unb64(mac), expected)
        data = json.loads(_unb64(payload)) if genuine else None
    except ValueError as exc:
        raise TokenError("this link is damaged") from exc
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("a"), str):
        raise TokenError("this link is not valid", "copy the whole link from the email")
    return str(data["a"])


def site_secret(configured: str | None, state_dir: Path) -> str:
    """The configured secret, or one generated once and kept in the state dir."""
    if configured:
        return configured
    path = state_dir / "secret"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()
