"""Who asked to join (pending sign-ups, confirmations sent) and who left."""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from .connection import now_text as _now
from .database import Database


class Subscribers:
    """Pending sign-ups, the confirmations sent (for rate limits), and who left."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_pending(self, nonce: str, address: str, keywords: list[str], name: str | None) -> None:
        self.db.execute(
            """INSERT INTO pending_subscriptions (nonce, address, keywords, name, created_at)
               VALUES (?, ?, ?, ?, ?)""",
            (nonce, address, json.dumps(keywords), name, _now()),
        )

    def reserve(
        self, nonce: str, address: str, keywords: list[str], name: str | None, at: dt.datetime,
        resend_after: dt.timedelta, site_limit: int,
    ) -> Literal["reserved", "recent", "full"]:  # fmt: skip
        """Record a sign-up and its confirmation as one step, if the limits allow: "reserved",
        "recent" when `address` had one within `resend_after`, "full" when the site's hour is.

        Checked and recorded in one IMMEDIATE transaction, before anything is mailed, so that
        parallel requests cannot all see room for one more."""
        with self.db.transaction():
            if self.confirmations_since(at - resend_after, address):
                return "recent"
            if self.confirmations_since(at - dt.timedelta(hours=1)) >= site_limit:
                return "full"
            self.add_pending(nonce, address, keywords, name)
            self.db.execute(
                "INSERT INTO confirmations_sent (address, sent_at, nonce) VALUES (?, ?, ?)",
                (address, at.isoformat(timespec="seconds"), nonce),  # as confirmations_since compares it
            )
        return "reserved"

    def release(self, nonce: str) -> None:
        """Undo a reservation whose email could not be sent, so the person can ask again."""
        with self.db.transaction():
            self.db.execute("DELETE FROM confirmations_sent WHERE nonce = ?", (nonce,))
            self.db.execute("DELETE FROM pending_subscriptions WHERE nonce = ?", (nonce,))

    def pending(self, nonce: str) -> tuple[str, list[str], str | None] | None:
        """The sign-up a confirmation link stands for, if it is still waiting."""
        row = self.db.execute(
            "SELECT address, keywords, name FROM pending_subscriptions WHERE nonce = ?", (nonce,)
        ).fetchone()
        return (row[0], json.loads(row[1]), row[2]) if row else None

    def complete(self, nonce: str, address: str) -> None:
        """A confirmed sign-up whose profile is written: its link is used up, and any earlier
        unsubscribe of `address` is lifted (a new confirmed subscription is the only way back)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM pending_subscriptions WHERE nonce = ?", (nonce,))
            self.db.execute("DELETE FROM unsubscribes WHERE address = ?", (address,))

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
            "INSERT INTO unsubscribes (address, via, at) VALUES (?, ?, ?) ON CONFLICT (address) DO NOTHING",
            (address, via, _now()),
        )
        return cursor.rowcount > 0

    def has_left(self, address: str) -> bool:
        """Whether `address` unsubscribed and has not confirmed a new subscription since."""
        row = self.db.execute("SELECT 1 FROM unsubscribes WHERE address = ?", (address,)).fetchone()
        return row is not None

    def links_valid_from(self, address: str) -> int:
        """When `address` last asked for new links (Unix seconds): older links no longer work."""
        row = self.db.execute("SELECT since FROM link_rotations WHERE address = ?", (address,)).fetchone()
        return int(row[0]) if row else 0

    def rotate_links(self, address: str, at: dt.datetime) -> None:
        # Issue times are whole seconds: links of the very second of the rotation are retired too.
        since = int(at.timestamp()) + 1
        query = """INSERT INTO link_rotations (address, since) VALUES (?, ?)
                   ON CONFLICT (address) DO UPDATE SET since = excluded.since"""
        self.db.execute(query, (address, since))

    def unsubscribed(self) -> frozenset[str]:
        return frozenset(row[0] for row in self.db.execute("SELECT address FROM unsubscribes"))
