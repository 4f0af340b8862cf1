"""Several senders on one edition: each claims the ledger's pending rows in batches.

Every sender of an edition computes the same recipients, in the same order, and queues them as
`pending` rows (with their `place` in that order); each then claims a batch (the row names it as
`claimer` until `lease_until`), composes those messages, and turns each row to `sending` before
its message leaves, but only if the claim is still its own: one statement compares and sets, so
no address is handed over by two senders, whatever their timing. On PostgreSQL a claim skips
rows another claim has locked (FOR UPDATE SKIP LOCKED), so senders on several machines never
wait on each other; SQLite has one writer at a time anyway.

A `sending` row lives for one hand-over, bounded by the transport's timeout, far shorter than the
lease; so a `sending` row whose lease ran out was left by a dead sender, and becomes `uncertain`
(never resent unawares). A claimed `pending` row whose lease ran out is simply claimed again:
its message never left. Times are UTC text of fixed width, compared as text (as lease.py does).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Sequence

from .database import Database

LEASE_ERROR = "a sender stopped while handing this message over (its claim expired)"
STOPPED_ERROR = "a run stopped while handing this message over"


def claimer_name() -> str:
    """This sender, as the ledger names it: unique across machines and restarts."""
    return f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(4)}"


def stamp(moment: dt.datetime) -> str:
    """UTC at a fixed width, so that text order is time order."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


