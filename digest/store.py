"""The state database: the only module that touches SQLite.

One file in the state dir holds the delivery ledger, the HTTP cache of listings (for
conditional GET) and an archive of every paper seen (for "new" counts and backtests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .models import CachedFeed, Paper, paper_from_dict, paper_to_dict

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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


SCHEMA_VERSION = 2


def connect(path: Path) -> sqlite3.Connection:
    """The state database, created on first use and brought up to the current schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=30)  # explicit transactions below
    db.execute("PRAGMA journal_mode=WAL")
    # WAL with NORMAL: every commit survives the process being killed at any point (what the
    # exactly-once guarantee rests on); only a power cut can lose the last few, which the next
    # run then sends again. FULL would fsync twice per message and halve the sending rate.
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


class Ledger:
    """One row per (address, edition) with its state, so nothing is ever sent twice.

    pending → sending → sent, or deferred (try again), failed (5xx), uncertain (the connection
    broke after the message went out: it may have arrived). 'sending' is written before the
    hand-over, so a row still 'sending' when the next run starts means a run died mid-way.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def state(self, address: str, edition: dt.date) -> str | None:
        query = "SELECT state FROM deliveries WHERE address = ? AND edition = ?"
        row = self.db.execute(query, (address, edition.isoformat())).fetchone()
        return row[0] if row else None

    def states(self, edition: dt.date) -> dict[str, str]:
        rows = self.db.execute(
            "SELECT address, state FROM deliveries WHERE edition = ?", (edition.isoformat(),)
        )
        return dict(rows.fetchall())

    def sent_paper_ids(self, address: str) -> frozenset[str]:
        rows = self.db.execute("SELECT paper_id FROM sent_papers WHERE address = ?", (address,))
        return frozenset(row[0] for row in rows)

    def settle_interrupted(self, edition: dt.date) -> list[str]:
        """Rows a dead run left 'sending' become 'uncertain'; their addresses are returned."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            rows = self.db.execute(
                "SELECT address FROM deliveries WHERE edition = ? AND state = 'sending'",
                (edition.isoformat(),),
            ).fetchall()
            self.db.execute(
                """UPDATE deliveries SET state = 'uncertain', updated_at = ?,
                   error = 'a run stopped while handing this message over'
                   WHERE edition = ? AND state = 'sending'""",
                (_now(), edition.isoformat()),
            )
        return [row[0] for row in rows]

    def mark(
        self, address: str, edition: dt.date, state: str, message_id: str = "", error: str | None = None
    ) -> None:
        self.db.execute(
            """INSERT INTO deliveries (address, edition, state, message_id, error, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (address, edition) DO UPDATE SET state = excluded.state,
                 message_id = excluded.message_id, error = excluded.error,
                 updated_at = excluded.updated_at""",
            (address, edition.isoformat(), state, message_id, error, _now(), _now()),
        )

    def mark_sent(self, address: str, edition: dt.date, message_id: str, paper_ids: Iterable[str]) -> None:
        papers = list(paper_ids)
        with self.db:  # one transaction: the delivery and its papers are recorded together
            self.db.execute("BEGIN IMMEDIATE")
            self.mark(address, edition, "sent", message_id)
            self.db.execute(
                "UPDATE deliveries SET papers = ? WHERE address = ? AND edition = ?",
                (json.dumps(papers), address, edition.isoformat()),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO sent_papers (address, paper_id, edition) VALUES (?, ?, ?)",
                [(address, paper_id, edition.isoformat()) for paper_id in papers],
            )

    def consecutive_failures(self, address: str) -> int:
        """How many of the address's latest editions in a row ended in a permanent failure."""
        rows = self.db.execute(
            """SELECT state FROM deliveries WHERE address = ? AND state IN ('sent', 'failed')
               ORDER BY edition DESC""",
            (address,),
        )
        return len(list(itertools.takewhile(lambda row: row[0] == "failed", rows)))

    def is_suppressed(self, address: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM suppressions WHERE address = ?", (address,)).fetchone() is not None
        )

    def suppress(self, address: str, reason: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO suppressions (address, reason, since) VALUES (?, ?, ?)",
            (address, reason, _now()),
        )

    def unsuppress(self, address: str) -> bool:
        """Clear a suppression; False when there was none."""
        return self.db.execute("DELETE FROM suppressions WHERE address = ?", (address,)).rowcount > 0

    def suppressions(self) -> list[tuple[str, str, str]]:
        return self.db.execute("SELECT address, reason, since FROM suppressions ORDER BY since").fetchall()


