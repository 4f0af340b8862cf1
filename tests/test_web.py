"""Subscribing, confirming, leaving and managing, over real HTTP on loopback (uvicorn)."""

from __future__ import annotations

import datetime as dt
import email
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from digest.config.settings import load_settings
from digest.serve.web import create_app
from digest.serve.web_server import server_config
from digest.tokens import sign, site_secret

from .conftest import CHROMIUM, Site, launch_chromium


class Server:
    """The site's web app served by uvicorn in a thread, as `digest serve` would."""

    def __init__(self, site: Site, request_seconds: float = 10) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = create_app(load_settings(site.config), request_seconds=request_seconds)
        config = server_config(self.app, "127.0.0.1", self.port, request_seconds, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}", follow_redirects=False, timeout=10
        )

    def local(self, url: str) -> str:
        """A link from an email (on the public base_url) as a path on this server."""
        return url.replace("https://digest.example.net", "")

    def mailed(self) -> None:
        """Wait until the confirmation emails asked for so far have been handed over."""
        self.app.state.site.mailer.wait_idle()


@contextmanager
def serving(site: Site, request_seconds: float = 10) -> Iterator[Server]:
    served = Server(site, request_seconds)
    served.thread.start()
    ready = threading.Event()
    while not ready.wait(0.01):  # uvicorn sets .started once it listens
        if served.server.started:
            ready.set()
    try:
        yield served
    finally:
        served.client.close()
        served.server.should_exit = True
        served.thread.join(timeout=10)


@pytest.fixture
def web(site: Site) -> Iterator[Server]:
    with serving(site) as served:
        yield served


def outbox(site: Site, folder: str) -> dict[str, EmailMessage]:
    found = {}
    for path in sorted((site.outbox / folder).glob("*.eml")):
        with path.open("rb") as handle:
            found[path.stem] = email.message_from_binary_file(handle, policy=policy.default)
    return found  # type: ignore[return-value]


def confirm_link(site: Site, address: str) -> str:
    text = outbox(site, "confirmations")[address].get_content()
    return re.search(r"https://\S+/confirm/\S+", text).group(0)  # type: ignore[union-attr]


def subscribe(web: Server, address: str, keywords: str = "pretraining\ndata selection") -> httpx.Response:
    answer = web.client.post("/subscribe", data={"email": address, "keywords": keywords, "name": "Zed"})
    web.mailed()
    return answer


