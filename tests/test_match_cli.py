"""`digest match`: the spelling-variants listing of the issue, JSON and text output, backtests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import ARXIV_SAMPLE, Site

SPELLINGS = ["pretraining", "pre-training", "pre training", "Pre-Training", "PreTraining", "PRETRAINING",
             "pre‐training", "Pre-trainings"]  # fmt: skip
UNRELATED = [
    "Training a pre-trained model",  # different word: pre-trained
    "Pre and training data",  # words not adjacent
    "Before training. Pre",  # across a sentence
    "Retraining schedules",
    "Pretrain once, tune often",
]


def listing(tmp_path: Path) -> Path:
    """An RSS feed whose titles spell 'pretraining' every way, mixed with near misses."""
    items = [
        f"<item><title>{title}</title><link>https://example.org/{n}</link>"
        f"<description>A study of models.</description></item>"
        for n, title in enumerate([f"Efficient {s} of models" for s in SPELLINGS] + UNRELATED)
    ]
    path = tmp_path / "spellings.xml"
    path.write_text(f'<rss version="2.0"><channel><title>t</title>{"".join(items)}</channel></rss>')
    return path


def test_every_spelling_is_selected_and_nothing_else(site: Site, cli: Any, tmp_path: Path) -> None:
    profile = site.profile("pre", "email: p@example.org\nkeywords: [pretraining]\n")

    result = cli("match", profile, "--json", "--config", site.config, "--source", listing(tmp_path))

    selected = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(m["title"] for m in selected) == sorted(f"Efficient {s} of models" for s in SPELLINGS)
    assert all(m["reasons"] == ["'pretraining' in title"] for m in selected)
    for found in selected:
        [(start, end)] = found["matched"][0]["spans"]
        assert found["title"][start:end].replace("‐", "-").lower().startswith("pre")


def test_readable_output_says_why_for_every_paper(site: Site, cli: Any) -> None:
    result = cli("match", site.profiles / "alice.yaml", "--config", site.config, "--source", ARXIV_SAMPLE)

    ranks = [line for line in result.stdout.splitlines() if line[:5].strip().rstrip(".").isdigit()]
    assert result.exit_code == 0
    assert result.stdout.startswith("  1. [")
    assert result.stdout.count("why: ") == len(ranks) == 6
    assert (
        "why: 'pretraining' in title; 'language model' in title and abstract; author Percy Liang"
        in result.stdout
    )
    assert "6 of 12 papers selected" in result.stderr


def test_backtest_reads_the_archive(site: Site, cli: Any) -> None:
    cli("fetch", "--config", site.config, "--source", ARXIV_SAMPLE)
    narrower = site.profile("narrow", "email: n@example.org\nkeywords: [data selection]\n")

    result = cli("match", narrower, "--since", "7", "--json", "--config", site.config)

    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["2302.03169"]
    assert "source archive: 12 items" in result.stderr


def test_backtest_without_an_archive_says_what_to_do(site: Site, cli: Any) -> None:
    result = cli("match", site.profiles / "alice.yaml", "--since", "3", "--config", site.config)

    assert result.exit_code == 1
    assert "Error: no papers archived since" in result.stderr
    assert "Hint: every `digest fetch`, `preview` and `run` archives the papers it reads" in result.stderr


EXCLUDED_TITLES = ["Efficient pretraining", "A survey of pretraining", "Pretraining benchmark survey",
                   "A survey of unrelated things"]  # fmt: skip


def excluded_listing(tmp_path: Path) -> Path:
    items = "".join(
        f"<item><title>{title}</title><link>https://example.org/x{n}</link>"
        f"<description>Models.</description></item>"
        for n, title in enumerate(EXCLUDED_TITLES)
    )
    path = tmp_path / "excluded.xml"
    path.write_text(f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>')
    return path


def test_show_excluded_lists_what_each_exclude_term_dropped(site: Site, cli: Any, tmp_path: Path) -> None:
    text = "email: p@example.org\nkeywords: [pretraining]\nexclude: [survey, benchmark, tutorial]\n"
    profile = site.profile("pre", text)
    args = (
        "match",
        profile,
        "--config",
        site.config,
        "--source",
        excluded_listing(tmp_path),
        "--show-excluded",
    )

    shown, as_json = cli(*args), cli(*args, "--json")

    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    survey = lines.index("exclude 'survey' dropped 2 papers:")
    assert sorted(lines[survey + 1 : survey + 3]) == [
        "  A survey of pretraining  https://example.org/x1",
        "  Pretraining benchmark survey  https://example.org/x2",
    ]
    benchmark = lines.index("exclude 'benchmark' dropped 1 paper:")
    assert lines[benchmark + 1] == "  Pretraining benchmark survey  https://example.org/x2"
    assert "exclude 'tutorial' dropped nothing" in lines
    assert "A survey of unrelated things" not in shown.stdout  # never selected, so nothing dropped it
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    dropped = {r["title"]: r["excluded_by"] for r in records if "excluded_by" in r}
    assert dropped == {
        "A survey of pretraining": ["survey"],
        "Pretraining benchmark survey": ["survey", "benchmark"],
    }


def test_without_show_excluded_nothing_about_excludes_is_printed(
    site: Site, cli: Any, tmp_path: Path
) -> None:
    profile = site.profile("pre", "email: p@example.org\nkeywords: [pretraining]\nexclude: [survey]\n")

    result = cli("match", profile, "--config", site.config, "--source", excluded_listing(tmp_path))

    assert result.exit_code == 0, result.stderr
    assert "dropped" not in result.stdout and "Efficient pretraining" in result.stdout
