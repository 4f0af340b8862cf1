"""Who may use the console: a password from the environment, sign-in attempts limited per client
and for the whole site, a signed session cookie that signing out revokes, and CSRF checks.

The password is never compared as typed: both sides are stretched (PBKDF2) and the digests
compared with hmac.compare_digest, and a wrong password is answered no sooner than
`WRONG_ANSWER_SECONDS` after it arrived, so neither the answer nor its time says how close it was.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
import time
from urllib.parse import urlsplit

from starlette.requests import Request

from ...errors import TokenError
from ...tokens import sign, verify

PASSWORD_VARIABLE = "DIGEST_ADMIN_PASSWORD"
COOKIE = "digest_admin"
SESSION_LIFETIME = dt.timedelta(hours=12)
SIGN_IN_FORM_LIFETIME = dt.timedelta(hours=1)
WRONG_ANSWER_SECONDS = 1.0
ATTEMPT_WINDOW = 15 * 60  # seconds
ATTEMPTS_PER_CLIENT = 5  # wrong passwords per client per window
ATTEMPTS_PER_SITE = 50  # wrong passwords from all clients per window: many addresses, one guesser
STRETCH_ROUNDS = 100_000


def configured_password() -> str | None:
    return os.environ.get(PASSWORD_VARIABLE) or None


class Password:
    """The operator's password, kept only as a salted, stretched digest."""

    def __init__(self, password: str) -> None:
        self.salt = secrets.token_bytes(16)
        self.digest = self._stretched(password)

    def _stretched(self, text: str) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", text.encode(), self.salt, STRETCH_ROUNDS)

    def matches(self, given: str) -> bool:
        return hmac.compare_digest(self._stretched(given), self.digest)


class Attempts:
    """Wrong passwords of the last window, per client and for the site (in this process)."""

    def __init__(self, per_client: int = ATTEMPTS_PER_CLIENT, per_site: int = ATTEMPTS_PER_SITE) -> None:
        self.per_client, self.per_site = per_client, per_site
        self.lock = threading.Lock()
        self.wrong: collections.deque[tuple[float, str]] = collections.deque()

    def _forget_old(self, now: float) -> None:
        while self.wrong and self.wrong[0][0] < now - ATTEMPT_WINDOW:
            self.wrong.popleft()

    def allowed(self, client: str) -> bool:
        with self.lock:
            self._forget_old(time.monotonic())
            mine = sum(1 for _, who in self.wrong if who == client)
            return mine < self.per_client and len(self.wrong) < self.per_site

    def failed(self, client: str) -> None:
        with self.lock:
            self.wrong.append((time.monotonic(), client))


class Sessions:
    """The signed cookie and the CSRF tokens of a sign-in (its id is kept in the state database)."""

    def __init__(self, secret: str, secure: bool) -> None:
        self.secret, self.secure = secret, secure

    def cookie_value(self, session: str) -> str:
        expires = dt.datetime.now(dt.UTC) + SESSION_LIFETIME
        return sign(self.secret, "admin-session", session, expires)

    def session_of(self, request: Request) -> str | None:
        """The session id a genuine, unexpired cookie names (whether it is still live is the
        state database's to say)."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            return verify(self.secret, "admin-session", value).address
        except TokenError:
            return None

    def csrf_token(self, session: str) -> str:
        return sign(self.secret, "admin-csrf", session)

    def csrf_ok(self, session: str, token: str) -> bool:
        try:
            return hmac.compare_digest(verify(self.secret, "admin-csrf", token).address, session)
        except TokenError:
            return False

    def sign_in_token(self) -> str:
        """The token of a sign-in form: its POST must come from a form this site served."""
        expires = dt.datetime.now(dt.UTC) + SIGN_IN_FORM_LIFETIME
        return sign(self.secret, "admin-sign-in", secrets.token_urlsafe(8), expires)

    def sign_in_token_ok(self, token: str) -> bool:
        try:
            verify(self.secret, "admin-sign-in", token)
        except TokenError:
            return False
        return True


def same_origin(request: Request, base_url: str) -> bool:
    """Whether a POST comes from one of our own pages: its Origin (or, without one, its Referer)
    is the site's public address or the address it was asked at. Neither header: refused."""
    claimed = request.headers.get("origin") or _origin_of(request.headers.get("referer", ""))
    if not claimed or claimed == "null":
        return False
    host = request.headers.get("host", "")
    ours = {_origin_of(base_url), f"{request.url.scheme}://{host}"}
    return claimed.rstrip("/") in ours


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
