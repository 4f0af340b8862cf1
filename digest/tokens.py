"""Signed tokens for links in emails: HMAC-SHA256 over a small payload, URL-safe.

A token binds an address to a purpose ("confirm", "unsubscribe", "manage", "view:<edition>",
"vote" for one paper),
may expire, may carry a nonce that the database consumes to make it single-use, and may say
when it was issued, so that a subscriber who asks for new links can retire the older ones.
Tokens without an issue time (from before it was added) stay valid until such a rotation.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _json  # json.dumps's own, for one string
from pathlib import Path

from .errors import TokenError, TokenGone

MANAGE_LINK_LIFETIME = dt.timedelta(days=90)  # a forwarded digest stops giving its reader the keywords


@dataclass(frozen=True)
class Claims:
    address: str
    nonce: str | None = None
    issued: int = 0  # Unix seconds; 0 for tokens from before issue times were recorded
    subject: str | None = None  # what the link acts on besides the address: a paper, for a vote


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> bytes:
    return _keyed(secret, payload).digest()[:18]


def _keyed(secret: str, payload: str) -> hmac.HMAC:
    """HMAC-SHA256 of `payload`: a copy of the secret's keyed state, which a digest's dozen
    tokens would otherwise each derive again from the key (a good part of signing one)."""
    mac = _keyed_state(secret).copy()
    mac.update(payload.encode())
    return mac


@functools.lru_cache(maxsize=8)  # one site secret per run
def _keyed_state(secret: str) -> hmac.HMAC:
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def sign(
    secret: str, purpose: str, address: str, expires: dt.datetime | None = None, nonce: str | None = None,
    issued: dt.datetime | None = None, subject: str | None = None,
) -> str:  # fmt: skip
    """A URL-safe token binding `address` (and `subject`) to `purpose`, valid until `expires` if given."""
    fields = _fields(purpose, address, expires, nonce, issued)
    if subject is not None:
        fields += f',"s":{_json(subject)}'
    return _signed(secret, "{" + fields + "}")


def sign_each(
    secret: str, purpose: str, address: str, subjects: Iterable[str], expires: dt.datetime,
    issued: dt.datetime,
) -> list[str]:  # fmt: skip
    """`sign(secret, purpose, address, expires, issued=issued, subject=s)` for each of `subjects`,
    sooner: a digest signs a vote link for every paper, and these share all but the subject."""
    head = "{" + _fields(purpose, address, expires, None, issued) + ',"s":'
    return [_signed(secret, f"{head}{_json(subject)}}}") for subject in subjects]


def _fields(
    purpose: str, address: str, expires: dt.datetime | None, nonce: str | None, issued: dt.datetime | None
) -> str:
    """A token's fields but its subject (which comes last), as json.dumps of them as a dict, with
    separators=(",", ":"), writes them: made without its generic encoder, for a digest signs a
    dozen tokens and json.dumps was half of each."""
    fields = [f'"p":{_json(purpose)},"a":{_json(address)}']
    if expires is not None:
        fields.append(f'"e":{int(expires.timestamp())}')
    if nonce is not None:
        fields.append(f'"n":{_json(nonce)}')
    if issued is not None:
        fields.append(f'"t":{int(issued.timestamp())}')
    return ",".join(fields)


def _signed(secret: str, claims: str) -> str:
    payload = _b64(claims.encode())
    return f"{payload}.{_b64(_mac(secret, payload))}"


def verify(secret: str, purpose: str, token: str, now: dt.datetime | None = None) -> Claims:
    """What a genuine token says; TokenError when it is forged, expired or for another purpose."""
    payload, _, mac = token.partition(".")
    try:
        genuine = hmac.compare_digest(_unb64(mac), _mac(secret, payload))
        data = json.loads(_unb64(payload)) if genuine else None
    except ValueError as exc:
        raise TokenError("this link is damaged", "copy the whole link from the email") from exc
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("a"), str):
        raise TokenError("this link is not valid", "copy the whole link from the email")
    expires = data.get("e")
    if isinstance(expires, int) and (now or dt.datetime.now(dt.UTC)).timestamp() > expires:
        raise TokenGone("this link has expired", "ask for a new one")
    nonce, issued, subject = data.get("n"), data.get("t"), data.get("s")
    return Claims(
        data["a"],
        nonce if isinstance(nonce, str) else None,
        issued if isinstance(issued, int) else 0,
        subject if isinstance(subject, str) else None,
    )


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def site_secret(configured: str | None, state_dir: Path) -> str:
    """The configured secret, or one generated once and kept in the state dir."""
    if configured:
        return configured
    path = state_dir / "secret"
    if path.exists() and not path.read_text().strip():
        path.unlink()  # left empty by a crash: it signs nothing yet, and an empty key forges all
    if not path.exists():
        _new_secret(path)
    return path.read_text().strip()


def _new_secret(path: Path) -> None:
    """Written in full beside it, then linked into place: of two first runs at once, one wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(secrets.token_urlsafe(32))
    try:
        os.link(partial, path)
    except FileExistsError:
        pass  # the other run's secret stands
    finally:
        partial.unlink()


# Return-path tokens (VERP). A bounce comes back to the envelope sender, so the envelope sender
# of each digest names its recipient and edition: `<YYYYMMDD>-<mac>`. Short, since a local part
# may hold 64 characters, and lower case, since some servers fold local parts. The address is
# not in it: the edition's ledger rows are the candidates, and the one whose mac matches is it.
RETURN_PATH_LIFETIME = dt.timedelta(days=60)  # bounces and complaints later than this are ignored
_RETURN_PATH = re.compile(r"(\d{8})-([0-9a-f]{20})")


def return_path_token(secret: str, address: str, edition: dt.date) -> str:
    return f"{edition:%Y%m%d}-{_return_path_mac(secret, address, edition)}"


def _return_path_mac(secret: str, address: str, edition: dt.date) -> str:
    payload = f"return-path|{address.lower()}|{edition.isoformat()}"
    return _keyed(secret, payload).hexdigest()[:20]


def return_path_edition(token: str, today: dt.date) -> dt.date:
    """The edition a return-path token names; TokenError when malformed, TokenGone when too old."""
    found = _RETURN_PATH.fullmatch(token.lower())
    try:
        edition = dt.datetime.strptime(found.group(1), "%Y%m%d").date() if found else None
    except ValueError:
        edition = None
    if edition is None:
        raise TokenError(f"'{token[:60]}' is not a return-path token")
    if edition < today - RETURN_PATH_LIFETIME or edition > today + dt.timedelta(days=2):
        raise TokenGone(f"return-path token of edition {edition} is outside the last 60 days")
    return edition


def return_path_address(secret: str, token: str, candidates: Iterable[str], edition: dt.date) -> str:
    """Which of `candidates` (the edition's recipients) the token was made for; TokenError if none."""
    mac = token.lower().rpartition("-")[2]
    for address in candidates:
        if hmac.compare_digest(_return_path_mac(secret, address, edition), mac):
            return address
    raise TokenError(f"return-path token '{token[:60]}' matches no recipient of edition {edition}")
