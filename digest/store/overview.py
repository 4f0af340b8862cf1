"""Reads for the operator's console: counts per edition, who was mailed last, who left, who waits.

Queries only; what they answer is put together in pipeline.console, the one source of the numbers
that `digest status`, `digest subscribers` and /admin show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..models import BouncePolicy
from ..models.console import EditionCounts
from .bounces import Bounces
from .database import Database

CHUNK = 500  # SQLite caps the parameters of one query
_COUNTED = {"sent", "failed", "deferred", "uncertain"}


class BounceFigures:
    """Bounces reported after a message was handed over, per edition and per address: what the
    console and `digest status` read of the bounce scores (bounces.py) and the ledger."""

    def __init__(self, db: Database, decay_days: int = BouncePolicy.decay_days) -> None:
        self.db = db
        self.decay_days = decay_days

    def bounced(self, editions: Sequence[str]) -> dict[str, int]:
        found = dict.fromkeys(editions, 0)
        for start in range(0, len(editions), CHUNK):
            chunk = list(editions[start : start + CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"""SELECT edition, COUNT(*) FROM deliveries
                    WHERE bounce IS NOT NULL AND edition IN ({marks}) GROUP BY edition""",
                chunk,
            )
            found.update((edition, int(count)) for edition, count in rows)
        return found

    def scores(self, addresses: Sequence[str]) -> dict[str, float | None]:
        """Each address's bounce score now (None: it never bounced)."""
        now = dt.datetime.now(dt.UTC)
        known = {b.address: b.score for b in Bounces(self.db).scores(now, self.decay_days)}
        return {address: known.get(address) for address in addresses}


def edition_counts(db: Database, limit: int, before: str | None = None) -> list[EditionCounts]:
    """The newest `limit` editions (older than `before`, if given), newest first, with their counts."""
    editions = [
        row[0]
        for row in db.execute(
            """SELECT DISTINCT edition FROM edition_tally WHERE edition < ? AND count > 0
               ORDER BY edition DESC LIMIT ?""",
            (before or "9999", limit),
        )
    ]
    counts: dict[str, dict[str, int]] = {edition: {} for edition in editions}
    if editions:
        marks = ",".join("?" * len(editions))
        rows = db.execute(
            f"SELECT edition, state, count FROM edition_tally WHERE edition IN ({marks})", editions
        )
        for edition, state, count in rows:
            key = state if state in _COUNTED else "pending"
            counts[edition][key] = counts[edition].get(key, 0) + count
    bounced = BounceFigures(db).bounced(editions)
    return [EditionCounts(edition, bounced=bounced[edition], **counts[edition]) for edition in editions]


def last_sent(db: Database, addresses: Sequence[str] | None = None) -> dict[str, str]:
    """The newest edition sent to each address (of `addresses`, or every one)."""
    query = "SELECT address, max(edition) FROM deliveries WHERE state = 'sent'"
    if addresses is None:
        return dict(db.execute(query + " GROUP BY address").fetchall())
    found: dict[str, str] = {}
    for start in range(0, len(addresses), CHUNK):
        chunk = list(addresses[start : start + CHUNK])
        marks = ",".join("?" * len(chunk))
        found.update(db.execute(f"{query} AND address IN ({marks}) GROUP BY address", chunk).fetchall())
    return found


def pending_addresses(db: Database) -> dict[str, str]:
    """Addresses with a sign-up waiting for its confirmation, with when they last asked."""
    rows = db.execute("SELECT address, max(created_at) FROM pending_subscriptions GROUP BY address")
    return dict(rows.fetchall())


def latest_pending(db: Database, address: str) -> tuple[str, str | None] | None:
    """The keywords (JSON text) and name of an address's newest waiting sign-up."""
    row = db.execute(
        """SELECT keywords, name FROM pending_subscriptions WHERE address = ?
           ORDER BY created_at DESC LIMIT 1""",
        (address,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def unsubscribes(db: Database) -> dict[str, tuple[str, str]]:
    """Every address that left, with how and when."""
    return {
        address: (via, at) for address, via, at in db.execute("SELECT address, via, at FROM unsubscribes")
    }


def uncertain_deliveries(db: Database, edition: str) -> list[tuple[str, str, str]]:
    """(address, why, when) of an edition's deliveries that may or may not have arrived."""
    rows = db.execute(
        """SELECT address, coalesce(error, ''), updated_at FROM deliveries
           WHERE edition = ? AND state = 'uncertain' ORDER BY address""",
        (edition,),
    )
    return rows.fetchall()


def deliveries_of(db: Database, address: str, limit: int = 30) -> list[tuple[str, str, str]]:
    """(edition, state, error) of an address's newest deliveries."""
    rows = db.execute(
        """SELECT edition, state, coalesce(error, '') FROM deliveries WHERE address = ?
           ORDER BY edition DESC LIMIT ?""",
        (address, limit),
    )
    return rows.fetchall()
