"""A failing source says its true cause: no such file, an unsupported scheme, not a feed at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from digest.models import SourceConfig
from digest.sources import collect
from digest.sources.fetch import fetch

from .conftest import HF_SAMPLE, FeedServer

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
EXPECTED = "expected RSS, Atom or a JSON listing"


def error_of(location: str) -> str | None:
    (report,) = collect([SourceConfig("s", location)], fetch).reports
    return report.error


def test_a_missing_file_is_no_such_file(tmp_path: Path) -> None:
    assert error_of(str(tmp_path / "nope.xml")) == f"no such file: {tmp_path / 'nope.xml'}"


def test_a_folder_is_not_a_feed_file(tmp_path: Path) -> None:
    assert error_of(str(tmp_path)) == f"{tmp_path} is a folder, not a feed file"


def test_an_ftp_url_is_an_unsupported_scheme() -> None:
    message = error_of("ftp://example.org/feed.xml")

    assert message is not None and message.startswith(
        "unsupported URL scheme 'ftp' in ftp://example.org/feed.xml"
    )


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (PNG, "a PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "gzip-compressed data"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary data"),
        (b"Dear reader,\nthis is a letter.\n", "plain text"),
        (b'[project]\nname = "digest"\n', "plain text"),
        (b"<!DOCTYPE html><html><head><title>Home</title></head><body>hi</body></html>", "an HTML page"),
    ],
)
def test_a_file_that_is_no_feed_at_all_is_an_error_naming_what_it_is(
    body: bytes, what: str, tmp_path: Path
) -> None:
    path = tmp_path / "listing.xml"
    path.write_bytes(body)

    assert error_of(str(path)) == f"not a feed: {what} ({EXPECTED})"


def test_a_png_served_over_http_is_an_error_too(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed", PNG, **{"Content-Type": "application/rss+xml"})

    assert error_of(url) == f"not a feed: a PNG image ({EXPECTED})"


def test_the_other_sources_went_on_only_when_there_are_others(cli: Any, site: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nope.xml"

    alone = cli("fetch", "--config", site.config, "--source", missing)
    with_another = cli("fetch", "--config", site.config, "--source", missing, "--source", HF_SAMPLE)

    assert f"no such file: {missing}" in alone.stderr
    assert "other sources" not in alone.stderr
    assert "the other sources went on" in with_another.stderr
