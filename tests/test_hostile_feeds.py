"""Hostile feeds: a bad item is skipped with a warning, a document that cannot be read is a
SourceError, and nothing a feed holds stops the other sources of a run."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from digest.errors import SourceError
from digest.models import SourceConfig
from digest.sources import collect
from digest.sources.fetch import Fetched
from digest.sources.parse import parse_listing

from .conftest import HF_SAMPLE, FeedServer, Site
from .test_run import read_eml

GOOD_ITEM = "<item><title>Good paper</title><link>https://example.org/good</link></item>"
API_FEED = (
    '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">'
    "<id>http://arxiv.org/api/query</id>"
    "<entry><id>http://arxiv.org/abs/2401.00001v1</id><title>Good paper</title><summary>s</summary></entry>"
    "<entry><id>http://arxiv.org/abs/2401.00002v1</id><title>Bad</title><summary>s</summary>{}</entry></feed>"
)
ATOM_FEED = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
    '<entry><title>Good paper</title><link href="https://example.org/good"/></entry>'
    "<entry><title>Bad</title><updated>{}</updated></entry></feed>"
)
SCHOLAR = (
    '<html><a class="gse_alrt_title" href="https://example.org/good">Good paper</a>'
    '<a class="gse_alrt_title" href="{}">Bad</a>{}</html>'
)
HF_GOOD = '{"paper":{"id":"2401.00001","title":"Good paper","authors":[{"name":"A"}]}}'


def rss(bad_item: str) -> bytes:
    return f'<rss version="2.0"><channel><title>t</title>{GOOD_ITEM}{bad_item}</channel></rss>'.encode()


def hf(bad_paper: str) -> bytes:
    return f"[{HF_GOOD}, {bad_paper}]".encode()


@dataclass(frozen=True)
class Hostile:
    """A document with one bad part: either the good item survives, or the whole is a SourceError."""

    body: bytes
    item_skipped: bool = False  # True: the good item is kept, the bad one named in a warning
    whole: bool = False  # True: nothing in it can be read, a SourceError


CASES = {
    "ipv6 link": Hostile(rss("<item><title>Bad</title><link>http://[::1</link></item>"), item_skipped=True),
    "surrogate charref": Hostile(b"<>&#xD800;", whole=True),
    "huge charref": Hostile(b"<>&#9999999999;", whole=True),
    "charref past unicode": Hostile(b"<>&#x110000;", whole=True),
    "json nested deep": Hostile(b"[" * 100_000, whole=True),
    "json long integer": Hostile(b"[" + b"1" * 4301 + b"]", whole=True),
    "hf authors as strings": Hostile(
        hf('{"paper":{"id":"1","title":"t","authors":["A"]}}'), item_skipped=True
    ),
    "hf author name a number": Hostile(hf('{"paper":{"id":"1","title":"t","authors":[{"name":1}]}}')),
    "hf authors true": Hostile(hf('{"paper":{"id":"1","title":"t","authors":true}}')),
    "pubDate year 0": Hostile(rss("<item><title>Bad</title><pubDate>0000</pubDate></item>")),
    "atom year 10000": Hostile(ATOM_FEED.format("9999-12-31T23:59:59-23:00").encode()),
    "encoding 0x9c": Hostile(b'<?encoding="\x9c"?>', whole=True),
    "encoding NUL": Hostile(b'<?encoding="\x00"?>', whole=True),
    "closing width": Hostile(b"</width>", whole=True),
    "closing height": Hostile(b"</height>", whole=True),
    "broken tags": Hostile(b"<channel<authors</authors</dc:creator>", whole=True),
    # The API's own PDF link is not read (every source links the versionless PDF), so it costs nothing.
    "arxiv pdf link without href": Hostile(
        API_FEED.format('<link title="pdf" type="application/pdf"/>').encode()
    ),
    "arxiv primary category as text": Hostile(
        API_FEED.format("<arxiv:primary_category>cs</arxiv:primary_category>").encode()
    ),
    "scholar bad markup": Hostile(SCHOLAR.format("https://example.org/b", "<![<").encode()),
    "scholar ipv6 link": Hostile(SCHOLAR.format("http://[::1", "").encode(), item_skipped=True),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_hostile_document_raises_only_source_error(case: Hostile) -> None:
    try:
        parsed = parse_listing(case.body, "hostile")
    except SourceError as error:
        assert case.whole or not case.item_skipped, f"the good item was lost: {error}"
        return
    assert not case.whole or not parsed.papers
    if not case.whole:
        assert "Good paper" in [p.title for p in parsed.papers]
    if case.item_skipped:
        assert any(re.match(r"source hostile: item 2 \(.+\) skipped: .+", w) for w in parsed.warnings), (
            parsed.warnings
        )


def test_a_skipped_item_is_named_by_its_title_and_why() -> None:
    parsed = parse_listing(rss("<item><title>Bad one</title><link>http://[::1</link></item>"), "blog")

    assert [p.title for p in parsed.papers] == ["Good paper"]
    assert parsed.items == 2
    assert parsed.warnings == ["source blog: item 2 (Bad one) skipped: ValueError: Invalid IPv6 URL"]


def test_a_hostile_source_is_named_and_everyone_gets_the_others(
    site: Site, cli, feed_server: FeedServer
) -> None:
    site.profile("bob", "email: bob@example.org\nkeywords: [language model]\n")
    hostile = feed_server.serve("/hostile", b"<>&#xD800;")
    bad_item = feed_server.serve("/bad-item", rss("<item><title>Bad</title><link>http://[::1</link></item>"))

    sources = ("--source", hostile, "--source", bad_item, "--source", HF_SAMPLE)
    result = cli("run", "--once", "--config", site.config, *sources)

    assert result.exit_code == 0, result.stderr
    assert re.search(r"^Error: source 127\.0\.0\.1:\d+/hostile: ", result.stderr, re.MULTILINE)
    assert re.search(r"warning: source 127\.0\.0\.1:\d+/bad-item: item 2 \(Bad\) skipped: ", result.stderr)
    assert "2 sent" in result.stderr
    delivered = sorted(p.name for p in site.outbox.glob("*/*.eml"))
    assert delivered == ["alice@example.org.eml", "bob@example.org.eml"]
    body = read_eml(next(site.outbox.glob("*/bob@example.org.eml"))).get_body(("plain",))
    assert "hostile" in body.get_content()


def test_an_unexpected_exception_fails_its_source_alone(caplog: pytest.LogCaptureFixture) -> None:
    def fetcher(location: str) -> Fetched:
        if location == "buggy":
            raise LookupError("a bug no feed should reach")
        return Fetched(rss(""))

    sources = [SourceConfig("buggy", "buggy"), SourceConfig("good", "good")]
    listing = collect(sources, fetcher)

    assert [p.title for p in listing.papers] == ["Good paper"]
    assert listing.reports[0].error == "unexpected error: LookupError: a bug no feed should reach"
    assert not listing.reports[1].failed
    assert "source buggy: unexpected LookupError" in caplog.text


def test_an_unreadable_date_costs_the_date_not_the_paper() -> None:
    # feedparser keeps published_parsed = None here, and its own get() of updated_parsed would
    # warn and fall back to it; under warnings-as-errors that warning used to skip the item.
    parsed = parse_listing(rss("<item><title>Undated</title><pubDate>garbage</pubDate></item>"), "blog")

    assert [(p.title, p.published) for p in parsed.papers] == [("Good paper", None), ("Undated", None)]
    assert parsed.warnings == []
