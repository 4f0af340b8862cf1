"""Sources: the shipped samples, the real captures in the shared corpus, and merging."""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from pathlib import Path

import pytest

from digest.config.settings import load_settings
from digest.errors import SourceError
from digest.models import Digest, Links, Listing, Paper, Profile, SourceConfig, SourceReport
from digest.pipeline import run as pipeline
from digest.render.renderer import Renderer
from digest.sources import collect as collect_with
from digest.sources.fetch import fetch
from digest.sources.parse import parse_listing
from digest.sources.stale import mark_stale
from digest.sources.text import decode_tex_accents, html_to_text, split_authors
from digest.store import SourceHistory, connect

from .conftest import ARXIV_SAMPLE, HF_SAMPLE, Site


def papers_by_id(path: Path) -> dict[str, Paper]:
    return {p.id: p for p in parse_listing(path.read_bytes(), path.name).papers}


def collect(sources: list[SourceConfig], include_replacements: bool = False) -> Listing:
    return collect_with(sources, fetch, include_replacements)


def test_arxiv_listing_is_normalized() -> None:
    papers = papers_by_id(ARXIV_SAMPLE)
    bert = papers["1810.04805"]

    assert bert.title.startswith("BERT: Pre-training of Deep Bidirectional")
    assert bert.authors == ("Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova")
    assert bert.url == "https://arxiv.org/abs/1810.04805"
    assert bert.pdf_url == "https://arxiv.org/pdf/1810.04805"
    assert bert.announce_type == "new"
    assert not any("Announce Type" in p.abstract for p in papers.values())


def test_arxiv_text_quirks_survive() -> None:
    papers = papers_by_id(ARXIV_SAMPLE)

    assert "$0<p<1$" in papers["1207.0580"].abstract
    assert "Mausam" in papers["2010.03147"].authors
    assert "André F. T. Martins" in papers["2109.00301"].authors
    assert papers["1207.0580"].categories[0] == "cs.NE"


def test_hf_and_arxiv_entries_of_one_paper_merge() -> None:
    listing = collect([SourceConfig("arxiv", str(ARXIV_SAMPLE)), SourceConfig("hf", str(HF_SAMPLE))])
    doremi = next(p for p in listing.papers if p.id == "2305.10429")

    assert doremi.sources == ("arxiv", "hf")
    assert doremi.categories == ("cs.CL", "cs.LG")
    assert doremi.upvotes == 45
    assert doremi.code_url and doremi.hf_url
    assert len(listing.papers) == len({p.id for p in listing.papers}) == 15


def test_replacements_are_skipped_by_default() -> None:
    listing = collect([SourceConfig("arxiv", str(ARXIV_SAMPLE))])

    assert {p.announce_type for p in listing.papers} == {"new", "cross"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Not a feed</body></html>", "not a feed"),
        (b"{not json", "invalid JSON"),
        (b'{"error": "rate limited"}', "not a Hugging Face"),
    ],
)
def test_garbage_is_a_clear_source_error(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_listing(body, "junk")


def test_empty_feed_is_not_an_error() -> None:
    empty = b'<rss version="2.0"><channel><title>cs.CL updates on arXiv.org</title></channel></rss>'

    assert parse_listing(empty, "weekend").papers == []


def test_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    listing = collect([SourceConfig("gone", str(tmp_path / "nope.xml")), SourceConfig("hf", str(HF_SAMPLE))])

    assert [r.name for r in listing.failed_sources] == ["gone"]
    assert len(listing.papers) == 6


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (r"J\"org", "Jörg"),
        (r"Pi\v{z}urica", "Pižurica"),
        (r"Andr\'e", "André"),
        (r"M{\"u}ller", "Müller"),
        (r"{\o}ystein", "øystein"),
        ("$\\alpha$-stable", "$\\alpha$-stable"),  # maths is not an accent
    ],
)
def test_tex_accents_in_names(raw: str, clean: str) -> None:
    assert decode_tex_accents(raw) == clean


def test_author_strings_split_on_commas_and_mononyms() -> None:
    assert split_authors("Anamta Khan, Ratna Kandala,  Deepti, Sheza Munir") == (
        "Anamta Khan",
        "Ratna Kandala",
        "Deepti",
        "Sheza Munir",
    )