class HttpCache:
    """The last body of each listing URL with its validators, for conditional GET."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def cached(self, url: str) -> CachedFeed | None:
        row = self.db.execute(
            "SELECT body, etag, last_modified FROM http_cache WHERE url = ?", (url,)
        ).fetchone()
        return CachedFeed(bytes(row[0]), row[1], row[2]) if row else None

    def remember(self, url: str, feed: CachedFeed) -> None:
        self.db.execute(
            """INSERT OR REPLACE INTO http_cache (url, body, etag, last_modified, fetched_at)
               VALUES (?, ?, ?, ?, ?)""",
            (url, feed.body, feed.etag, feed.last_modified, _now()),
        )


class PaperArchive:
    """Every paper ever fetched, so a fetch can tell what is new and a backtest can look back."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def remember(self, papers: Iterable[Paper]) -> frozenset[str]:
        """Store the papers; return the ids that were not known before."""
        rows = [(p.id, json.dumps(paper_to_dict(p), ensure_ascii=False)) for p in papers]
        now = _now()
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            known = self._known([row[0] for row in rows])
            self.db.executemany(
                """INSERT INTO papers (id, data, first_seen, last_seen) VALUES (?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET data = excluded.data, last_seen = excluded.last_seen""",
                [(paper_id, data, now, now) for paper_id, data in rows],
            )
        return frozenset(row[0] for row in rows) - known

    def seen_since(self, since: dt.datetime) -> list[Paper]:
        rows = self.db.execute(
            "SELECT data FROM papers WHERE last_seen >= ? ORDER BY first_seen",
            (since.isoformat(timespec="seconds"),),
        )
        return [paper_from_dict(json.loads(row[0])) for row in rows]

    def remember_edition(self, address: str, edition: str, paper_ids: list[str]) -> None:
        """Every paper an edition matched for an address, for its web view (the email may show fewer)."""
        self.db.execute(
            "INSERT OR REPLACE INTO edition_papers (address, edition, paper_ids) VALUES (?, ?, ?)",
            (address, edition, json.dumps(paper_ids)),
        )

    def edition_papers(self, address: str, edition: str) -> list[Paper]:
        row = self.db.execute(
            "SELECT paper_ids FROM edition_papers WHERE address = ? AND edition = ?", (address, edition)
        ).fetchone()
        ids = json.loads(row[0]) if row else []
        found = {p.id: p for p in self._by_ids(ids)}
        return [found[i] for i in ids if i in found]

    def _by_ids(self, ids: list[str]) -> list[Paper]:
        papers: list[Paper] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT data FROM papers WHERE id IN ({marks})", chunk)
            papers.extend(paper_from_dict(json.loads(row[0])) for row in rows)
        return papers

    def _known(self, ids: list[str]) -> frozenset[str]:
        known: set[str] = set()
        for start in range(0, len(ids), 500):  # SQLite caps the number of parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(r[0] for r in self.db.execute(f"SELECT id FROM papers WHERE id IN ({marks})", chunk))
        return frozenset(known)


