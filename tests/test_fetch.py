"""Fetching against a real HTTP server on loopback: timeouts, size cap, caching, retries, politeness."""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from digest.errors import SourceError
from digest.models import CachedFeed
from digest.sources import fetch as fetch_module
from digest.sources.fetch import (
    USER_AGENT,
    Fetched,
    FetchPolicy,
    _polite_wait,
    _retry_after,
    fetch,
    reset_politeness,
)

from .conftest import FEED, FeedServer, Reply

ARXIV_ERROR = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>arXiv Query: id_list=abc</title>
  <entry>
    <id>https://arxiv.org/api/errors#incorrect_id_format_for_abc</id>
    <title>Error</title>
    <summary>incorrect id format for abc</summary>
    <author><name>arXiv api core</name></author>
  </entry>
</feed>
"""
# Socket timeouts small enough that the slow-server tests take about a second.
QUICK = FetchPolicy(connect_timeout=0.3, read_timeout=0.3, deadline=1.0)
MARGIN = 0.5  # what a loaded machine may add to a bound; the bounds are not benchmarks


@pytest.fixture
def server(feed_server: FeedServer) -> FeedServer:
    return feed_server


class FakeFetchClock:
    """Real time plus every sleep, which is recorded and skipped."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic() + sum(self.sleeps)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def clock() -> FakeFetchClock:
    return FakeFetchClock()


@pytest.fixture(autouse=True)
def fresh_politeness() -> Iterator[None]:
    reset_politeness()
    yield
    reset_politeness()


class MemoryCache:
    """A FeedCache in a dict."""

    def __init__(self, **entries: CachedFeed) -> None:
        self.entries: dict[str, CachedFeed] = dict(entries)

    def cached(self, url: str) -> CachedFeed | None:
        return self.entries.get(url)

    def remember(self, url: str, feed: CachedFeed) -> None:
        self.entries[url] = feed


def failure(location: str, policy: FetchPolicy | None = None, clock: FakeFetchClock | None = None) -> str:
    """The one-line message of the SourceError that fetching raises."""
    with pytest.raises(SourceError) as caught:
        fetch(location, policy or FetchPolicy(), clock=clock)
    message = str(caught.value)
    assert "\n" not in message
    return message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Files


def test_local_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    assert fetch(str(path)) == Fetched(FEED)


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.xml"
    assert str(missing) in failure(str(missing))


def test_unsupported_scheme_has_a_hint() -> None:
    with pytest.raises(SourceError, match="unsupported URL scheme") as caught:
        fetch("ftp://example.org/feed.xml")
    assert caught.value.hint


# Plain HTTP


def test_200_sends_user_agent_and_asks_for_gzip(server: FeedServer) -> None:
    assert fetch(server.script("/feed", Reply())) == Fetched(FEED)
    headers = server.requests[0][1]
    assert headers["user-agent"] == USER_AGENT
    assert headers["accept-encoding"] == "gzip"


def test_gzip_body_is_decoded(server: FeedServer) -> None:
    url = server.script("/gz", Reply(body=gzip.compress(FEED), headers={"Content-Encoding": "gzip"}))
    assert fetch(url).body == FEED


def test_redirect_is_followed(server: FeedServer) -> None:
    server.script("/feed", Reply())
    url = server.script("/old", Reply(301, b"", {"Location": "/feed"}))
    assert fetch(url).body == FEED
    assert server.paths() == ["/old", "/feed"]


def test_redirect_loop_gives_up(server: FeedServer) -> None:
    url = server.script("/loop", Reply(302, b"", {"Location": "/loop"}))
    assert "redirects from" in failure(url)
    assert len(server.requests) == fetch_module.MAX_REDIRECTS + 1


# Slow and big


def test_stalled_server_times_out_within_the_deadline(server: FeedServer) -> None:
    url = server.script("/stall", Reply(stall=True))
    started = time.monotonic()
    assert failure(url, QUICK) == f"timed out after 0.3 s fetching {url}"
    assert time.monotonic() - started < QUICK.deadline + MARGIN


def test_read_timeout_longer_than_the_deadline_is_cut_to_it(server: FeedServer) -> None:
    url = server.script("/stall", Reply(stall=True))
    policy = FetchPolicy(read_timeout=30, deadline=0.5)
    started = time.monotonic()
    assert failure(url, policy) == f"{url} took longer than 0.5 s; gave up"
    assert time.monotonic() - started < policy.deadline + MARGIN


