"""Conformance over the real captures in the shared corpus: every file, through the real CLI.

The captures live beside the project (never copied into it). A plain clone without them skips
these tests; under CI=true a missing corpus fails them.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from .conftest import CORPUS

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CI") != "true",
    reason="the shared feed corpus is not beside this checkout",
)

# file → (papers kept by `digest fetch`, the first paper's id or None, checks on the papers)
EXPECTED: dict[str, tuple[int, str | None]] = {
    "arxiv_api_atom_2026_all-nicotine.xml": (10, "1509.01687"),
    "arxiv_api_atom_2026_all-testing_100entries.xml": (100, "2202.12139"),
    "arxiv_api_atom_2026_cs.AI-LG-CL.xml": (25, "2607.28628"),
    "arxiv_api_atom_2026_cs.LG-AI.xml": (20, "2604.26951"),
    "arxiv_api_atom_2026_empty_result.xml": (0, None),
    "arxiv_api_atom_legacy_2016_au-del_maestro.xml": (10, "1201.4869"),
    "arxiv_api_atom_legacy_2020_idlist.xml": (1, "1601.00001"),
    "arxiv_newfeed_atom_cs.AI_2025-08-20_TRUNCATED.xml": (87, "2508.13167"),
    "arxiv_rss_new_cs.AI_trimmed.xml": (3, "2604.21935"),
    "arxiv_rss_new_cs.CL_trimmed_2026-04-27.xml": (3, "2604.22002"),
    "arxiv_rss_new_cs.LG_trimmed.xml": (3, "2604.21952"),
    "arxiv_rss_new_multi_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_4items.xml": (3, "2609.26811"),  # 1 replace
    "arxiv_rss_old_rdf_math_2012-09-12_full.xml": (71 + 1, "1209.2411"),  # 54 UPDATED skipped
    "biorxiv_genomics_rss1_single_item.xml": (1, "10.1101/2023.12.16.571984"),
    "biorxiv_plant_biology_rss1.rdf": (30, "10.1101/743294"),
    "blog_daringfireball.atom": (48, None),
    "blog_leancrew_allthis_rss2_named_atom.xml": (12, None),
    "blog_substack_interconnects.xml": (20, None),
    "google_alerts_atom.xml": (20, None),
    "google_scholar_alert_email_1.html": (3, "1912.02015"),
    "google_scholar_alert_email_2.html": (3, None),
    "hf_daily_papers_api.json": (30, "2607.23193"),
    "hf_daily_papers_api_2026-06-12.json": (30, "2606.00467"),
    "hf_daily_papers_feedgen_rss.xml": (22, "2604.21003"),
    "hf_daily_papers_takara_tldr_rss.xml": (50, "2604.26238"),
    "journal_atypon_ajph_toc_rss1_prism.xml": (20, "10.2105/ajph.2014.302274"),
    "medrxiv_api_details_2026-09-15_3of72.json": (3, "10.64898/2026.09.13.26362948"),
    "realworld_iso-8859-1_rss.xml": (1, None),
    "feedparser_edge/encoding_bogus_declared_encoding.xml": (0, None),
    "feedparser_edge/encoding_cp1252_smart_quote_in_utf8.xml": (1, None),
    "feedparser_edge/encoding_double_encoded_entities.xml": (1, None),
    "feedparser_edge/encoding_mojibake_linenoise.xml": (1, None),
    "feedparser_edge/encoding_utf16le_bom.xml": (0, None),
    "feedparser_edge/escaped_markup_not_a_doctype.xml": (0, None),
    "feedparser_edge/illformed_incomplete_cdata.xml": (0, None),
    "feedparser_edge/illformed_iso8859-7_high_bit_date.xml": (0, None),
    "feedparser_edge/illformed_koi8r_no_encoding_declared.xml": (1, None),
    "feedparser_edge/illformed_rdf_empty_textinput.xml": (1, "http://example.com/1"),
    "feedparser_edge/illformed_xhtml_doctype_before_rss.xml": (0, None),
    "feedparser_edge/sanitize_crazy_html_script_in_description.xml": (1, None),
}

# Files that hold no listing at all: a clear one-line report, never a traceback.
FAILING = {
    "arxiv_api_atom_2026_error_http400.xml": "arXiv answered with an error: incorrect id format for abc",
    "realworld_truncated_reuters_rss.xml": "malformed feed with no items",
    "feedparser_edge/encoding_utf8_bom_with_invalid_bytes.xml": "malformed feed with no items",
    "feedparser_edge/entity_html_named_aacute_in_title.xml": "malformed feed with no items",
    "feedparser_edge/illformed_empty_document_comment_only.xml": "not a feed",
    "feedparser_edge/illformed_truncated_close_tag.xml": "malformed feed with no items",
    "feedparser_edge/illformed_undeclared_namespace_prefix.xml": "malformed feed with no items",
}

# Nothing that could run in a mail client or a browser may come out of a source.
ACTIVE = re.compile(r"<script|javascript:|\bon(?:error|load|click|mouseover)\s*=", re.IGNORECASE)


def fetch_json(cli: Any, site: Any, name: str) -> tuple[list[dict[str, Any]], Any]:
    result = cli("fetch", "--json", "--config", site.config, "--source", CORPUS / name)
    return [json.loads(line) for line in result.stdout.splitlines()], result


def test_every_corpus_file_is_covered() -> None:
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".md"}

    assert files == set(EXPECTED) | set(FAILING)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_gives_the_right_papers(name: str, cli: Any, site: Any) -> None:
    count, first_id = EXPECTED[name]

    papers, result = fetch_json(cli, site, name)

    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len(papers) == count
    assert first_id is None or papers[0]["id"] == first_id
    for paper in papers:
        assert paper["id"] and paper["title"] and isinstance(paper["authors"], list)
        assert not ACTIVE.search(json.dumps(paper)), paper["id"]
        assert "Announce Type:" not in paper["abstract"]
        assert not re.search(r"\(arXiv:\S+ \[", paper["title"])


@pytest.mark.parametrize("name", sorted(FAILING))
def test_corpus_file_without_a_listing_is_reported_in_one_line(name: str, cli: Any, site: Any) -> None:
    result = cli("fetch", "--config", site.config, "--source", CORPUS / name)

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert f"Error: source {name.rpartition('/')[2]}: {FAILING[name]}" in result.stderr


def test_arxiv_listing_fields(cli: Any, site: Any) -> None:
    papers, _ = fetch_json(cli, site, "arxiv_rss_new_cs.CL_trimmed_2026-04-27.xml")
    first = papers[0]

    assert first["authors"] == ["Anamta Khan", "Ratna Kandala", "Deepti", "Sheza Munir", "Joyojeet Pal"]
    assert first["abstract"].startswith("Social media platforms have become primary channels")
    assert first["url"] == "https://arxiv.org/abs/2604.22002"
    assert first["pdf_url"] == "https://arxiv.org/pdf/2604.22002"
    assert first["announce_type"] == "new"
    assert first["published"] == "2026-04-27T04:00:00+00:00"
    assert papers[1]["categories"] == ["cs.CL", "cs.AI", "cs.LG"]


def test_arxiv_api_fields(cli: Any, site: Any) -> None:
    papers, _ = fetch_json(cli, site, "arxiv_api_atom_2026_cs.AI-LG-CL.xml")
    legacy, _ = fetch_json(cli, site, "arxiv_api_atom_legacy_2020_idlist.xml")

    assert papers[0]["categories"][0] == "hep-th"  # the primary category, although cs.AI was asked for
    assert legacy[0]["authors"] == ["Michael Kilgour", "Dvira Segal"]
    assert 'Landauer-B\\"uttiker' in legacy[0]["abstract"]  # TeX in abstracts stays as written
    assert "\n" not in legacy[0]["title"]


def test_old_arxiv_rdf_title_suffix_becomes_fields(cli: Any, site: Any) -> None:
    papers, _ = fetch_json(cli, site, "arxiv_rss_old_rdf_math_2012-09-12_full.xml")
    first = papers[0]

    assert first["title"] == "On the first time that an Ito process hits a barrier"
    assert first["categories"] == ["math.PR"]
    assert first["authors"] == ["Gerardo Hernandez-del-Valle"]
    assert first["url"] == "https://arxiv.org/abs/1209.2411"
    assert [p["announce_type"] for p in papers].count("cross") == 1


def test_mojibake_capture_is_repaired(cli: Any, site: Any) -> None:
    papers, _ = fetch_json(cli, site, "arxiv_api_atom_2026_all-testing_100entries.xml")

    assert any(p["title"].startswith("$ω$Test") for p in papers)
    assert not any(re.search("[ÃÂÏÎ][\x80-\xbf]", p["title"] + p["abstract"]) for p in papers)


def test_hugging_face_fields(cli: Any, site: Any) -> None:
    api, _ = fetch_json(cli, site, "hf_daily_papers_api.json")
    mirror, _ = fetch_json(cli, site, "hf_daily_papers_feedgen_rss.xml")

    assert api[0]["upvotes"] == 3 and api[0]["hf_url"] == "https://huggingface.co/papers/2607.23193"
    assert mirror[0]["authors"] == ["Haebin Seong", "Li Yin", "Haoran Zhang"]
    assert mirror[0]["upvotes"] == 1
    assert not mirror[0]["abstract"].startswith("Authors:")


def test_biorxiv_and_medrxiv_fields(cli: Any, site: Any) -> None:
    rss, _ = fetch_json(cli, site, "biorxiv_plant_biology_rss1.rdf")
    api, _ = fetch_json(cli, site, "medrxiv_api_details_2026-09-15_3of72.json")

    assert rss[0]["authors"][:3] == ["M. Kaur", "A. Shukla", "S. Kanwar"]
    assert rss[0]["authors"][-1] == "A. K. Pandey"
    assert api[0]["authors"] == ["P. Kumar", "A. Aurange", "S. Keshari", "S. Nalwad"]
    assert api[0]["categories"] == ["nephrology"]
    assert not any(re.search(r"\b[OC]_(?:ST_ABS|LI)\b", p["abstract"]) for p in api)


def test_redirect_links_are_unwrapped(cli: Any, site: Any) -> None:
    alerts, _ = fetch_json(cli, site, "google_alerts_atom.xml")
    scholar, _ = fetch_json(cli, site, "google_scholar_alert_email_1.html")

    assert not any("google.com/url" in p["url"] for p in alerts)
    assert "<b>" not in alerts[0]["title"]
    assert scholar[0]["url"] == "https://arxiv.org/abs/1912.02015"
    assert scholar[0]["authors"][:2] == ["Z Chen", "S Kommrusch"]


def test_truncated_feed_is_salvaged_with_a_warning(cli: Any, site: Any) -> None:
    papers, result = fetch_json(cli, site, "arxiv_newfeed_atom_cs.AI_2025-08-20_TRUNCATED.xml")

    assert len(papers) == 87
    assert "warning: recovered from a malformed document" in result.stderr


def test_one_paper_per_id_across_sources(cli: Any, site: Any, tmp_path: Any) -> None:
    listing = CORPUS / "arxiv_rss_new_cs.AI_trimmed.xml"
    again = tmp_path / "cs.AI-again.xml"
    again.write_bytes(listing.read_bytes())

    papers, _ = fetch_json_sources(cli, site, listing, again)

    assert [p["id"] for p in papers] == ["2604.21935", "2604.21936", "2604.21937"]
    assert all(p["sources"] == [listing.name, again.name] for p in papers)


def fetch_json_sources(cli: Any, site: Any, *sources: Any) -> tuple[list[dict[str, Any]], Any]:
    args = [arg for source in sources for arg in ("--source", source)]
    result = cli("fetch", "--json", "--config", site.config, *args)
    return [json.loads(line) for line in result.stdout.splitlines()], result
