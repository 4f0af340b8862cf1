"""Fields that must read the same whatever the source: Scholar bylines and arXiv PDF links (real captures)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digest.sources.parse import parse_listing

from .conftest import CORPUS

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CI") != "true",
    reason="the shared feed corpus is not beside this checkout",
)

# Every capture whose papers carry arXiv ids, one per normalizer that makes arXiv links.
ARXIV_CAPTURES = [
    "arxiv_api_atom_2026_cs.LG-AI.xml",
    "arxiv_api_atom_legacy_2016_au-del_maestro.xml",
    "arxiv_rss_new_cs.CL_trimmed_2026-04-27.xml",
    "arxiv_newfeed_atom_cs.AI_2025-08-20_TRUNCATED.xml",
    "arxiv_rss_old_rdf_math_2012-09-12_full.xml",
    "hf_daily_papers_api.json",
    "hf_daily_papers_feedgen_rss.xml",
    "hf_daily_papers_takara_tldr_rss.xml",
    "google_scholar_alert_email_1.html",
]


def papers(name: str) -> list:  # type: ignore[type-arg]
    return parse_listing(Path(CORPUS / name).read_bytes(), "s").papers


def test_scholar_byline_keeps_venue_and_year_out_of_the_last_author() -> None:
    first, second, third = papers("google_scholar_alert_email_1.html")

    assert first.authors == ("Z Chen", "S Kommrusch", "M Monperrus")
    assert second.authors == ("PM Nguyen", "K Than", "M Le Nguyen")
    assert not any("-" in name or "Conference" in name for name in third.authors), third.authors


def test_scholar_byline_with_one_author_and_a_year_only() -> None:
    karmakar, danglot, hu = papers("google_scholar_alert_email_2.html")

    assert karmakar.authors == ("A Karmakar",)
    assert danglot.authors == ("B Danglot",)
    assert hu.authors == ("H Hu", "Q Chen", "Z Liu")


@pytest.mark.parametrize("name", ARXIV_CAPTURES)
def test_arxiv_pdf_links_are_versionless_in_every_normalizer(name: str) -> None:
    arxiv_papers = [p for p in papers(name) if p.url.startswith("https://arxiv.org/abs/")]

    assert arxiv_papers
    assert all(p.pdf_url == f"https://arxiv.org/pdf/{p.id}" for p in arxiv_papers)
