"""The archive of past editions and each edition's page, over real HTTP on loopback."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from digest.models import Paper, paper_to_dict
from digest.store import EditionArchive, SQLiteDatabase, connect
from digest.store.schema import MIGRATIONS, SCHEMA_VERSION
from digest.tokens import sign

from .conftest import Site
from .test_web import Server, outbox, serving

ADDRESS = "alice@example.org"


@pytest.fixture
def web(site: Site) -> Iterator[Server]:
    with serving(site) as served:
        yield served


def mailed_link(site: Site, edition: str, label: str) -> str:
    text = outbox(site, edition)[ADDRESS].get_body(("plain",)).get_content()
    found = re.search(rf"{label}: +(https://\S+)", text)
    assert found, f"the digest's footer has {label}"
    return found.group(1)


def edition_links(page: httpx.Response) -> list[str]:
    return re.findall(r'href="(/digest/\d{4}-\d\d-\d\d/[^"]+)"', page.text)


def test_the_archive_lists_each_sent_edition_newest_first(two_editions: Site, web: Server) -> None:
    page = web.client.get(web.local(mailed_link(two_editions, "2026-11-16", "Past editions")))

    assert page.status_code == 200
    assert [link.split("/")[2] for link in edition_links(page)] == ["2026-11-17", "2026-11-16"]
    assert "Tuesday, 17 November 2026" in page.text and "Monday, 16 November 2026" in page.text
    assert "8 papers matched, 2 in the email" in page.text  # the first edition
    assert "6 papers matched, 2 in the email" in page.text  # the second: the two sent are not again
    assert ">Atom feed</a>" in page.text and ">Unsubscribe</a>" in page.text


def test_an_edition_page_is_the_email_with_every_matched_paper(two_editions: Site, web: Server) -> None:
    archive = web.client.get(web.local(mailed_link(two_editions, "2026-11-16", "Past editions")))
    oldest = edition_links(archive)[-1]

    page = web.client.get(oldest)

    assert page.status_code == 200
    assert page.text.count('class="paper-title"') == 8 and page.text.count("Why:</span>") == 8
    assert 'class="hit"' in page.text  # the matched words are highlighted, as in the email
    assert ">more</a>" in page.text  # trimmed abstracts link to the rest
    assert "8 new papers matched your keywords." in page.text and "more are on the web" not in page.text
    for label in ("Change your keywords", "Unsubscribe", "Past editions", "Atom feed"):
        assert f">{label}</a>" in page.text
    assert "View in your browser" not in page.text  # it is that page


def test_trending_papers_have_their_own_section_in_email_and_page(site: Site, cli: Any, web: Server) -> None:
    site.profile("alice", (site.profiles / "alice.yaml").read_text() + "trending: 3\n")
    cli("run", "--once", "--config", site.config, "--date", "2026-11-16")
    message = outbox(site, "2026-11-16")[ADDRESS]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()

    page = web.client.get(web.local(mailed_link(site, "2026-11-16", "View in a browser")))

    assert "TRENDING ON HUGGING FACE" in text and re.search(r"\n  \d+ upvotes?", text)
    for document in (html, page.text):
        assert "Trending on Hugging Face" in document and re.search(r"▲ \d+ upvotes?", document)
    section = page.text.split("Trending on Hugging Face", 1)[1]
    assert 1 <= section.count('class="paper-title"') <= 3
    trending = html.split("Trending on Hugging Face", 1)[1].split('class="footer"', 1)[0]
    shown = trending.count('class="paper-title"')
    assert trending.count("?vote=like") == trending.count("?vote=dislike") == shown  # votes, as every paper
    assert text.split("TRENDING ON HUGGING FACE", 1)[1].count("More like this: ") == shown


def test_an_unsubscribed_reader_keeps_the_archive(two_editions: Site, web: Server) -> None:
    web.client.post(web.local(mailed_link(two_editions, "2026-11-17", "Unsubscribe")))

    page = web.client.get(web.local(mailed_link(two_editions, "2026-11-17", "Past editions")))

    assert page.status_code == 200 and "is unsubscribed" in page.text
    assert len(edition_links(page)) == 2 and ">Atom feed</a>" not in page.text


def test_bad_archive_links_change_nothing_and_say_so(site: Site, web: Server) -> None:
    forged = web.client.get(f"/archive/{sign('wrong', 'archive', ADDRESS)}")
    foreign = web.client.get(f"/archive/{sign('test-secret', 'manage', ADDRESS)}")
    empty = web.client.get(f"/archive/{sign('test-secret', 'archive', 'bob@example.org')}")
    no_edition = web.client.get(f"/digest/2026-11-16/{sign('test-secret', 'view:2026-11-16', ADDRESS)}")

    assert forged.status_code == 400 and foreign.status_code == 400
    assert empty.status_code == 200 and "No digest has been sent" in empty.text
    assert no_edition.status_code == 200 and "no longer available" in no_edition.text


def test_the_manage_page_links_archive_and_feed(site: Site, web: Server) -> None:
    page = web.client.get(f"/manage/{sign('test-secret', 'manage', ADDRESS)}")

    archive = re.search(r'href="https://digest\.example\.net(/archive/[^"]+)"', page.text)
    feed = re.search(r'href="https://digest\.example\.net(/feed/[^"]+\.atom)"', page.text)
    assert archive and feed
    assert web.client.get(archive.group(1)).status_code == 200
    assert web.client.get(feed.group(1)).status_code == 200


def test_an_edition_recorded_before_reasons_were_kept_still_shows_its_papers(tmp_path: Path) -> None:
    path = tmp_path / "digest.sqlite3"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None, factory=SQLiteDatabase)) as old:
        for step in MIGRATIONS[:3]:  # the database as it was before the step that keeps reasons
            step(old)
        old.execute("PRAGMA user_version = 3")
        paper = Paper(
            "2501.00001", "Old paper", "An abstract.", ("A. Author",), "https://arxiv.org/abs/2501.00001"
        )
        old.execute(
            "INSERT INTO papers VALUES (?, ?, '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00')",
            (paper.id, json.dumps(paper_to_dict(paper))),
        )
        old.execute(
            "INSERT INTO edition_papers VALUES (?, '2026-11-01', ?)", (ADDRESS, json.dumps([paper.id]))
        )

    with contextlib.closing(connect(path, create=True)) as db:
        matches = EditionArchive(db).matches(ADDRESS, "2026-11-01")
        version = db.execute("PRAGMA user_version").fetchone()[0]

    assert version == SCHEMA_VERSION
    assert [(m.paper.title, m.reasons) for m in matches] == [("Old paper", ())]