def test_the_whole_lifecycle(site: Site, cli: Any, web: Server) -> None:
    assert web.client.get("/").status_code == 200
    assert "Check your inbox" in subscribe(web, "Zed@Example.org").text

    link = web.local(confirm_link(site, "zed@example.org"))
    assert "Confirm" in web.client.get(link).text
    assert not (site.profiles / "zed-at-example-org.yaml").exists()  # a GET changes nothing
    assert "You are subscribed" in web.client.post(link).text
    profile = site.profiles / "zed-at-example-org.yaml"
    assert "- data selection" in profile.read_text()

    assert cli("run", "--once", "--config", site.config, "--date", "2026-11-16").exit_code == 0
    digest = outbox(site, "2026-11-16")["zed@example.org"]
    one_click = web.local(digest["List-Unsubscribe"].split(",")[0].strip(" <>"))
    for _ in range(2):  # RFC 8058: a POST, no redirect, and the same answer twice
        answer = web.client.post(one_click, data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200 and "You are unsubscribed" in answer.text

    profile.write_text(profile.read_text().replace("pretraining", "language model"))  # edited later
    later = cli("run", "--once", "--config", site.config, "--date", "2026-11-17")
    assert "1 unsubscribed" in later.stderr
    assert "zed@example.org" not in outbox(site, "2026-11-17")


def test_a_new_confirmed_subscription_is_the_only_way_back(site: Site, cli: Any, web: Server) -> None:
    assert cli("unsubscribe", "Alice@example.org", "--config", site.config).exit_code == 0
    cli("run", "--once", "--config", site.config, "--date", "2026-11-16")
    assert "alice@example.org" not in outbox(site, "2026-11-16")

    subscribe(web, "alice@example.org")
    web.client.post(web.local(confirm_link(site, "alice@example.org")))
    cli("run", "--once", "--config", site.config, "--date", "2026-11-16")

    assert "alice@example.org" in outbox(site, "2026-11-16")
    assert "- data selection" in (site.profiles / "alice.yaml").read_text()  # her own file, updated


def test_forged_expired_replayed_and_misused_tokens_change_nothing(site: Site, web: Server) -> None:
    subscribe(web, "zed@example.org")
    link = web.local(confirm_link(site, "zed@example.org"))
    token = link.rpartition("/")[2]
    expired = sign("test-secret", "confirm", "zed@example.org", dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "n")
    manage = sign("test-secret", "manage", "alice@example.org")

    forged = web.client.post(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    old = web.client.post(f"/confirm/{expired}")
    wrong_purpose = web.client.post(f"/unsubscribe/{manage}")
    assert (forged.status_code, old.status_code, wrong_purpose.status_code) == (400, 410, 400)
    assert "This link does not work" in forged.text and "expired" in old.text
    assert not list(site.profiles.glob("zed*"))

    assert web.client.post(f"/confirm/{token}").status_code == 200
    replayed = web.client.post(f"/confirm/{token}")
    assert replayed.status_code == 410 and "already been used" in replayed.text


def test_a_generated_secret_is_private_kept_and_never_empty(tmp_path: Path) -> None:
    state = tmp_path / "var"
    first = site_secret(None, state)
    assert len(first) >= 32 and site_secret(None, state) == first
    assert (state / "secret").stat().st_mode & 0o777 == 0o600
    (state / "secret").write_text("\n")  # as a crash mid-write could leave it
    assert site_secret(None, state) not in ("", first)
    assert [path.name for path in state.iterdir()] == ["secret"]  # nothing half-written left


def test_repeated_requests_send_one_confirmation_and_a_global_cap_stops_floods(site: Site) -> None:
    site.config.write_text(site.config.read_text() + "subscriptions:\n  max_per_hour: 2\n")

    with serving(site) as web:
        repeated = [subscribe(web, "zed@example.org") for _ in range(3)]
        subscribe(web, "amy@example.org")
        flood = subscribe(web, "bob@example.org")

    assert sorted(outbox(site, "confirmations")) == ["amy@example.org", "zed@example.org"]
    assert flood.status_code == 429 and "Too many sign-ups" in flood.text
    assert [r.status_code for r in repeated] == [200] * 3
    assert len({r.text for r in repeated}) == 1  # the same answer: it does not reveal who subscribes


@pytest.mark.parametrize(
    ("address", "keywords", "error"),
    [
        ("not-an-address", "pretraining", "is not a valid email address"),
        ("zed@example.org\r\nBcc: x@example.org", "pretraining", "is not a valid email address"),
        ("zed@example.org", "  \n ", "At least one keyword is needed"),
        ("zed@example.org", "!!!", "has no letters or digits"),
    ],
)
def test_bad_sign_ups_are_refused_with_the_reason(
    site: Site, web: Server, address: str, keywords: str, error: str
) -> None:
    answer = web.client.post("/subscribe", data={"email": address, "keywords": keywords})

    assert answer.status_code == 400 and error in answer.text
    assert not (site.outbox / "confirmations").exists()


def test_manage_changes_keywords_and_keeps_comments(site: Site, web: Server) -> None:
    (site.profiles / "alice.yaml").write_text(
        "# Alice's own notes\n" + (site.profiles / "alice.yaml").read_text()
    )
    link = f"/manage/{sign('test-secret', 'manage', 'alice@example.org')}"

    shown = web.client.get(link)
    saved = web.client.post(link, data={"keywords": "diffusion\nprotein design"})

    assert shown.status_code == 200 and "data selection" in shown.text
    assert saved.status_code == 200 and "Saved" in saved.text
    text = (site.profiles / "alice.yaml").read_text()
    assert text.startswith("# Alice's own notes") and "- protein design" in text and "pretraining" not in text


def test_web_view_lists_every_matched_paper(site: Site, cli: Any, web: Server) -> None:
    site.profile("alice", (site.profiles / "alice.yaml").read_text() + "max_papers: 2\n")
    cli("run", "--once", "--config", site.config, "--date", "2026-11-16")
    message = outbox(site, "2026-11-16")["alice@example.org"]
    link = re.search(r"https://\S+/digest/2026-11-16/\S+", message.get_body(("plain",)).get_content()).group(
        0
    )  # type: ignore[union-attr]

    page = web.client.get(web.local(link))

    assert page.status_code == 200
    assert page.text.count('class="pad paper"') == 8  # all 8 matches, though the email showed 2
    # The email's design and content: reasons, highlights, vote links, manage and unsubscribe.
    assert page.text.count("Why:</span>") == 8 and 'class="hit"' in page.text
    assert page.text.count("?vote=like") == 8 and 'href="#paper-8"' in page.text
    assert "/manage/" in page.text and "/unsubscribe/" in page.text
    assert "View in your browser" not in page.text  # it is the browser view
    assert web.client.get(web.local(link).replace("2026-11-16", "2026-11-17")).status_code == 400


def test_healthz_and_security_headers(web: Server) -> None:
    answer = web.client.get("/healthz")

    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


def test_cli_subscribe_and_confirm(site: Site, cli: Any) -> None:
    first = cli("subscribe", "Cli@Example.org", "--keyword", "pretraining", "--config", site.config)
    again = cli("subscribe", "cli@example.org", "--keyword", "pretraining", "--config", site.config)
    confirmed = cli("confirm", confirm_link(site, "cli@example.org"), "--config", site.config)

    assert "Confirmation link sent to Cli@Example.org" in first.stdout
    assert again.exit_code == 1  # nothing was sent: a script must not think a link is on its way
    assert "Error: a confirmation was sent to cli@example.org less than an hour ago" in again.stderr
    assert confirmed.exit_code == 0 and "cli-at-example-org.yaml" in confirmed.stdout
    replay = cli("confirm", confirm_link(site, "cli@example.org"), "--config", site.config)
    assert replay.exit_code == 1 and "Error: this link has already been used" in replay.stderr


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true", reason="headless Chromium is not installed"
)
def test_subscribe_form_in_a_browser(site: Site, web: Server) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        page.goto(f"http://127.0.0.1:{web.port}/")
        page.fill("#email", "browser@example.org")
        page.fill("#keywords", "pretraining\nagents")
        page.click("button[type=submit]")
        page.wait_for_selector("h1")
        heading = page.inner_text("h1")
        width = page.evaluate("document.documentElement.scrollWidth")
        browser.close()
    web.mailed()

    assert heading == "Check your inbox"
    assert width <= 375
    assert "browser@example.org" in outbox(site, "confirmations")