class Subscriptions:
    """Pending sign-ups, the confirmations sent (for rate limits), and who left."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def add_pending(self, nonce: str, address: str, keywords: list[str], name: str | None) -> None:
        self.db.execute(
            """INSERT INTO pending_subscriptions (nonce, address, keywords, name, created_at)
               VALUES (?, ?, ?, ?, ?)""",
            (nonce, address, json.dumps(keywords), name, _now()),
        )

    def take_pending(self, nonce: str) -> tuple[str, list[str], str | None] | None:
        """The sign-up a confirmation link stands for, consumed so the link works once."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            row = self.db.execute(
                "SELECT address, keywords, name FROM pending_subscriptions WHERE nonce = ?", (nonce,)
            ).fetchone()
            self.db.execute("DELETE FROM pending_subscriptions WHERE nonce = ?", (nonce,))
        return (row[0], json.loads(row[1]), row[2]) if row else None

    def record_confirmation(self, address: str) -> None:
        self.db.execute("INSERT INTO confirmations_sent (address, sent_at) VALUES (?, ?)", (address, _now()))

    def confirmations_since(self, since: dt.datetime, address: str | None = None) -> int:
        query = "SELECT COUNT(*) FROM confirmations_sent WHERE sent_at >= ?"
        arguments: tuple[str, ...] = (since.isoformat(timespec="seconds"),)
        if address is not None:
            query += " AND address = ?"
            arguments += (address,)
        return int(self.db.execute(query, arguments).fetchone()[0])

    def unsubscribe(self, address: str, via: str) -> bool:
        """Record that `address` left; False when it had already left (unsubscribing is idempotent)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO unsubscribes (address, via, at) VALUES (?, ?, ?)", (address, via, _now())
        )
        return cursor.rowcount > 0

    def resubscribe(self, address: str) -> None:
        """Only a new confirmed subscription brings an address back."""
        self.db.execute("DELETE FROM unsubscribes WHERE address = ?", (address,))

    def unsubscribed(self) -> frozenset[str]:
        return frozenset(row[0] for row in self.db.execute("SELECT address FROM unsubscribes"))


class ScheduleLog:
    """Which scheduled editions ran, so a restart neither skips nor repeats one."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def record(self, slot: str, edition: dt.date, done: bool, detail: str, at: dt.datetime) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO schedule_runs (slot, edition, state, at, detail) VALUES (?, ?, ?, ?, ?)",
            (
                slot,
                edition.isoformat(),
                "done" if done else "tried",
                at.isoformat(timespec="seconds"),
                detail,
            ),
        )

    def first_start(self, now: dt.datetime) -> dt.datetime:
        """When the scheduler first ran on this state dir; recorded as `now` the first time."""
        self.db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('scheduler.first_start', ?)",
            (now.isoformat(timespec="seconds"),),
        )
        row = self.db.execute("SELECT value FROM meta WHERE key = 'scheduler.first_start'").fetchone()
        return dt.datetime.fromisoformat(row[0])

    def last(self, slot: str, edition: dt.date) -> tuple[str, dt.datetime] | None:
        """The state of a slot's edition and when it was recorded, if it ran at all."""
        row = self.db.execute(
            "SELECT state, at FROM schedule_runs WHERE slot = ? AND edition = ?", (slot, edition.isoformat())
        ).fetchone()
        return (row[0], dt.datetime.fromisoformat(row[1])) if row else None


class SourceHistory:
    """What each source listed last time, to notice a listing that was not updated."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def repeats(self, location: str, paper_ids: Iterable[str], day: dt.date) -> dt.date | None:
        """The earlier day whose listing this one repeats exactly, if any; then remember today's."""
        digest = hashlib.sha256("\n".join(sorted(paper_ids)).encode()).hexdigest()
        row = self.db.execute(
            "SELECT ids_hash, day FROM source_fetches WHERE location = ?", (location,)
        ).fetchone()
        if row and row[1] == day.isoformat():
            return None  # fetched again the same day: the same listing is expected
        self.db.execute(
            "INSERT OR REPLACE INTO source_fetches (location, ids_hash, day) VALUES (?, ?, ?)",
            (location, digest, day.isoformat()),
        )
        return dt.date.fromisoformat(row[1]) if row and row[0] == digest else None
