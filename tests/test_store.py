"""The state database: numbered migrations that keep every row, and one connection per run."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from digest.config.settings import load_settings
from digest.errors import StateError
from digest.pipeline import run as pipeline
from digest.pipeline.state import database_path
from digest.serve.scheduler import Service
from digest.store import SQLiteDatabase, connect
from digest.store.schema import SCHEMA_VERSION, migrate

from .conftest import Site
from .test_web import serving

NOW = dt.datetime(2026, 11, 16, 7, 30, tzinfo=dt.UTC)
EDITION = dt.date(2026, 11, 16)
ALL_TABLES = {
    "deliveries", "sent_papers", "http_cache", "suppressions", "pending_subscriptions",
    "confirmations_sent", "unsubscribes", "edition_papers", "source_fetches", "meta",
    "schedule_runs", "papers", "link_rotations", "bounces", "source_checks", "admin_sessions",
    "edition_tally", "scheduler_lease",
}  # fmt: skip

# Before the schema had a number (user_version 0): three delivery states, no created_at, and
# the sent papers listed ahead of the deliveries, so no step may rely on table order.
VERSION_1 = """
CREATE TABLE sent_papers (address TEXT NOT NULL, paper_id TEXT NOT NULL, edition TEXT NOT NULL,
                          PRIMARY KEY (address, paper_id));
CREATE TABLE deliveries (
    address TEXT NOT NULL, edition TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    message_id TEXT NOT NULL, papers TEXT NOT NULL DEFAULT '[]', error TEXT,
    updated_at TEXT NOT NULL, PRIMARY KEY (address, edition));
INSERT INTO deliveries (address, edition, state, message_id, papers, updated_at)
VALUES ('alice@example.org', '2026-11-16', 'sent', '<a@x>', '["2005.14165"]', '2026-11-16T07:00:00+00:00');
INSERT INTO sent_papers VALUES ('alice@example.org', '2005.14165', '2026-11-16');
"""

# Version 2: six states, but several tables of later releases (papers, link rotations) missing.
VERSION_2 = """
CREATE TABLE unsubscribes (address TEXT PRIMARY KEY, via TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE deliveries (
    address TEXT NOT NULL, edition TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'deferred', 'failed', 'uncertain')),
    message_id TEXT NOT NULL, papers TEXT NOT NULL DEFAULT '[]', error TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (address, edition));
CREATE TABLE sent_papers (address TEXT NOT NULL, paper_id TEXT NOT NULL, edition TEXT NOT NULL,
                          PRIMARY KEY (address, paper_id));
INSERT INTO deliveries VALUES ('bob@example.org', '2026-11-16', 'deferred', '<b@x>', '[]', '452',
                               '2026-11-16T07:00:00+00:00', '2026-11-16T07:05:00+00:00');
INSERT INTO unsubscribes VALUES ('carol@example.org', 'link', '2026-11-15T10:00:00+00:00');
PRAGMA user_version = 2;
"""


def made_by_raw_sql(path: Path, script: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as db:
        db.executescript(script)
    return path


def tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_version_1_database_migrates_and_keeps_its_rows(tmp_path: Path) -> None:
    path = made_by_raw_sql(tmp_path / "digest.sqlite3", VERSION_1)

    with closing(connect(path)) as db:
        deliveries = db.execute("SELECT address, state, message_id, created_at FROM deliveries").fetchall()
        sent = db.execute("SELECT * FROM sent_papers").fetchall()
        version = db.execute("PRAGMA user_version").fetchone()[0]
        found = tables(db)
        db.execute("UPDATE deliveries SET state = 'uncertain'")  # a state version 1 refused

    assert deliveries == [("alice@example.org", "sent", "<a@x>", "2026-11-16T07:00:00+00:00")]
    assert sent == [("alice@example.org", "2005.14165", "2026-11-16")]
    assert version == SCHEMA_VERSION and found == ALL_TABLES


def test_a_version_2_database_gains_the_later_tables_and_keeps_its_rows(tmp_path: Path) -> None:
    path = made_by_raw_sql(tmp_path / "digest.sqlite3", VERSION_2)

    with closing(connect(path)) as db:
        deliveries = db.execute("SELECT address, state, error, created_at FROM deliveries").fetchall()
        left = db.execute("SELECT address, via FROM unsubscribes").fetchall()
        version = db.execute("PRAGMA user_version").fetchone()[0]
        found = tables(db)

    assert deliveries == [("bob@example.org", "deferred", "452", "2026-11-16T07:00:00+00:00")]
    assert left == [("carol@example.org", "link")]
    assert version == SCHEMA_VERSION and found == ALL_TABLES


def test_a_database_of_a_newer_digest_is_refused_in_one_line(tmp_path: Path) -> None:
    path = made_by_raw_sql(tmp_path / "digest.sqlite3", f"PRAGMA user_version = {SCHEMA_VERSION + 1};")

    with pytest.raises(StateError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        connect(path)


def test_a_database_at_the_current_version_is_not_written_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "digest.sqlite3"
    connect(path, create=True).close()
    statements: list[str] = []

    with closing(sqlite3.connect(path, isolation_level=None, factory=SQLiteDatabase)) as db:
        db.set_trace_callback(statements.append)
        migrate(db, path)

    assert statements == ["PRAGMA user_version"]


# Every sqlite3.connect raises an audit event (a documented hook of the standard library): the
# opens of the state database are counted there, with nothing in the code under test replaced.
_opened: list[str] | None = None
_openers: list[int] = []  # the thread of each open


def _count_opens(event: str, args: tuple[object, ...]) -> None:
    if event == "sqlite3.connect" and _opened is not None:
        _opened.append(str(args[0]))
        _openers.append(threading.get_ident())


sys.addaudithook(_count_opens)


@contextmanager
def counting_opens() -> Iterator[list[str]]:
    global _opened
    _opened = []
    _openers.clear()
    try:
        yield _opened
    finally:
        _opened = None


def test_a_run_opens_the_state_database_once(site: Site) -> None:
    settings = load_settings(site.config)
    connect(database_path(settings)).close()  # made, as by `digest init-state`
    since = NOW - dt.timedelta(days=7)  # --since merges the archive in too

    with counting_opens() as opened:
        report = pipeline.run_once(settings, pipeline.RunOptions(edition=EDITION, since=since), now=NOW)

    assert report.tally.sent == 1
    assert opened == [str(database_path(settings))]


def test_a_scheduled_edition_opens_the_state_database_once(site: Site) -> None:
    settings = load_settings(site.config)
    service = Service(settings)  # checks the database once, at start

    with counting_opens() as opened:
        reports = service.tick(NOW)

    assert [r.tally.sent for r in reports] == [1]
    assert opened == [str(database_path(settings))]  # due, run and its record share it


def test_a_web_worker_thread_opens_the_state_database_once(site: Site) -> None:
    with serving(site) as web, counting_opens() as opened:
        statuses = [web.client.get("/unsubscribe/forged.token").status_code for _ in range(6)]

    assert statuses == [400] * 6  # each looked the token up in the database
    assert opened and len(_openers) == len(set(_openers))  # no thread opened it twice
