"""The personal Atom feed over real HTTP on loopback, parsed back with feedparser and checked
entry by entry against the ledger."""

from __future__ import annotations

import contextlib
import email
import json
import re
import sqlite3
from collections.abc import Iterator
from email import policy
from typing import Any

import feedparser
import pytest

from digest.tokens import sign

from .conftest import Site
from .test_web import Server, outbox, serving

ADDRESS = "alice@example.org"


def feed_link(site: Site, edition: str) -> str:
    """The feed link of the email an edition sent to alice (as mailed, in the text part)."""
    message = outbox(site, edition)[ADDRESS]
    text = message.get_body(("plain",)).get_content()
    found = re.search(r"Atom feed: +(https://\S+\.atom)", text)
    assert found, "the digest's footer links the feed"
    return found.group(1)


def ledger(site: Site) -> list[tuple[str, str]]:
    """(edition, paper id) of every paper sent to alice, from the state database."""
    with contextlib.closing(sqlite3.connect(site.config.parent / "var" / "digest.sqlite3")) as db:
        query = "SELECT edition, papers FROM deliveries WHERE address = ? AND state = 'sent'"
        rows = db.execute(query, (ADDRESS,)).fetchall()
        return [(edition, paper) for edition, papers in rows for paper in json.loads(papers)]


@pytest.fixture
def web(site: Site) -> Iterator[Server]:
    with serving(site) as served:
        yield served


def test_feed_lists_every_sent_paper_newest_edition_first(two_editions: Site, web: Server) -> None:
    answer = web.client.get(web.local(feed_link(two_editions, "2026-11-17")))

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    sent = ledger(two_editions)
    assert len(sent) == 4 and len(parsed.entries) == 4
    newest_first = sorted(sent, key=lambda row: row[0], reverse=True)
    for entry, (edition, paper_id) in zip(parsed.entries, newest_first, strict=True):
        assert entry.id.endswith(f"{edition}:paper/{paper_id}")
        assert paper_id in entry.link and entry.updated_parsed is not None
        content = entry.content[0].value
        assert "Why: " in content and f"digest of {edition}" in content
        assert "arxiv.org/pdf/" in content and entry.authors
    links = {link.rel: link.href for link in parsed.feed.links}
    assert web.local(links["self"]) == web.local(feed_link(two_editions, "2026-11-17"))
    assert "/archive/" in links["alternate"]
    assert len({entry.id for entry in parsed.entries}) == 4


def test_entry_ids_stay_the_same_from_one_link_to_the_next(two_editions: Site, web: Server) -> None:
    first = feedparser.parse(web.client.get(web.local(feed_link(two_editions, "2026-11-16"))).content)
    later = feedparser.parse(web.client.get(web.local(feed_link(two_editions, "2026-11-17"))).content)

    assert [e.id for e in first.entries] == [e.id for e in later.entries]
    assert first.feed.updated == later.feed.updated


def test_a_conditional_get_of_an_unchanged_feed_is_answered_304(two_editions: Site, web: Server) -> None:
    url = web.local(feed_link(two_editions, "2026-11-17"))
    first = web.client.get(url)

    again = web.client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    by_date = web.client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    other_tag = web.client.get(url, headers={"If-None-Match": '"something-else"'})

    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert by_date.status_code == 304
    assert other_tag.status_code == 200
    assert first.headers["Cache-Control"] == "private, no-cache"  # not the pages' no-store


def test_a_new_edition_changes_the_etag(site: Site, cli: Any, web: Server) -> None:
    site.profile("alice", (site.profiles / "alice.yaml").read_text() + "max_papers: 2\n")
    cli("run", "--once", "--config", site.config, "--date", "2026-11-16")
    url = web.local(feed_link(site, "2026-11-16"))
    first = web.client.get(url)
    cli("run", "--once", "--config", site.config, "--date", "2026-11-17")

    again = web.client.get(url, headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 200 and len(feedparser.parse(again.content).entries) == 4


def test_unsubscribing_ends_the_feed_with_410(two_editions: Site, web: Server) -> None:
    url = web.local(feed_link(two_editions, "2026-11-17"))
    message = outbox(two_editions, "2026-11-17")[ADDRESS]
    unsubscribe = re.search(r"Unsubscribe: +(https://\S+)", message.get_body(("plain",)).get_content())
    assert unsubscribe

    assert web.client.post(web.local(unsubscribe.group(1))).status_code == 200
    gone = web.client.get(url)

    assert gone.status_code == 410 and "feed has ended" in gone.text


def test_a_forged_or_foreign_token_gets_no_feed(two_editions: Site, web: Server) -> None:
    other_purpose = sign("test-secret", "manage", ADDRESS)
    forged = sign("wrong-secret", "feed", ADDRESS)

    assert web.client.get(f"/feed/{other_purpose}.atom").status_code == 400
    assert web.client.get(f"/feed/{forged}.atom").status_code == 400
    assert web.client.get(f"/feed/{sign('test-secret', 'feed', ADDRESS)}").status_code == 404


def test_a_subscriber_with_no_edition_yet_gets_a_valid_empty_feed(site: Site, web: Server) -> None:
    answer = web.client.get(f"/feed/{sign('test-secret', 'feed', 'bob@example.org')}.atom")

    parsed = feedparser.parse(answer.content)
    assert answer.status_code == 200 and not parsed.bozo and parsed.entries == []
    assert parsed.feed.updated


def test_trending_papers_are_feed_entries_with_their_upvotes(site: Site, cli: Any, web: Server) -> None:
    site.profile("alice", (site.profiles / "alice.yaml").read_text() + "trending: 3\n")
    cli("run", "--once", "--config", site.config, "--date", "2026-11-16")

    parsed = feedparser.parse(web.client.get(web.local(feed_link(site, "2026-11-16"))).content)

    trending = [e for e in parsed.entries if "trending on Hugging Face" in e.content[0].value]
    assert 1 <= len(trending) <= 3
    assert all(re.search(r"\(\d+ upvotes?\)", e.content[0].value) for e in trending)
    assert len(parsed.entries) == len(ledger(site))


def test_the_email_footer_links_archive_and_feed(site: Site, cli: Any) -> None:
    cli("run", "--once", "--config", site.config, "--date", "2026-11-16")
    raw = (site.outbox / "2026-11-16" / f"{ADDRESS}.eml").read_bytes()
    html = email.message_from_bytes(raw, policy=policy.default).get_body(("html",)).get_content()  # type: ignore[union-attr]

    assert ">Atom feed</a>" in html and ">Past editions</a>" in html


def test_replacing_links_retires_the_old_feed_link(two_editions: Site, web: Server) -> None:
    url = web.local(feed_link(two_editions, "2026-11-17"))
    manage = f"/manage/{sign('test-secret', 'manage', ADDRESS)}"

    assert web.client.post(manage, data={"action": "rotate"}).status_code == 200
    retired = web.client.get(url)

    assert retired.status_code == 410 and "replaced by a newer one" in retired.text
