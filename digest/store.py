"""The state database: the only module that touches SQLite.

One file in the state dir holds the delivery ledger, the HTTP cache of listings (for
conditional GET) and an archive of every paper seen (for "new" counts and backtests).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .models import CachedFeed, Paper, paper_from_dict, paper_to_dict

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    address     TEXT NOT NULL,
    edition     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    message_id  TEXT NOT NULL,
    papers      TEXT NOT NULL DEFAULT '[]',
    error       TEXT,
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
CREATE TABLE IF NOT EXISTS papers (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
);
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def connect(path: Path) -> sqlite3.Connection:
    """The state database, created on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)  # explicit transactions where they matter
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # a 'sent' row must survive a power cut
    db.executescript(SCHEMA)
    return db


class Ledger:
    """Who was sent which edition and which papers, so nothing is ever sent twice."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def state(self, address: str, edition: dt.date) -> str | None:
        row = self.db.execute(
            "SELECT state FROM deliveries WHERE address = ? AND edition = ?", (address, edition.isoformat())
        ).fetchone()
        return row[0] if row else None

    def sent_paper_ids(self, address: str) -> frozenset[str]:
        rows = self.db.execute("SELECT paper_id FROM sent_papers WHERE address = ?", (address,))
        return frozenset(row[0] for row in rows)

    def mark_sending(self, address: str, edition: dt.date, message_id: str) -> None:
        """Recorded before the hand-over: a crash after this point is never silently resent."""
        self._upsert(address, edition, "sending", message_id, [], None)

    def mark_sent(self, address: str, edition: dt.date, message_id: str, paper_ids: Iterable[str]) -> None:
        papers = list(paper_ids)
        with self.db:  # one transaction: the delivery and its papers are recorded together
            self.db.execute("BEGIN IMMEDIATE")
            self._upsert(address, edition, "sent", message_id, papers, None)
            self.db.executemany(
                "INSERT OR IGNORE INTO sent_papers (address, paper_id, edition) VALUES (?, ?, ?)",
                [(address, paper_id, edition.isoformat()) for paper_id in papers],
            )

    def mark_failed(self, address: str, edition: dt.date, message_id: str, error: str) -> None:
        self._upsert(address, edition, "failed", message_id, [], error)

    def forget(self, address: str, edition: dt.date) -> None:
        """Drop a 'sending' mark for a message that provably never left."""
        self.db.execute(
            "DELETE FROM deliveries WHERE address = ? AND edition = ? AND state = 'sending'",
            (address, edition.isoformat()),
        )

    def _upsert(
        self,
        address: str,
        edition: dt.date,
        state: str,
        message_id: str,
        papers: list[str],
        error: str | None,
    ) -> None:
        self.db.execute(
            """INSERT INTO deliveries (address, edition, state, message_id, papers, error, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (address, edition) DO UPDATE SET state = excluded.state,
                 message_id = excluded.message_id, papers = excluded.papers,
                 error = excluded.error, updated_at = excluded.updated_at""",
            (address, edition.isoformat(), state, message_id, json.dumps(papers), error, _now()),
        )


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

    def _known(self, ids: list[str]) -> frozenset[str]:
        known: set[str] = set()
        for start in range(0, len(ids), 500):  # SQLite caps the number of parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(r[0] for r in self.db.execute(f"SELECT id FROM papers WHERE id IN ({marks})", chunk))
        return frozenset(known)
