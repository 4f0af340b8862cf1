"""Bounded parsing: a document that takes too long or too much memory fails its source alone,
and a file source is capped as an HTTP body is."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from digest.errors import SourceError
from digest.models import SourceConfig
from digest.sources import collect
from digest.sources.bounded import ParseLimits, parse_bounded
from digest.sources.fetch import FetchPolicy, fetch
from digest.sources.parse import parse_listing

from .conftest import ARXIV_SAMPLE, HF_SAMPLE

IN_A_CHILD = ParseLimits(in_process_bytes=0)
# Deep nesting parses at several seconds per MB: 3 MB takes far longer than a second anywhere.
SLOW_FEED = (
    b'<rss version="2.0"><channel><item><title>x</title><description>'
    + b"<a>" * 1_000_000
    + b"</description></item></channel></rss>"
)
# 100,000 items: far more than the 60 MB a child may map here, of which Python takes 35 MB. Each
# item closed, so that expat's own memory stays flat and the limit is met by Python's objects (a
# MemoryError). Unclosed, they nested ever deeper; when expat's allocation failed first, it
# reported a syntax error, feedparser went on with its loose parser at the ceiling, and once in
# CI that outlasted the 300 s deadline.
HUNGRY_FEED = (
    b'<rss version="2.0"><channel>' + b"<item><title>x</title></item>\n" * 100_000 + b"</channel></rss>"
)


def test_a_child_parses_as_this_process_does() -> None:
    body = ARXIV_SAMPLE.read_bytes()

    assert parse_bounded(body, "arxiv", limits=IN_A_CHILD) == parse_listing(body, "arxiv")


def test_a_child_parses_from_a_thread_as_digest_serve_does() -> None:
    results = []
    thread = threading.Thread(target=lambda: results.append(parse_bounded(HF_SAMPLE.read_bytes(), "hf")))
    thread.start()
    thread.join()

    assert results and results[0].papers


def test_a_source_error_in_the_child_keeps_its_message() -> None:
    with pytest.raises(SourceError, match=r"^not a feed"):
        parse_bounded(b"<html><body>" + b"Not a feed. " * 30_000 + b"</body></html>", "x", limits=IN_A_CHILD)


def test_a_parse_past_its_deadline_fails() -> None:
    with pytest.raises(SourceError, match=r"^parsing took longer than 1 s; gave up$"):
        parse_bounded(SLOW_FEED, "slow", limits=ParseLimits(seconds=1))


def test_a_parse_past_its_memory_fails() -> None:
    with pytest.raises(SourceError, match=r"^parsing ran out of memory \(over 60 MB\); gave up$"):
        # Time enough that only the memory limit can end it, however loaded the machine.
        parse_bounded(HUNGRY_FEED, "hungry", limits=ParseLimits(memory=60 * 10**6, seconds=300))


def test_a_source_past_a_limit_fails_alone(tmp_path: Path) -> None:
    slow = tmp_path / "slow.xml"
    slow.write_bytes(SLOW_FEED)
    sources = [SourceConfig("slow", str(slow)), SourceConfig("hf", str(HF_SAMPLE))]

    listing = collect(sources, fetch, limits=ParseLimits(seconds=1))

    assert listing.reports[0].error == "parsing took longer than 1 s; gave up"
    assert listing.reports[1].papers > 0 and listing.papers


def test_a_file_source_is_capped_like_a_body(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b" " * 1001)

    with pytest.raises(SourceError, match=r"big\.xml holds more than 1000 bytes; gave up$"):
        fetch(str(big), FetchPolicy(max_bytes=1000))
    assert fetch(str(big), FetchPolicy(max_bytes=1001)).body == b" " * 1001


def test_an_endless_file_source_is_capped() -> None:
    with pytest.raises(SourceError, match="holds more than 1 KiB"):
        fetch("/dev/zero", FetchPolicy(max_bytes=1024))


def test_a_file_source_path_with_a_nul_byte_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="cannot read"):
        fetch("feed\0.xml")
