"""`trending: N`: the most upvoted Hugging Face papers the profile's terms did not select."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from digest.config.profiles import load_profile
from digest.errors import ConfigError
from digest.matching import PaperIndex, compile_profile, select, select_trending
from digest.models import Digest, Links, Match, Paper, Profile, trending_reason
from digest.render.renderer import Renderer
from digest.sources.hf import papers_from_daily

from .conftest import Site
from .test_web import outbox

ADDRESS = "alice@example.org"


def paper(paper_id: str, title: str, upvotes: int | None) -> Paper:
    return Paper(paper_id, title, "", ("A. Author",), f"https://arxiv.org/abs/{paper_id}", upvotes=upvotes)


PAPERS = [
    paper("2501.00001", "Pretraining at scale", 500),  # the keyword selects it
    paper("2501.00002", "Protein folding", 90),
    paper("2501.00003", "A survey of agents", 300),  # excluded
    paper("2501.00004", "Robot hands", 40),
    paper("2501.00005", "Graph colouring", None),  # not on Hugging Face
    paper("2501.00006", "Weather models", 60),
    paper("2501.00007", "Sent before", 1000),
]


def test_the_most_upvoted_papers_no_term_chose_are_trending() -> None:
    profile = Profile("p.yaml", (ADDRESS,), keywords=("pretraining",), exclude=("survey",), trending=2)
    compiled = compile_profile(profile)
    index = PaperIndex(PAPERS, [compiled])
    chosen = [m.paper.id for m in select(compiled, index)]

    trending = select_trending(compiled, index, frozenset({"2501.00007"}), chosen)

    assert chosen == ["2501.00001"]
    assert [m.paper.id for m in trending] == ["2501.00002", "2501.00006"]
    assert [m.via for m in trending] == [["trending"], ["trending"]]
    assert trending[0].explanations() == ["trending on Hugging Face (90 upvotes)"]


def test_no_trending_section_by_default() -> None:
    compiled = compile_profile(Profile("p.yaml", (ADDRESS,), keywords=("pretraining",)))

    assert select_trending(compiled, PaperIndex(PAPERS, [compiled]), frozenset(), []) == []


@pytest.mark.parametrize("value", ["-1", "21", "many", "true", "2.5"])
def test_a_bad_trending_value_is_an_error_naming_file_line_and_key(tmp_path: Path, value: str) -> None:
    path = tmp_path / "bob.yaml"
    path.write_text(f"email: bob@example.org\nkeywords: [agents]\ntrending: {value}\n", encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_profile(path)

    assert f"{path}:3: trending: expected a whole number from 0 to 20" in str(raised.value)


def test_trending_is_read_from_a_profile(tmp_path: Path) -> None:
    path = tmp_path / "bob.yaml"
    path.write_text("email: bob@example.org\nkeywords: [agents]\ntrending: 3\n", encoding="utf-8")

    assert load_profile(path).trending == 3


def delivered(site: Site) -> list[str]:
    """Every paper id of every message sent to alice, repeats included (the deliveries' lists)."""
    with contextlib.closing(sqlite3.connect(site.config.parent / "var" / "digest.sqlite3")) as db:
        rows = db.execute("SELECT papers FROM deliveries WHERE address = ? AND state = 'sent'", (ADDRESS,))
        return [paper for (papers,) in rows.fetchall() for paper in json.loads(papers)]


def trending_titles(site: Site, edition: str) -> list[str]:
    text = outbox(site, edition)[ADDRESS].get_body(("plain",)).get_content()
    section = text.split("TRENDING ON HUGGING FACE", 1)[1].split("-" * 72, 1)[0] if "TRENDING" in text else ""
    return [line[2:].strip() for line in section.splitlines() if line.startswith("* ")]


def test_trending_papers_are_sent_once_like_every_paper(site: Site, cli: Any) -> None:
    site.profile("alice", (site.profiles / "alice.yaml").read_text() + "max_papers: 2\ntrending: 1\n")

    for edition in ("2026-11-16", "2026-11-17", "2026-11-18"):
        assert cli("run", "--once", "--config", site.config, "--date", edition).exit_code == 0

    papers = delivered(site)
    assert len(papers) == len(set(papers)) == 2 * 3 + 2  # the third edition had no trending paper left
    assert trending_titles(site, "2026-11-16") == ["Denoising Diffusion Probabilistic Models"]
    assert trending_titles(site, "2026-11-17") == ["∞-former: Infinite Memory Transformer"]
    assert trending_titles(site, "2026-11-18") == []


def test_match_json_names_trending_as_what_selected_the_paper(site: Site, cli: Any) -> None:
    site.profile("alice", (site.profiles / "alice.yaml").read_text() + "trending: 3\n")

    result = cli("match", site.profiles / "alice.yaml", "--config", site.config, "--json")

    rows = [json.loads(line) for line in result.stdout.splitlines()]
    trending = [row for row in rows if row["via"] == ["trending"]]
    # The sample lists six Hugging Face papers; the keywords select four of them.
    assert len(trending) == 2 and all(row["upvotes"] is not None for row in trending)
    assert rows[-2:] == trending  # after the profile's own papers
    assert [row["upvotes"] for row in trending] == sorted((row["upvotes"] for row in trending), reverse=True)


def test_hugging_face_summary_and_organization_are_shown_as_theirs() -> None:
    listing = [
        {
            "paper": {"id": "2607.00001", "title": "Tiny agents", "summary": "Long abstract.", "upvotes": 12,
                      "authors": [{"name": "Ada"}], "ai_summary": "Small agents plan well."},
            "organization": {"name": "tiny", "fullname": "Tiny Lab"},
        }
    ]  # fmt: skip
    found = papers_from_daily(listing, "hf").papers[0]
    match = Match(found, 0.0, (trending_reason(12),))
    keyword = Match(paper("2501.00001", "Pretraining at scale", 500), 1.0, ())
    digest = Digest(
        dt.date(2026, 11, 16), Profile("a.yaml", (ADDRESS,)), ADDRESS, (keyword,), trending=(match,)
    )
    links = Links(
        "https://x/u", "https://x/m", "mailto:x@x", "https://x/w", "https://x/f.atom", "https://x/a"
    )

    rendered = Renderer("Test").render(digest, links)

    assert (found.ai_summary, found.organization) == ("Small agents plan well.", "Tiny Lab")
    assert "Small agents plan well. <span" in rendered.html and "(summary by Hugging Face)" in rendered.html
    assert "Tiny Lab" in rendered.html and "(organization on Hugging Face)" in rendered.html
    assert "Small agents plan well. (summary by Hugging Face)" in rendered.text