def test_dripping_server_is_stopped_by_the_deadline(server: FeedServer) -> None:
    url = server.script("/drip", Reply(body=b"x" * 100, drip=0.05))
    started = time.monotonic()
    assert failure(url, QUICK) == f"{url} took longer than 1 s; gave up"
    assert time.monotonic() - started < QUICK.deadline + MARGIN


def test_huge_body_is_refused(server: FeedServer) -> None:
    url = server.script("/big", Reply(body=b"x" * 5000))
    assert failure(url, FetchPolicy(max_bytes=1000)) == f"{url} sent more than 1000 bytes; gave up"


def test_gzip_bomb_is_measured_after_decoding(server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * (8 * 2**20))
    url = server.script("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    assert len(bomb) < 2**20
    assert failure(url, FetchPolicy(max_bytes=2**20)) == f"{url} sent more than 1 MiB; gave up"


# Conditional GET


def test_304_returns_the_cached_body(server: FeedServer) -> None:
    url = server.script("/feed", Reply(304, b"", {"ETag": '"v1"'}))
    cache = MemoryCache(**{url: CachedFeed(b"old", etag='"v1"')})
    assert fetch(url, cache=cache) == Fetched(b"old", not_modified=True)
    assert server.requests[0][1]["if-none-match"] == '"v1"'
    assert "if-modified-since" not in server.requests[0][1]


def test_304_with_nothing_cached_is_an_error(server: FeedServer) -> None:
    url = server.script("/feed", Reply(304, b""))
    assert failure(url) == f"HTTP 304 Not Modified from {url}"


def test_last_modified_is_sent_as_if_modified_since(server: FeedServer) -> None:
    stamp = "Thu, 24 Sep 2026 04:00:00 GMT"
    url = server.script("/feed", Reply())
    cache = MemoryCache(**{url: CachedFeed(b"old", last_modified=stamp)})
    assert fetch(url, cache=cache) == Fetched(FEED)
    assert server.requests[0][1]["if-modified-since"] == stamp
    assert "if-none-match" not in server.requests[0][1]


def test_200_remembers_body_and_validators(server: FeedServer) -> None:
    stamp = "Thu, 24 Sep 2026 04:00:00 GMT"
    url = server.script("/feed", Reply(headers={"ETag": '"v2"', "Last-Modified": stamp}))
    cache = MemoryCache()
    fetch(url, cache=cache)
    assert cache.entries == {url: CachedFeed(FEED, '"v2"', stamp)}


def test_nothing_cached_sends_no_validators(server: FeedServer) -> None:
    fetch(server.script("/feed", Reply()), cache=MemoryCache())
    assert not {"if-none-match", "if-modified-since"} & server.requests[0][1].keys()


# Retries


def test_429_honours_retry_after_seconds(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply(429, b"", {"Retry-After": "7"}), Reply())
    assert fetch(url, clock=clock) == Fetched(FEED)
    assert clock.sleeps == [7]


def test_503_backs_off_exponentially(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply(503), Reply(503), Reply(503), Reply())
    assert fetch(url, FetchPolicy(retries=3), clock=clock) == Fetched(FEED)
    assert clock.sleeps == [2, 4, 8]


def test_502_and_504_are_retried(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply(502), Reply(504), Reply())
    assert fetch(url, clock=clock) == Fetched(FEED)
    assert len(server.requests) == 3


def test_503_forever_gives_up_saying_how_often_it_tried(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply(503))
    message = failure(url, FetchPolicy(retries=3), clock=clock)
    assert message == f"HTTP 503 Service Unavailable from {url} after 4 attempts"
    assert len(server.requests) == 4 and clock.sleeps == [2, 4, 8]


def test_no_retries_means_one_attempt(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply(503))
    assert failure(url, FetchPolicy(retries=0), clock=clock) == f"HTTP 503 Service Unavailable from {url}"
    assert len(server.requests) == 1 and clock.sleeps == []


def test_retry_after_over_the_limit_fails_at_once(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply(429, b"", {"Retry-After": "300"}))
    message = failure(url, FetchPolicy(max_retry_after=120), clock=clock)
    assert message.startswith(f"HTTP 429 Too Many Requests from {url}") and "300 s" in message
    assert len(server.requests) == 1 and clock.sleeps == []


def test_retry_after_past_the_deadline_fails_at_once(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply(503, b"", {"Retry-After": "50"}))
    assert "deadline" in failure(url, FetchPolicy(deadline=30), clock=clock)
    assert len(server.requests) == 1 and clock.sleeps == []


def test_backoff_stops_at_the_deadline(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply(503))
    message = failure(url, FetchPolicy(deadline=5), clock=clock)
    assert message.endswith("retrying after 4 s would pass the 5 s deadline")
    assert clock.sleeps == [2]


def test_retry_after_as_http_date_counts_from_the_servers_date() -> None:
    date, later = "Wed, 21 Oct 2026 07:28:00 GMT", "Wed, 21 Oct 2026 07:28:30 GMT"
    headers = httpx.Headers({"Retry-After": later, "Date": date})
    assert _retry_after(headers) == 30


@pytest.mark.parametrize("value", ["", "soon", "-5", "1.5"])
def test_retry_after_that_is_no_number_or_date_is_ignored(value: str) -> None:
    assert _retry_after(httpx.Headers({"Retry-After": value})) is None


def test_retry_after_date_in_the_past_means_now() -> None:
    assert _retry_after(httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0


# Errors that no retry fixes


def test_500_fails_at_once(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply(500, b"oops"))
    assert failure(url, clock=clock) == f"HTTP 500 Internal Server Error from {url}"
    assert len(server.requests) == 1 and clock.sleeps == []


def test_arxiv_error_feed_with_400_is_an_error(server: FeedServer) -> None:
    url = server.script("/api/query", Reply(400, ARXIV_ERROR, {"Content-Type": "application/atom+xml"}))
    assert failure(url).startswith(f"HTTP 400 Bad Request from {url}")


def test_404_hints_at_the_url(server: FeedServer) -> None:
    with pytest.raises(SourceError, match="HTTP 404 Not Found") as caught:
        fetch(server.url("/nothing-here"))
    assert caught.value.hint == "check the URL"


def test_connection_refused_is_retried_then_reported(clock: FakeFetchClock) -> None:
    port = free_port()
    message = failure(f"http://127.0.0.1:{port}/feed", clock=clock)
    assert message.startswith(f"cannot connect to 127.0.0.1:{port}: ")
    assert message.endswith("after 4 attempts") and clock.sleeps == [2, 4, 8]


# Politeness towards arXiv


@pytest.mark.parametrize("host", ["arxiv.org", "export.arxiv.org", "rss.arxiv.org", "ARXIV.org."])
def test_arxiv_hosts_are_asked_once_per_interval(host: str, clock: FakeFetchClock) -> None:
    policy = FetchPolicy(arxiv_interval=3.0)
    _polite_wait(host, clock, policy)
    assert clock.sleeps == []
    _polite_wait(host, clock, policy)
    assert clock.sleeps == [pytest.approx(3.0, abs=0.1)]


def test_arxiv_hosts_share_one_interval(clock: FakeFetchClock) -> None:
    _polite_wait("rss.arxiv.org", clock, FetchPolicy())
    _polite_wait("export.arxiv.org", clock, FetchPolicy())
    assert clock.sleeps == [pytest.approx(3.0, abs=0.1)]


def test_a_later_request_waits_only_for_the_rest(clock: FakeFetchClock) -> None:
    _polite_wait("export.arxiv.org", clock, FetchPolicy())
    clock.sleep(2.0)  # time passing elsewhere
    _polite_wait("export.arxiv.org", clock, FetchPolicy())
    assert clock.sleeps[1:] == [pytest.approx(1.0, abs=0.1)]


@pytest.mark.parametrize("host", ["127.0.0.1", "notarxiv.org", "arxiv.org.example.net", "huggingface.co"])
def test_other_hosts_are_not_throttled(host: str, clock: FakeFetchClock) -> None:
    for _ in range(3):
        _polite_wait(host, clock, FetchPolicy())
    assert clock.sleeps == []


def test_loopback_fetches_are_not_throttled(server: FeedServer, clock: FakeFetchClock) -> None:
    url = server.script("/feed", Reply())
    fetch(url, clock=clock)
    fetch(url, clock=clock)
    assert clock.sleeps == []


def test_every_request_of_a_polite_host_waits_its_turn(
    server: FeedServer, clock: FakeFetchClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "POLITE_DOMAINS", ("127.0.0.1",))
    server.script("/feed", Reply())
    url = server.script("/old", Reply(301, b"", {"Location": "/feed"}))
    fetch(url, clock=clock)
    fetch(server.url("/feed"), clock=clock)
    assert clock.sleeps == [pytest.approx(3.0, abs=0.5)] * 2
