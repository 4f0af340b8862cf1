"""The web pages under hostile or unlucky conditions, over real HTTP on loopback (uvicorn)."""

from __future__ import annotations

import datetime as dt
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from digest.errors import TokenGone
from digest.tokens import sign, verify

from .conftest import Site
from .smtp_relay import Relay
from .test_delivery import use_smtp
from .test_web import Server, confirm_link, outbox, serving, subscribe

EDITION = "2026-11-16"


@pytest.fixture
def web(site: Site) -> Iterator[Server]:
    with serving(site) as served:
        yield served


def relayed_link(relay: Relay, address: str) -> str:
    text = relay.to(address)[-1].message.get_content()
    return re.search(r"https://\S+/confirm/\S+", text).group(0)  # type: ignore[union-attr]


# Defect 7: a confirmation whose profile cannot be written keeps its link.


def test_a_profile_that_cannot_be_written_leaves_the_link_usable(site: Site, web: Server) -> None:
    subscribe(web, "zed@example.org")
    link = web.local(confirm_link(site, "zed@example.org"))
    moved = site.profiles.rename(site.root / "profiles-away")
    site.profiles.write_text("not a folder")  # the profiles folder cannot be written to

    failed = web.client.post(link)

    assert failed.status_code == 503 and "Not saved yet" in failed.text
    assert "could not be saved" in failed.text and "your link still works" in failed.text
    assert str(site.root) not in failed.text  # no server path shown to the public
    assert failed.headers["Referrer-Policy"] == "no-referrer"
    site.profiles.unlink()
    moved.rename(site.profiles)
    assert web.client.get(link).status_code == 200  # still usable
    assert "You are subscribed" in web.client.post(link).text
    assert (site.profiles / "zed-at-example-org.yaml").exists()


def test_the_longest_valid_address_gets_a_profile(site: Site, relay: Relay) -> None:
    use_smtp(site, relay.port)
    address = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 57]) + ".org"
    assert len(address) == 254

    with serving(site) as web:
        subscribe(web, address)
        answer = web.client.post(web.local(relayed_link(relay, address)))

    assert answer.status_code == 200 and "You are subscribed" in answer.text
    written = [p for p in site.profiles.iterdir() if p.name not in ("alice.yaml", ".locks")]
    assert len(written) == 1 and len(written[0].name) < 100
    assert address in written[0].read_text()


def test_a_used_or_forged_confirmation_link_says_so_before_the_button(site: Site, web: Server) -> None:
    subscribe(web, "zed@example.org")
    link = web.local(confirm_link(site, "zed@example.org"))
    web.client.post(link)

    used, forged = web.client.get(link), web.client.get(link[:-4] + "AAAA")

    assert used.status_code == 410 and "already been used" in used.text and "<button" not in used.text
    assert forged.status_code == 400 and "<button" not in forged.text


# Smaller items of the sign-up form.


def test_a_file_in_a_form_field_is_refused_not_read_as_keywords(site: Site, web: Server) -> None:
    token = sign("test-secret", "manage", "alice@example.org")
    before = (site.profiles / "alice.yaml").read_text()
    upload = {"keywords": ("keywords.txt", b"pretraining", "text/plain")}

    signed_up = web.client.post("/subscribe", data={"email": "zed@example.org"}, files=upload)
    managed = web.client.post(f"/manage/{token}", files=upload)
    web.mailed()

    assert signed_up.status_code == 400 and "text fields only, not files" in signed_up.text
    assert managed.status_code == 400 and "UploadFile" not in managed.text
    assert not (site.outbox / "confirmations").exists()
    assert (site.profiles / "alice.yaml").read_text() == before


def test_a_confirmation_quotes_little_of_what_a_stranger_typed(site: Site, web: Server) -> None:
    keywords = [f"{i:02d} visit https://evil.example now " + "x" * 66 for i in range(50)]
    assert max(map(len, keywords)) == 100

    answer = subscribe(web, "zed@example.org", "\n".join(keywords))
    text = outbox(site, "confirmations")["zed@example.org"].get_content()

    assert answer.status_code == 200
    quoted = re.findall(r'^  - "(.*)"$', text, re.M)
    assert len(quoted) == 10 and all(len(k) <= 40 for k in quoted)
    assert "(and 40 more)" in text and "x" * 40 not in text
    assert len(text) < 1500


def test_the_answer_does_not_tell_whether_an_email_went_out(site: Site, web: Server) -> None:
    form = {"email": "zed@example.org", "keywords": "pretraining", "name": "Zed"}

    mailed = web.client.post("/subscribe", data=form)
    web.mailed()
    not_mailed = web.client.post("/subscribe", data=form)  # within the hour: no second email
    web.mailed()

    assert (mailed.status_code, mailed.content) == (not_mailed.status_code, not_mailed.content)
    assert list(outbox(site, "confirmations")) == ["zed@example.org"]  # the email did go


