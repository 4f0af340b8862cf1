"""The state database: the only package that touches SQLite.

One file in the state dir holds the delivery ledger and the schedule log (ledger.py), the HTTP
cache, the paper archive and each source's last listing (listings.py), and the subscribers'
sign-ups and unsubscribes (subscribers.py).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    address     TEXT NOT NULL,
    edition     TEXT NOT NULL,
    state       TEXT NOT NULL
                CHECK (state IN ('pending', 'sending', 'sent', 'deferred', 'failed', 'uncertain')),
    message_id  TEXT NOT NULL,
    papers      TEXT NOT NULL DEFAULT '[]',
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (address, edition)
);
CREATE TABLE IF NOT EXISTS sent_papers (
    address   TEXT NOT NULL,
    paper_id  TEXT NOT NULL,
    edition   TEXT NOT NULL,
    PRIMARY KEY (address, paper_id)
);
CREATE TABLE IF NOT EXISTS http_cache (
    url            TEXT PRIMARY KEY,
    body           BLOB NOT NULL,
    etag           TEXT,
    last_modified  TEXT,
    fetched_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suppressions (
    address  TEXT PRIMARY KEY,
    reason   TEXT NOT NULL,
    since    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_subscriptions (
    nonce       TEXT PRIMARY KEY,
    address     TEXT NOT NULL,
    keywords    TEXT NOT NULL,
    name        TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS confirmations_sent (
    address  TEXT NOT NULL,
    sent_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS unsubscribes (
    address  TEXT PRIMARY KEY,
    via      TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS edition_papers (
    address    TEXT NOT NULL,
    edition    TEXT NOT NULL,
    paper_ids  TEXT NOT NULL,
    PRIMARY KEY (address, edition)
);
CREATE TABLE IF NOT EXISTS source_fetches (
    location  TEXT PRIMARY KEY,
    ids_hash  TEXT NOT NULL,
    day       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_runs (
    slot     TEXT NOT NULL,
    edition  TEXT NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('done', 'tried')),
    at       TEXT NOT NULL,
    detail   TEXT,
    PRIMARY KEY (slot, edition)
);
CREATE TABLE IF NOT EXISTS papers (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
);
"""


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


SCHEMA_VERSION = 2


def connect(path: Path) -> sqlite3.Connection:
    """The state database, created on first use and brought up to the current schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=30)  # explicit transactions below
    db.execute("PRAGMA journal_mode=WAL")
    # WAL with NORMAL: every commit survives the process being killed at any point (what the
    # exactly-once guarantee rests on); only a power cut can lose the last few, which the next
    # run then sends again. FULL would add a disk flush to every message's two commits.
    db.execute("PRAGMA synchronous=NORMAL")
    with db:
        db.execute("BEGIN IMMEDIATE")
        _migrate(db)
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return db


def _migrate(db: sqlite3.Connection) -> None:
    """Version 1 allowed only three delivery states; copy its rows into the wider table."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'deliveries'").fetchone()
    if exists and version < 2:
        db.execute("ALTER TABLE deliveries RENAME TO deliveries_v1")
        db.execute(SCHEMA.split(";")[0])
        db.execute(
            """INSERT INTO deliveries
                 (address, edition, state, message_id, papers, error, created_at, updated_at)
               SELECT address, edition, state, message_id, papers, error, updated_at, updated_at
               FROM deliveries_v1"""
        )
        db.execute("DROP TABLE deliveries_v1")


from .ledger import Ledger, ScheduleLog  # noqa: E402 - they build on connect() above
from .listings import HttpCache, PaperArchive, SourceHistory  # noqa: E402
from .subscribers import Subscriptions  # noqa: E402

__all__ = [
    "HttpCache", "Ledger", "PaperArchive", "ScheduleLog", "SourceHistory", "Subscriptions",
    "connect", "now_text",
]  # fmt: skip