def test_html_becomes_text_without_scripts() -> None:
    text = html_to_text(
        '<p>Hello <b>world</b> &amp; more<script>alert(1)</script></p><p onclick="x()">0 &lt; 1</p>'
    )

    assert text == "Hello world & more 0 < 1"


def test_an_arxiv_listing_repeated_on_a_weekday_is_flagged_stale() -> None:
    listing = collect([SourceConfig("arxiv", str(ARXIV_SAMPLE))])
    [location] = [r.location for r in listing.reports]
    monday, tuesday, saturday = dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 21)

    fresh = mark_stale(listing, {}, tuesday)
    repeated = mark_stale(listing, {location: monday}, tuesday)
    weekend = mark_stale(listing, {location: monday}, saturday)

    assert [r.stale for r in (fresh.reports[0], weekend.reports[0])] == [False, False]
    [report] = repeated.reports
    assert report.stale and "repeats the listing of 2026-11-16" in report.warnings[0]
    assert repeated.troubled_sources == (report,)


def test_a_listing_not_from_arxiv_is_never_stale() -> None:
    listing = collect([SourceConfig("hf", str(HF_SAMPLE))])
    [location] = [r.location for r in listing.reports]

    marked = mark_stale(listing, {location: dt.date(2026, 11, 16)}, dt.date(2026, 11, 17))

    assert not marked.reports[0].stale


def test_the_source_history_remembers_one_listing_a_day(tmp_path: Path) -> None:
    monday, tuesday = dt.date(2026, 11, 16), dt.date(2026, 11, 17)
    with closing(connect(tmp_path / "state.sqlite3")) as db:
        history = SourceHistory(db)
        first = history.repeats("feed", ["a", "b"], monday)
        same_day = history.repeats("feed", ["a", "b"], monday)
        next_day = history.repeats("feed", ["b", "a"], tuesday)

    assert (first, same_day, next_day) == (None, None, monday)


def test_the_stale_check_uses_the_edition_date_so_date_works_for_it(site: Site) -> None:
    settings = load_settings(site.config)
    monday = pipeline.run_once(settings, pipeline.RunOptions(edition=dt.date(2026, 11, 16), dry_run=True))
    tuesday = pipeline.run_once(settings, pipeline.RunOptions(edition=dt.date(2026, 11, 17), dry_run=True))

    assert not any(r.stale for r in monday.sources)
    [arxiv] = [r for r in tuesday.sources if r.name == "arxiv"]
    assert arxiv.stale and "repeats the listing of 2026-11-16" in arxiv.warnings[0]


def test_digest_tells_readers_about_a_stale_or_failed_source() -> None:
    stale = SourceReport("arxiv-ml", "https://rss.arxiv.org/rss/cs.CL", stale=True)
    down = SourceReport("hf-daily", "https://huggingface.co/api/daily_papers", error="HTTP 503")
    profile = Profile("p.yaml", ("p@example.org",), keywords=("x",))
    digest = Digest(dt.date(2026, 11, 17), profile, "p@example.org", (), failed_sources=(stale, down))
    links = Links("https://x/u", "https://x/m", "mailto:d@example.org", "https://x/w")

    rendered = Renderer("Digest").render(digest, links)

    assert "Source “arxiv-ml” had not been updated for this edition" in rendered.html
    assert 'Source "hf-daily" was unavailable for this edition' in rendered.text


@pytest.mark.parametrize(
    "identifier", ["DOI:10.1101/2026.11.01.123456", "https://doi.org/10.1101/2026.11.01.123456"]
)
def test_a_doi_in_a_feed_gives_the_id_the_biorxiv_api_gives(identifier: str) -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>Journal</title><item><title>Cells</title><link>https://journal.example/cells</link>"
        f"<dc:identifier>{identifier}</dc:identifier><description>About cells.</description></item>"
        "</channel></rss>"
    )
    (paper,) = parse_listing(feed.encode(), "journal").papers
    assert paper.id == "10.1101/2026.11.01.123456"
