"""The operator in tests: signs in to /admin over real HTTP and keeps the session cookie by hand.

The cookie is Secure (the test site's base_url is https) and the server is plain HTTP on
loopback, so an HTTP client's cookie jar would rightly not send it back: it is sent explicitly,
which is also how a test replays a copied cookie.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from digest.serve.admin.gate import Gate

from .conftest import Site
from .test_web import Server, serving

PASSWORD = "correct horse battery staple"


@contextmanager
def console(site: Site, monkeypatch: pytest.MonkeyPatch, password: str | None = PASSWORD) -> Iterator[Server]:
    """The site served with the console on (or off, without a password); wrong passwords are
    answered at once here (their fixed answer time is for people, not for tests)."""
    if password is None:
        monkeypatch.delenv("DIGEST_ADMIN_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("DIGEST_ADMIN_PASSWORD", password)
    with serving(site) as served:
        gate_of(served).wrong_answer_seconds = 0.0
        yield served


def gate_of(served: Server) -> Gate:
    sign_in = next(route for route in served.app.routes if getattr(route, "path", "") == "/admin/sign-in")
    return sign_in.endpoint.__self__.gate  # type: ignore[attr-defined, no-any-return]


class Operator:
    def __init__(self, served: Server) -> None:
        self.web = served
        self.origin = f"http://127.0.0.1:{served.port}"
        self.cookie: str | None = None

    def sign_in(self, password: str = PASSWORD, origin: str | None = None) -> httpx.Response:
        form = self.get("/admin/sign-in")
        token = re.search(r'name="token" value="([^"]+)"', form.text)
        answer = self.web.client.post(
            "/admin/sign-in", data={"token": token[1] if token else "", "password": password},
            headers={"Origin": origin or self.origin},
        )  # fmt: skip
        self.web.client.cookies.clear()
        if answer.status_code == 303:
            self.cookie = answer.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        return answer

    def get(self, path: str, cookie: str | None = None) -> httpx.Response:
        answer = self.web.client.get(path, headers=self._cookie(cookie))
        self.web.client.cookies.clear()
        return answer

    def csrf(self, page: str = "/admin") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.get(page).text)
        assert found, "no CSRF token on " + page
        return found[1]

    def post(
        self, path: str, data: dict[str, str], csrf: str | None = None, headers: dict[str, str] | None = None,
        cookie: str | None = None,
    ) -> httpx.Response:  # fmt: skip
        form = {"csrf": self.csrf() if csrf is None else csrf, **data}
        sent = {"Origin": self.origin, **self._cookie(cookie), **(headers or {})}
        answer = self.web.client.post(path, data=form, headers={k: v for k, v in sent.items() if v})
        self.web.client.cookies.clear()
        return answer

    def _cookie(self, cookie: str | None) -> dict[str, str]:
        value = cookie or self.cookie
        return {"Cookie": f"digest_admin={value}"} if value else {}
