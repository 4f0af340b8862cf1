"""The state database: the only module that touches SQLite."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

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
"""


class Ledger:
    """Who was sent which edition and which papers, so nothing is ever sent twice."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)  # explicit transactions below
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a 'sent' row must survive a power cut
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def state(self, address: str, edition: dt.date) -> str | None:
        row = self.db.execute(
            "SELECT state FROM deliveries WHERE address = ? AND edition = ?",
            (address, edition.isoformat()),
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
            (
                address,
                edition.isoformat(),
                state,
                message_id,
                json.dumps(papers),
                error,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            ),
        )
