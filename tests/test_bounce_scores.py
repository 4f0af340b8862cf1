"""Bounce scores in the state database (SQLite on disk): hard counts more than soft, the score
starts over after `decay_days` without a bounce, and clearing starts it over too."""

from __future__ import annotations

import datetime as dt

import pytest

from digest.models import BounceScore
from digest.store import Bounces, Database, Ledger
from digest.store.overview import BounceFigures

DAY = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)
ALICE = "alice@example.org"


@pytest.fixture
def db(backend: Database) -> Database:
    """Each test on both engines."""
    return backend


def test_hard_and_soft_bounces_add_up_and_the_list_says_score_last_bounce_and_reason(db: Database) -> None:
    bounces = Bounces(db)
    bounces.record(ALICE, 1.0, "5.1.1 user unknown", DAY, 30)
    score = bounces.record(ALICE, 0.5, "4.2.2 mailbox full", DAY + dt.timedelta(days=3), 30)
    bounces.record("bob@example.org", 0.5, "4.4.7 expired", DAY, 30)
    Ledger(db).suppress(ALICE, "bounce score 1.5")

    listed = bounces.scores(DAY + dt.timedelta(days=4), 30)

    assert score == 1.5
    assert listed == [
        BounceScore(ALICE, 1.5, 2, "2026-11-05T07:00:00+00:00", "4.2.2 mailbox full", True),
        BounceScore("bob@example.org", 0.5, 1, "2026-11-02T07:00:00+00:00", "4.4.7 expired", False),
    ]


def test_the_score_starts_over_after_decay_days_without_a_bounce(db: Database) -> None:
    bounces = Bounces(db)
    bounces.record(ALICE, 1.0, "5.1.1 user unknown", DAY, 30)
    bounces.record(ALICE, 1.0, "5.1.1 user unknown", DAY + dt.timedelta(days=1), 30)

    quiet_month_later = DAY + dt.timedelta(days=32)
    assert bounces.scores(quiet_month_later, 30)[0].score == 0.0
    assert bounces.scores(DAY + dt.timedelta(days=30), 30)[0].score == 2.0  # not quite 30 days quiet
    assert bounces.record(ALICE, 1.0, "5.1.1 user unknown", quiet_month_later, 30) == 1.0


def test_clearing_starts_the_score_over(db: Database) -> None:
    bounces = Bounces(db)
    bounces.record(ALICE, 1.0, "5.1.1 user unknown", DAY, 30)

    assert bounces.clear(ALICE)
    assert bounces.scores(DAY, 30) == []
    assert not bounces.clear(ALICE)
    assert bounces.record(ALICE, 0.5, "4.2.2 mailbox full", DAY, 30) == 0.5


def test_a_bounce_for_an_edition_is_recorded_on_its_ledger_row(db: Database) -> None:
    edition = DAY.date()
    Ledger(db).mark_sent(ALICE, edition, "<m@digest.example.net>", [])
    bounces = Bounces(db)

    bounces.record(ALICE, 1.0, "5.1.1 user unknown", DAY, 30, edition)

    assert BounceFigures(db).bounced([edition.isoformat()]) == {edition.isoformat(): 1}
    assert bounces.delivery_of("<m@digest.example.net>") == (ALICE, edition)
    assert bounces.latest_edition(ALICE) == edition and bounces.latest_edition("zed@example.org") is None
