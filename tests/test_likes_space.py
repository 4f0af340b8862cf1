"""The TF-IDF space outlives one edition: a daily edition puts its new papers into the cached
space and trains nothing; the space is fitted anew when it is a week old or the archive sample
has outgrown it. Real parts: the state database and the cache file on disk.
"""

from __future__ import annotations

import datetime as dt
import random
import warnings
from pathlib import Path

import pytest
import sklearn.base

from digest.matching import compile_profile
from digest.models import Listing, Paper, Profile
from digest.pipeline.likes import Learned, with_likes
from digest.relevance.cache import GROWTH, REFIT_DAYS
from digest.store import DATABASE_NAME, PaperArchive
from digest.store.connection import connect

from .test_likes_ranker import TOPICS, corpus, paper

DAY = dt.date(2026, 11, 2)


def edition(prefix: str, count: int) -> list[Paper]:
    """A day's new papers, every topic in turn."""
    rng, topics = random.Random(prefix), list(TOPICS)
    return [paper(f"{prefix}.{n:05d}", topics[n % len(topics)], rng) for n in range(count)]


class Site:
    """An archive on disk, the state dir beside it, and two readers: one likes data mixtures,
    the other galaxies."""

    def __init__(self, folder: Path, archived: list[Paper]) -> None:
        self.folder, self.db = folder, connect(folder / DATABASE_NAME, create=True)
        self.seen = 0
        self.add(archived)
        mixture, galaxy = archived[0].id, archived[3 * len(archived) // len(TOPICS)].id
        self.profiles = [
            Profile(str(folder / "a.yaml"), ("a@example.org",), like=(mixture,)),
            Profile(str(folder / "b.yaml"), ("b@example.org",), like=(galaxy,)),
        ]

    def add(self, papers: list[Paper]) -> None:
        """Archive an edition's papers, seen after every paper archived before."""
        PaperArchive(self.db).remember(papers)
        self.seen += 1
        later = f"2026-11-{self.seen:02d}T08:00:00+00:00"
        self.db.executemany("UPDATE papers SET last_seen = ? WHERE id = ?", [(later, p.id) for p in papers])
        self.db.commit()

    def match(self, listing: list[Paper], today: dt.date) -> Learned:
        compiled = [compile_profile(p) for p in self.profiles]
        return with_likes(self.db, compiled, Listing(tuple(listing), ()), self.folder, today=today)


def lifted_topics(learned: Learned, listing: list[Paper]) -> list[set[str]]:
    """The topics of the papers each profile's likes lifted."""
    topic = {p.id: list(TOPICS)[n % len(TOPICS)] for n, p in enumerate(listing)}
    return [{topic[i] for i in c.likeness.lifted()} for c in learned.profiles if c.likeness]


def test_a_daily_edition_puts_its_papers_into_the_cached_space(tmp_path: Path) -> None:
    site = Site(tmp_path, corpus(per_topic=14))
    try:
        first = site.match(corpus(per_topic=14), DAY)
        new = edition("2511", 30)
        site.add(new)  # the archive sample now holds papers the space was not fitted on
        daily = site.match(new, DAY + dt.timedelta(days=1))
        week_later = site.match(new, DAY + dt.timedelta(days=REFIT_DAYS + 1))
    finally:
        site.db.close()

    assert (first.refitted, first.trained) == (True, 2)
    assert (daily.refitted, daily.trained) == (False, 0)  # the space and both tastes from the cache
    assert lifted_topics(daily, new) == [{"mixture"}, {"galaxy"}]  # new papers, ranked in the old space
    assert (week_later.refitted, week_later.trained) == (True, 2)


def test_an_archive_sample_that_outgrew_the_space_is_fitted_anew(tmp_path: Path) -> None:
    young = corpus(per_topic=10)  # 60 papers: a site's first days
    site = Site(tmp_path, young)
    grown = edition("2512", int(len(young) * (GROWTH - 1)) + 6)
    try:
        first = site.match(young, DAY)
        small = edition("2511", 6)
        site.add(small)
        slightly = site.match(small, DAY)
        site.add(grown)
        outgrown = site.match(grown, DAY)
    finally:
        site.db.close()

    assert first.refitted and not slightly.refitted
    assert outgrown.refitted and outgrown.trained == 2
    assert lifted_topics(outgrown, grown) == [{"mixture"}, {"galaxy"}]


def test_a_space_another_scikit_learn_wrote_is_fitted_anew_without_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After an upgrade of scikit-learn, its objects in the cache may not mean the same, and
    # reading them warns on every run: the cache is fitted anew instead, quietly.
    site = Site(tmp_path, corpus(per_topic=14))
    listing = corpus(per_topic=14)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(sklearn.base, "__version__", "1.3.0")  # what the estimators are stamped with
            site.match(listing, DAY)
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            upgraded = site.match(listing, DAY)
        again = site.match(listing, DAY)
    finally:
        site.db.close()

    assert [str(w.message) for w in warned] == []
    assert (upgraded.refitted, upgraded.trained) == (True, 2)
    assert (again.refitted, again.trained) == (False, 0)  # what it wrote is this version's