# Every answer, errors included, carries the security headers; slow clients are cut off.


def test_a_server_error_is_a_designed_page_with_the_security_headers(site: Site) -> None:
    (site.config.parent / "var").mkdir()
    (site.config.parent / "var" / "digest.sqlite3").write_bytes(b"not a database" * 100)
    token = sign("test-secret", f"view:{EDITION}", "alice@example.org")

    with serving(site) as web:
        answer = web.client.get(f"/digest/{EDITION}/{token}")

    assert answer.status_code == 500 and "Something went wrong" in answer.text
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert "Traceback" not in answer.text and "sqlite" not in answer.text.lower()


def raw_request(web: Server, data: bytes) -> bytes:
    """Send `data` and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=20) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def test_a_client_that_never_finishes_its_headers_is_cut_off(site: Site) -> None:
    with serving(site, request_seconds=0.3) as web:
        answer = raw_request(web, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert web.client.get("/healthz").status_code == 200  # and the server serves others

    assert answer == b""  # closed, without ever answering


def test_a_client_that_never_finishes_its_body_gets_408(site: Site) -> None:
    head = b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    with serving(site, request_seconds=0.3) as web:
        answer = raw_request(web, head + b"Content-Length: 100\r\n\r\nemail=zed")

    assert answer.startswith(b"HTTP/1.1 408 ") and b"took too long" in answer
    assert b"referrer-policy: no-referrer" in answer.lower()


def test_a_huge_body_gets_413(site: Site, web: Server) -> None:
    answer = web.client.post("/subscribe", data={"email": "zed@example.org", "keywords": "x" * 200_000})

    assert answer.status_code == 413 and "too large" in answer.text


# Link lifetime: manage links expire, unsubscribe links last, and a subscriber can retire them all.


def digest_links(site: Site, cli: Any, date: str = EDITION) -> dict[str, str]:
    cli("run", "--once", "--config", site.config, "--date", date)
    text = outbox(site, date)["alice@example.org"].get_body(("plain",)).get_content()
    found = re.findall(r"https://digest\.example\.net(/(?:manage|unsubscribe|digest)/\S+)", text)
    return {path.split("/")[1]: path.rstrip(").>") for path in found}


def test_manage_links_expire_and_unsubscribe_links_last(site: Site, cli: Any) -> None:
    links = digest_links(site, cli)
    manage, unsubscribe = links["manage"].rpartition("/")[2], links["unsubscribe"].rpartition("/")[2]
    later = dt.datetime.now(dt.UTC)

    assert verify("test-secret", "manage", manage, later + dt.timedelta(days=89)).address
    with pytest.raises(TokenGone):
        verify("test-secret", "manage", manage, later + dt.timedelta(days=91))
    assert verify("test-secret", "unsubscribe", unsubscribe, later + dt.timedelta(days=3650)).address


def test_a_subscriber_can_retire_every_link_sent_so_far(site: Site, cli: Any, web: Server) -> None:
    old = digest_links(site, cli)
    legacy = f"/unsubscribe/{sign('test-secret', 'unsubscribe', 'alice@example.org')}"  # no issue time
    assert all(web.client.get(path).status_code == 200 for path in [*old.values(), legacy])

    rotated = web.client.post(old["manage"], data={"action": "rotate"})

    assert rotated.status_code == 200 and "Your links are replaced" in rotated.text
    for path in [*old.values(), legacy]:
        answer = web.client.get(path)
        assert answer.status_code == 410 and "replaced by a newer one" in answer.text
    assert web.client.post(old["unsubscribe"]).status_code == 410  # and nobody is unsubscribed by it
    rotated_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    fresh = sign("test-secret", "manage", "alice@example.org", issued=rotated_at)
    assert web.client.get(f"/manage/{fresh}").status_code == 200


def test_a_confirmation_that_cannot_be_written_frees_its_slot(site: Site, cli: Any) -> None:
    site.outbox.parent.mkdir(parents=True, exist_ok=True)
    site.outbox.write_text("not a folder")  # the outbox cannot be written to
    command = ("subscribe", "zed@example.org", "--keyword", "pretraining", "--config", site.config)

    failed = cli(*command)
    site.outbox.unlink()
    again = cli(*command)

    assert failed.exit_code == 1 and "cannot write to the outbox" in failed.stderr
    assert again.exit_code == 0 and "Confirmation link sent" in again.stdout
    assert "zed@example.org" in outbox(site, "confirmations")


def test_a_page_that_is_not_here_is_a_designed_page_with_the_headers(site: Site, web: Server) -> None:
    missing = web.client.get("/nowhere")
    wrong_method = web.client.delete("/subscribe")

    assert missing.status_code == 404 and "No such page" in missing.text and "<html" in missing.text
    assert wrong_method.status_code == 405 and "<html" in wrong_method.text
    assert missing.headers["Content-Security-Policy"].startswith("default-src 'none'")