class Claims:
    """One sender's claims on the ledger (mixed into Ledger, which holds `db`)."""

    db: Database
    claimer: str

    def queue(
        self, edition: dt.date, todo: Sequence[tuple[int, str]], now: dt.datetime, again: Sequence[str]
    ) -> None:
        """A `pending` row for each (place, address) that has none, claimed in place order; a row
        in one of the states `again` (deferred; uncertain when resent on purpose) goes back to
        pending, unless a live claim holds it (a deferred row another sender retries; an uncertain
        row is an outcome, held by nobody)."""
        day, at = edition.isoformat(), stamp(now)
        states = ", ".join(f"'{state}'" for state in again) or "NULL"
        # One commit for the edition: outside a transaction each row was its own, which took a
        # 10,000-recipient edition a second on SQLite before its first message was composed.
        with self.db.transaction():
            self.db.executemany(
                f"""INSERT INTO deliveries
                     (address, edition, state, message_id, place, created_at, updated_at)
                   VALUES (?, ?, 'pending', '', ?, ?, ?)
                   ON CONFLICT (address, edition) DO UPDATE SET state = 'pending', claimer = NULL,
                     lease_until = NULL, place = excluded.place, updated_at = excluded.updated_at
                   WHERE deliveries.state IN ({states})
                     AND (deliveries.state = 'uncertain' OR deliveries.lease_until IS NULL
                          OR deliveries.lease_until <= ?)""",
                [(address, day, place, at, at, at) for place, address in todo],
            )

    def claim(self, edition: dt.date, count: int, now: dt.datetime, lease: float) -> list[str]:
        """Up to `count` of the edition's unclaimed pending addresses, first in place order, now
        ours until the lease ends."""
        # The batch is chosen once (a CTE, materialized): as a subquery PostgreSQL may run it again
        # for each row it updates, and the rows just claimed would no longer match, so it would
        # take more and more.
        materialized, skip_locked = (
            ("MATERIALIZED ", " FOR UPDATE SKIP LOCKED") if self.db.dialect == "postgresql" else ("", "")
        )
        day = edition.isoformat()
        rows = self.db.execute(
            f"""WITH batch AS {materialized}(
                 SELECT address FROM deliveries WHERE edition = ? AND state = 'pending'
                   AND (lease_until IS NULL OR lease_until <= ?)
                 ORDER BY place, address LIMIT ?{skip_locked})
               UPDATE deliveries SET claimer = ?, lease_until = ?
               WHERE edition = ? AND address IN (SELECT address FROM batch)
               RETURNING address""",
            (day, stamp(now), count, self.claimer, _until(now, lease), day),
        ).fetchall()
        return [row[0] for row in rows]  # in no order: the caller puts them in place order

    def begin(
        self, edition: dt.date, messages: Sequence[tuple[str, str]], now: dt.datetime, lease: float
    ) -> set[str]:
        """(address, message id) of messages about to leave: `sending`, in one statement, those
        whose claim is still ours; their addresses are returned. The others are another sender's."""
        if not messages:
            return set()
        cases = " ".join("WHEN ? THEN ?" for _ in messages)
        marks = ", ".join("?" for _ in messages)
        lease_until, day = _until(now, lease), edition.isoformat()
        message_ids = [value for pair in messages for value in pair]
        rows = self.db.execute(
            f"""UPDATE deliveries SET state = 'sending', message_id = CASE address {cases} END,
                 lease_until = ?, updated_at = ?
               WHERE edition = ? AND claimer = ? AND state IN ('pending', 'deferred')
                 AND address IN ({marks})
               RETURNING address""",
            (*message_ids, lease_until, stamp(now), day, self.claimer, *(address for address, _ in messages)),
        ).fetchall()
        return {row[0] for row in rows}

    def drop(self, edition: dt.date, addresses: Sequence[str]) -> None:
        """Our claimed pending rows of addresses with no message (nothing matched, or it could not
        be composed): no row, as before the edition was queued; the next run tries again."""
        self.db.executemany(
            "DELETE FROM deliveries WHERE address = ? AND edition = ? AND claimer = ? AND state = 'pending'",
            [(address, edition.isoformat(), self.claimer) for address in addresses],
        )

    def release(self, edition: dt.date, every: bool = False) -> None:
        """Our claims on rows that did not leave (a stop, a relay down, deferred): free for others.
        `every` claim, when no other sender can be alive: those a dead one left, at once."""
        whose = "" if every else " AND claimer = ?"
        self.db.execute(
            f"""UPDATE deliveries SET claimer = NULL, lease_until = NULL
               WHERE edition = ? AND claimer IS NOT NULL AND state IN ('pending', 'deferred'){whose}""",
            (edition.isoformat(), *(() if every else (self.claimer,))),
        )

    def settle_expired(self, edition: dt.date, now: dt.datetime, every: bool = False) -> list[str]:
        """`sending` rows whose claim expired (every one, when no other sender can be alive)
        become `uncertain`; their addresses are returned, sorted."""
        expired = "" if every else " AND (lease_until IS NULL OR lease_until <= ?)"
        rows = self.db.execute(
            f"""UPDATE deliveries SET state = 'uncertain', error = ?, updated_at = ?
               WHERE edition = ? AND state = 'sending'{expired} RETURNING address""",
            (STOPPED_ERROR if every else LEASE_ERROR, stamp(now), edition.isoformat())
            + (() if every else (stamp(now),)),
        ).fetchall()
        return sorted(row[0] for row in rows)

    def left_unclaimed(self, edition: dt.date, now: dt.datetime) -> int:
        """The edition's pending rows that no live claim holds: what no sender is handing over
        now, left for another sender or the next run."""
        row = self.db.execute(
            """SELECT COUNT(*) FROM deliveries WHERE edition = ? AND state = 'pending'
               AND (lease_until IS NULL OR lease_until <= ?)""",
            (edition.isoformat(), stamp(now)),
        ).fetchone()
        return int(row[0])

    def held_by_others(self, edition: dt.date, now: dt.datetime) -> bool:
        """Whether another sender's live claim holds a row of the edition that has not left or
        has no outcome yet: what a sender with nothing left to claim waits for."""
        row = self.db.execute(
            """SELECT 1 FROM deliveries WHERE edition = ? AND state IN ('pending', 'sending')
               AND claimer IS NOT NULL AND claimer <> ? AND lease_until > ? LIMIT 1""",
            (edition.isoformat(), self.claimer, stamp(now)),
        ).fetchone()
        return row is not None


def _until(now: dt.datetime, lease: float) -> str:
    return stamp(now + dt.timedelta(seconds=lease))
