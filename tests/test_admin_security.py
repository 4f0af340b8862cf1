"""The console's door over real HTTP: off without a password, sign-in limits, cookies, CSRF."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from contextlib import closing

import pytest

from digest.serve.admin.access import ATTEMPTS_PER_CLIENT, Attempts
from digest.tokens import sign

from .admin_client import Operator, console
from .conftest import Site
from .console_scenario import database


def test_without_a_password_the_console_is_off_and_says_how_to_turn_it_on(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    with console(site, monkeypatch, password=None) as served:
        operator = Operator(served)
        for path in ("/admin", "/admin/subscribers", "/admin/sign-in"):
            answer = operator.get(path)
            assert answer.status_code == 404 and "DIGEST_ADMIN_PASSWORD" in answer.text, path
        refused = served.client.post("/admin/sign-in", data={"password": ""})
        assert refused.status_code == 404 and "console is off" in refused.text


def test_sign_in_gives_a_strict_cookie_and_sign_out_revokes_it(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    with console(site, monkeypatch) as served:
        operator = Operator(served)
        assert operator.get("/admin").headers["location"] == "/admin/sign-in"
        answer = operator.sign_in()
        assert answer.status_code == 303 and answer.headers["location"] == "/admin"
        attributes = answer.headers["set-cookie"].lower()
        for attribute in ("httponly", "secure", "samesite=strict", "path=/admin"):
            assert attribute in attributes
        assert operator.get("/admin").status_code == 200
        stolen, csrf = operator.cookie, operator.csrf()
        assert "Signed out" in operator.post("/admin/sign-out", {}, csrf=csrf).text
        # The copied cookie is still well signed and unexpired, but its sign-in has ended.
        assert operator.get("/admin", cookie=stolen).status_code == 303
        unsubscribe = {"address": "alice@example.org", "action": "unsubscribe"}
        replayed = operator.post("/admin/subscriber", unsubscribe, csrf=csrf, cookie=stolen)
        assert replayed.status_code == 303 and replayed.headers["location"] == "/admin/sign-in"
    with closing(sqlite3.connect(database(site))) as db:
        assert db.execute("SELECT COUNT(*) FROM unsubscribes").fetchone()[0] == 0


def test_wrong_passwords_get_one_answer_then_are_limited(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    with console(site, monkeypatch) as served:
        operator = Operator(served)
        answers = [operator.sign_in("guess") for _ in range(ATTEMPTS_PER_CLIENT)]
        assert {a.status_code for a in answers} == {401}
        assert len({re.sub(r'name="token" value="[^"]+"', "", a.text) for a in answers}) == 1  # the same page
        limited = operator.sign_in()  # even the right password, once the client is over the limit
        assert limited.status_code == 429 and "Too many wrong passwords" in limited.text
        assert "set-cookie" not in limited.headers


def test_the_whole_site_has_a_limit_too() -> None:
    attempts = Attempts(per_client=5, per_site=3)
    for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        assert attempts.allowed(client)
        attempts.failed(client)
    assert not attempts.allowed("10.0.0.4")  # a new address of the same guesser


def test_forged_and_expired_cookies_are_refused(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    with console(site, monkeypatch) as served:
        operator = Operator(served)
        operator.sign_in()
        session = operator.get("/admin").status_code
        assert session == 200
        forged = sign("not-the-site-secret", "admin-session", "made-up")
        expired = sign("test-secret", "admin-session", "x", dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        for cookie in (forged, expired, "garbage", operator.csrf()):  # a CSRF token is no session
            assert operator.get("/admin", cookie=cookie).status_code == 303


def test_posts_from_another_origin_or_without_the_token_are_refused(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    with console(site, monkeypatch) as served:
        operator = Operator(served)
        assert operator.sign_in(origin="https://evil.example").status_code == 403
        operator.sign_in()
        other = Operator(served)
        other.sign_in()
        unsubscribe = {"address": "alice@example.org", "action": "unsubscribe"}
        attempts = [
            operator.post("/admin/subscriber", unsubscribe, headers={"Origin": "https://evil.example"}),
            operator.post("/admin/subscriber", unsubscribe, headers={"Origin": "null"}),
            operator.post("/admin/subscriber", unsubscribe, csrf=""),
            operator.post("/admin/subscriber", unsubscribe, csrf=other.csrf()),  # another sign-in's token
            operator.post("/admin/subscriber", unsubscribe, headers={"Origin": ""}),  # no Origin, no Referer
        ]
        assert [a.status_code for a in attempts] == [403] * 5
        assert "alice@example.org" in operator.get("/admin/subscribers?state=active").text
        referred = operator.post(
            "/admin/subscriber", unsubscribe, headers={"Origin": "", "Referer": f"{operator.origin}/admin"}
        )
        assert referred.status_code == 303  # a Referer of our own stands in for a missing Origin
        assert "alice@example.org" in operator.get("/admin/subscribers?state=unsubscribed").text


def test_a_sign_in_form_must_be_one_this_site_served(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    with console(site, monkeypatch) as served:
        operator = Operator(served)
        forged = sign("not-the-site-secret", "admin-sign-in", "x")
        for token in ("", forged, sign("test-secret", "admin-csrf", "x")):
            answer = served.client.post(
                "/admin/sign-in", data={"token": token, "password": "correct horse battery staple"},
                headers={"Origin": operator.origin},
            )  # fmt: skip
            assert answer.status_code == 403 and "set-cookie" not in answer.headers
        operator.sign_in()
        assert operator.get("/admin/sign-in").headers["location"] == "/admin"  # signed in already
        assert operator.get("/admin/sign-out").status_code == 405  # signing out takes a POST
