"""`digest status` and `digest subscribers` after a real edition: the same numbers as the ledger."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from contextlib import closing

import pytest

from digest.store import Bounces, SQLiteDatabase
from digest.store.schema import MIGRATIONS, SCHEMA_VERSION

from .conftest import Site
from .console_scenario import (
    EDITION,
    LEFT,
    PENDING,
    REFUSED,
    SENT,
    UNCERTAIN,
    Cli,
    database,
    ledger_counts,
    run_edition,
)
from .smtp_relay import Relay


@pytest.fixture
def ran(site: Site, cli: Cli, relay: Relay) -> Site:
    result = run_edition(site, cli, relay)
    assert "Edition 2026-11-16" in result.stderr, result.stderr
    return site


def test_status_json_matches_the_ledger(ran: Site, cli: Cli) -> None:
    result = cli("status", "--json", "--config", ran.config)
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    ledger = ledger_counts(ran)
    assert ledger == {"sent": 2, "failed": 2, "uncertain": 1}
    edition = found["editions"][0]
    assert edition["edition"] == EDITION.isoformat()
    for state in ("sent", "failed", "deferred", "uncertain"):
        assert edition[state] == ledger[state], state
    assert edition["bounced"] == 0
    assert found["subscribers"] == {"active": 3, "pending": 1, "unsubscribed": 1, "suppressed": 2}
    sources = {s["name"]: s for s in found["sources"]}
    assert sources["broken"]["failures_30d"] == 1 and sources["broken"]["last_error"]
    assert sources["arxiv"]["failures_30d"] == 0 and sources["arxiv"]["last_fetch"]
    assert found["next_send"]["profiles"] == 2  # alice's and the team's, at the site's time


def test_status_text_names_the_same_numbers(ran: Site, cli: Cli) -> None:
    result = cli("status", "--config", ran.config)
    assert result.exit_code == 0, result.stderr
    assert "Subscribers: 3 active, 1 pending, 1 unsubscribed, 2 suppressed" in result.stdout
    assert "2026-11-16  sent 2  failed 2  deferred 0  uncertain 1  bounced 0" in result.stdout
    assert "broken  last fetch" in result.stdout and "1 of 1 fetches failed" in result.stdout
    assert "Next send: edition" in result.stdout


def test_subscribers_json_has_one_line_per_address(ran: Site, cli: Cli) -> None:
    result = cli("subscribers", "--json", "--config", ran.config)
    assert result.exit_code == 0, result.stderr
    rows = {row["address"]: row for row in map(json.loads, result.stdout.splitlines())}
    states = {address: row["state"] for address, row in rows.items()}
    assert states == {
        SENT[0]: "active", SENT[1]: "active", UNCERTAIN: "active", REFUSED[0]: "suppressed",
        REFUSED[1]: "suppressed", LEFT: "unsubscribed", PENDING: "pending",
    }  # fmt: skip
    assert rows[SENT[1]]["last_sent"] == EDITION.isoformat() and rows[UNCERTAIN]["last_sent"] is None
    assert rows[SENT[1]]["profile"] == "team.yaml" and rows[SENT[1]]["likes"] == 1
    assert rows[PENDING]["profile"] is None and rows[PENDING]["frequency"] is None
    assert rows[SENT[0]]["bounce_score"] is None and rows[SENT[0]]["frequency"] == "daily"


def test_subscribers_filters_and_csv(ran: Site, cli: Cli) -> None:
    suppressed = cli("subscribers", "--state", "suppressed", "--json", "--config", ran.config)
    assert [json.loads(line)["address"] for line in suppressed.stdout.splitlines()] == list(REFUSED)
    searched = cli("subscribers", "--search", "TEAM.yaml", "--csv", "--config", ran.config)
    rows = list(csv.DictReader(io.StringIO(searched.stdout)))
    assert sorted(row["address"] for row in rows) == sorted([*REFUSED, UNCERTAIN, SENT[1], LEFT])
    assert set(rows[0]) >= {"address", "profile", "state", "frequency", "last_sent", "bounce_score", "likes"}
    text = cli("subscribers", "--search", "gina", "--config", ran.config)
    assert text.stdout.startswith(f"{PENDING}  pending") and "1 of 7 address(es)" in text.stderr


def test_bad_filters_are_one_line_errors(site: Site, cli: Cli) -> None:
    wrong_state = cli("subscribers", "--state", "gone", "--config", site.config)
    assert wrong_state.exit_code == 2 and "'gone' is not one of" in wrong_state.stderr
    both = cli("subscribers", "--json", "--csv", "--config", site.config)
    assert both.exit_code == 2 and "--json and --csv cannot be used together" in both.stderr


def test_a_database_of_the_previous_version_is_migrated(site: Site, cli: Cli) -> None:
    path = database(site)
    path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(path, isolation_level=None, factory=SQLiteDatabase)) as db:
        for step in MIGRATIONS[:3]:
            step(db)
        db.execute(
            """INSERT INTO deliveries VALUES ('alice@example.org', '2026-11-09', 'sent', '<a@x>', '[]',
               NULL, '2026-11-09T07:00:00+00:00', '2026-11-09T07:00:00+00:00')"""
        )
        db.execute("PRAGMA user_version = 3")
    result = cli("status", "--json", "--config", site.config)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["editions"][0] == {
        "edition": "2026-11-09", "sent": 1, "failed": 0, "deferred": 0, "uncertain": 0, "pending": 0,
        "bounced": 0,
    }  # fmt: skip
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_status_of_a_new_site(site: Site, cli: Cli) -> None:
    result = cli("status", "--config", site.config)
    assert result.exit_code == 0, result.stderr
    assert "(none yet)" in result.stdout and "(no fetches yet)" in result.stdout


def test_a_bounce_after_the_hand_over_shows_in_status_and_subscribers(ran: Site, cli: Cli) -> None:
    """The bounce scores that inbound mail keeps (store.bounces) are the ones both commands show."""
    with closing(sqlite3.connect(database(ran), isolation_level=None, factory=SQLiteDatabase)) as db:
        when = dt.datetime.now(dt.UTC)
        Bounces(db).record(SENT[0], 1.0, "550 5.1.1 no such user", when, 30, EDITION)

    status = json.loads(cli("status", "--json", "--config", ran.config).stdout)
    rows = {row["address"]: row for row in map(json.loads, cli(
        "subscribers", "--json", "--config", ran.config).stdout.splitlines())}  # fmt: skip

    assert status["editions"][0]["bounced"] == 1
    assert rows[SENT[0]]["bounce_score"] == 1.0 and rows[SENT[1]]["bounce_score"] is None
