"""Who asked to join (pending sign-ups, confirmations sent) and who left."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from . import now_text as _now


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

    def record_confirmation(self, address: str, at: dt.datetime) -> None:
        sent_at = at.isoformat(timespec="seconds")  # as confirmations_since compares it
        self.db.execute("INSERT INTO confirmations_sent (address, sent_at) VALUES (?, ?)", (address, sent_at))

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
