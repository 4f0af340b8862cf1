"""Bounce scores: each address's bounces add up, a hard one more than a soft one, and the score
starts over once `decay_days` pass without a bounce (as Mailman's bounce processing does), so an
address that bounced once during a mailbox move is forgiven and one that keeps bouncing is not."""

from __future__ import annotations

import datetime as dt

from ..models import BounceScore
from .database import Database


class Bounces:
    """The bounce score of each address, and the ledger rows bounces and complaints point at."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self, address: str, weight: float, reason: str, at: dt.datetime, decay_days: int,
        edition: dt.date | None = None,
    ) -> float:  # fmt: skip
        """Add a bounce of `weight` to `address`'s score; the new score. With `edition`, the
        ledger row of that edition records the bounce too."""
        with self.db.transaction():
            previous = self._current(address, at, decay_days)
            score, count = (previous.score, previous.bounces) if previous else (0.0, 0)
            score, count = score + weight, count + 1
            self.db.execute(
                """INSERT INTO bounces (address, score, count, last_bounce, reason) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (address) DO UPDATE SET score = excluded.score, count = excluded.count,
                     last_bounce = excluded.last_bounce, reason = excluded.reason""",
                (address, score, count, at.isoformat(timespec="seconds"), reason[:500]),
            )
            if edition is not None:
                self.db.execute(
                    "UPDATE deliveries SET bounce = ? WHERE address = ? AND edition = ?",
                    (reason[:500], address, edition.isoformat()),
                )
        return score

    def _current(self, address: str, now: dt.datetime, decay_days: int) -> BounceScore | None:
        row = self.db.execute(
            """SELECT b.address, b.score, b.count, b.last_bounce, b.reason, s.address IS NOT NULL
               FROM bounces b LEFT JOIN suppressions s ON s.address = b.address WHERE b.address = ?""",
            (address,),
        ).fetchone()
        return _decayed(row, now, decay_days) if row else None

    def scores(self, now: dt.datetime, decay_days: int) -> list[BounceScore]:
        """Every address that bounced: its score (decayed to 0 when stale), last bounce and reason,
        highest score first. What `digest suppressions` lists and the admin console shows."""
        rows = self.db.execute(
            """SELECT b.address, b.score, b.count, b.last_bounce, b.reason, s.address IS NOT NULL
               FROM bounces b LEFT JOIN suppressions s ON s.address = b.address"""
        ).fetchall()
        found = [_decayed(row, now, decay_days) for row in rows]
        return sorted(found, key=lambda b: (-b.score, b.address))

    def clear(self, address: str) -> bool:
        """Start `address`'s score over; False when it had none."""
        return self.db.execute("DELETE FROM bounces WHERE address = ?", (address,)).rowcount > 0

    def recipients(self, edition: dt.date) -> list[str]:
        """Every address the ledger says was mailed (or tried) in `edition`."""
        rows = self.db.execute("SELECT address FROM deliveries WHERE edition = ?", (edition.isoformat(),))
        return [row[0] for row in rows]

    def delivery_of(self, message_id: str) -> tuple[str, dt.date] | None:
        """The (address, edition) our message `message_id` went to, if the ledger has it."""
        row = self.db.execute(
            "SELECT address, edition FROM deliveries WHERE message_id = ? LIMIT 1", (message_id,)
        ).fetchone()
        return (row[0], dt.date.fromisoformat(row[1])) if row else None

    def latest_edition(self, address: str) -> dt.date | None:
        """The newest edition the ledger has for `address`; None when it was never mailed."""
        row = self.db.execute("SELECT max(edition) FROM deliveries WHERE address = ?", (address,)).fetchone()
        return dt.date.fromisoformat(row[0]) if row and row[0] else None

    def complaints_and_sent(self, since: dt.datetime) -> tuple[int, int]:
        """Spam complaints received, and digests sent, since `since`: the complaint rate receivers watch."""
        at = since.isoformat(timespec="seconds")
        complaints = self.db.execute(
            "SELECT COUNT(*) FROM unsubscribes WHERE via = 'complaint' AND at >= ?", (at,)
        ).fetchone()[0]
        sent = self.db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE state = 'sent' AND updated_at >= ?", (at,)
        ).fetchone()[0]
        return int(complaints), int(sent)


def _decayed(row: tuple[str, float, int, str, str, int], now: dt.datetime, decay_days: int) -> BounceScore:
    address, score, count, last, reason, suppressed = row
    if now - dt.datetime.fromisoformat(last) > dt.timedelta(days=decay_days):
        score, count = 0.0, 0
    return BounceScore(address, float(score), int(count), last, reason, bool(suppressed))
