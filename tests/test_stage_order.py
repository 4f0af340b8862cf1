"""The order of the stages: everything is read (profiles, listings) before anything is written,
so a run whose inputs are all broken sends nothing and records no delivery."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

from digest.config.settings import load_settings
from digest.pipeline import run as pipeline

from .conftest import SITE_CONFIG, Site

EDITION = dt.date(2026, 11, 16)


def deliveries(site: Site) -> list[tuple[str, str]]:
    database = site.config.parent / "var" / "digest.sqlite3"
    with closing(sqlite3.connect(database)) as db:
        return db.execute("SELECT address, state FROM deliveries").fetchall()


def messages(site: Site) -> list[Path]:
    return sorted(site.outbox.rglob("*.eml")) if site.outbox.exists() else []


def test_a_run_whose_profiles_are_all_broken_sends_and_records_nothing(site: Site) -> None:
    site.profile("alice", "email: alice@example.org\nkeywords: [unclosed\n")
    site.profile("bob", "email: bob@example.org\nmax_papers: many\n")

    report = pipeline.run_once(load_settings(site.config), pipeline.RunOptions(edition=EDITION))

    broken = {p.file.name for error in report.profile_errors for p in error.problems}
    assert broken == {"alice.yaml", "bob.yaml"}
    assert report.tally.sent == 0 and report.sources and not report.failed_sources
    assert messages(site) == [] and deliveries(site) == []


def test_a_run_whose_sources_all_fail_sends_and_records_nothing(site: Site, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    broken_config = SITE_CONFIG.format(arxiv=missing / "a.xml", hf=missing / "b.json")
    site.config.write_text(broken_config, encoding="utf-8")

    report = pipeline.run_once(load_settings(site.config), pipeline.RunOptions(edition=EDITION))

    assert len(report.failed_sources) == 2 and report.profile_errors == []
    assert report.tally.sent == 0 and messages(site) == []
    assert deliveries(site) == []


def test_the_same_run_with_its_inputs_mended_delivers(site: Site) -> None:
    """The two tests above can fail: with good inputs the run writes both the message and its row."""
    report = pipeline.run_once(load_settings(site.config), pipeline.RunOptions(edition=EDITION))

    assert report.tally.sent == 1 and len(messages(site)) == 1
    assert deliveries(site) == [("alice@example.org", "sent")]
