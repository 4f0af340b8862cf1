"""Sources fetched side by side: overlapping requests, arXiv politeness kept, the configured order kept."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from digest.models import SourceConfig, SourceReport
from digest.sources import collect
from digest.sources import fetch as fetch_module
from digest.sources.fetch import Fetched, FetchPolicy, fetch, reset_politeness
from digest.store import HttpCache, connect

from .conftest import FeedServer, Reply

WAIT = 10  # seconds a gate waits before it gives up: a bound on a failing test, never a pause


def rss(*ids: str) -> bytes:
    items = "".join(
        f"<item><title>Paper {i}</title><link>https://arxiv.org/abs/{i}</link></item>" for i in ids
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    )


class OverlapProbe:
    """Wraps a FeedServer's answers: counts requests in flight, and holds each at a gate."""

    def __init__(self, server: FeedServer, gate: Callable[[str], None]) -> None:
        self.lock = threading.Lock()
        self.in_flight = self.peak = 0
        self.answer, self.gate = server.answer, gate
        server.answer = self.held  # type: ignore[method-assign]

    def held(self, handler: object, reply: Reply) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            self.gate(handler.path)  # type: ignore[attr-defined]
            self.answer(handler, reply)  # type: ignore[arg-type]
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture(autouse=True)
def fresh_politeness() -> Iterator[None]:
    reset_politeness()
    yield
    reset_politeness()


def sources(server: FeedServer, *names: str) -> list[SourceConfig]:
    return [SourceConfig(name, server.url(f"/{name}")) for name in names]


def test_slow_sources_are_fetched_at_the_same_time(feed_server: FeedServer) -> None:
    for name, paper in (("a", "2401.00001"), ("b", "2401.00002"), ("c", "2401.00003")):
        feed_server.serve(f"/{name}", rss(paper))
    everyone_asked = threading.Barrier(3, timeout=WAIT)  # fetched one by one, the first waits in vain
    probe = OverlapProbe(feed_server, lambda path: everyone_asked.wait())

    listing = collect(sources(feed_server, "a", "b", "c"), fetch)

    assert probe.peak == 3
    assert [r.error for r in listing.reports] == [None, None, None]
    assert [p.id for p in listing.papers] == ["2401.00001", "2401.00002", "2401.00003"]


def test_reports_come_as_sources_finish_and_the_listing_keeps_the_configured_order(
    feed_server: FeedServer,
) -> None:
    feed_server.serve("/a", rss("2401.00001", "2401.00002"))
    feed_server.serve("/b", rss("2401.00002", "2401.00003"))
    b_answered = threading.Event()
    finished: list[str] = []

    def gate(path: str) -> None:
        if path == "/a":  # the first source answers only once the second has finished
            assert b_answered.wait(WAIT)

    OverlapProbe(feed_server, gate)

    def on_report(report: SourceReport) -> None:
        finished.append(report.name)
        b_answered.set()

    listing = collect(sources(feed_server, "a", "b"), fetch, on_report=on_report)

    assert finished == ["b", "a"]
    assert [r.name for r in listing.reports] == ["a", "b"]
    assert [p.id for p in listing.papers] == ["2401.00001", "2401.00002", "2401.00003"]
    assert listing.papers[1].sources == ("a", "b")


class FrozenClock:
    """Time that moves only when someone sleeps; shared by the fetch threads."""

    def __init__(self) -> None:
        self.now, self.sleeps, self.lock = 1000.0, [], threading.Lock()

    def monotonic(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_two_sources_on_one_arxiv_host_are_still_asked_an_interval_apart(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "POLITE_DOMAINS", ("127.0.0.1",))  # loopback plays arXiv
    feed_server.serve("/a", rss("2401.00001"))
    feed_server.serve("/b", rss("2401.00002"))
    clock = FrozenClock()

    def fetcher(location: str) -> Fetched:
        return fetch(location, FetchPolicy(arxiv_interval=3.0), clock=clock)

    listing = collect(sources(feed_server, "a", "b"), fetcher)

    assert [r.error for r in listing.reports] == [None, None]
    assert clock.sleeps == [3.0]  # one went at once, the other waited its turn


def test_the_sqlite_http_cache_serves_concurrent_fetches(feed_server: FeedServer, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        feed_server.script(f"/{name}", Reply(body=rss("2401.00001"), headers={"ETag": f'"{name}"'}))
    with closing(connect(tmp_path / "state.db", create=True)) as db:
        cache = HttpCache(db)

        def fetcher(location: str) -> Fetched:
            return fetch(location, cache=cache)

        first = collect(sources(feed_server, "a", "b", "c"), fetcher)
        again = collect(sources(feed_server, "a", "b", "c"), fetcher)

    assert [r.error for r in first.reports] == [None, None, None]
    assert [r.unchanged for r in again.reports] == [True, True, True]
