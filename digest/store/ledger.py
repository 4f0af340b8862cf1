"""The delivery ledger and the schedule log."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable

from ..models import DeliveryState
from .claims import Claims, claimer_name
from .connection import now_text as _now
from .database import Database

STREAK_START = "suppression.streak_after:"  # meta key prefix: + address -> edition
# A delivery's row in a state: new, or the state of the row there is.
_UPSERT = """INSERT INTO deliveries (address, edition, state, message_id, error, created_at, updated_at)
   VALUES (?, ?, ?, ?, ?, ?, ?)
   ON CONFLICT (address, edition) DO UPDATE SET state = excluded.state,
     message_id = excluded.message_id, error = excluded.error,
     updated_at = excluded.updated_at"""


class Ledger(Claims):
    """One row per (address, edition) with its state, so nothing is ever sent twice.

    pending → sending → sent, or deferred (try again), failed (5xx), uncertain (the connection
    broke after the message went out: it may have arrived). 'sending' is written before the
    hand-over, so a row still 'sending' when the next run starts means a run died mid-way.
    Several senders share an edition by claiming its rows (claims.py); `claimer` names this one.
    """

    def __init__(self, db: Database, claimer: str | None = None) -> None:
        self.db = db
        self.claimer = claimer or claimer_name()

    def states(self, edition: dt.date) -> dict[str, DeliveryState]:
        rows = self.db.execute(
            "SELECT address, state FROM deliveries WHERE edition = ?", (edition.isoformat(),)
        )
        return dict(rows.fetchall())

    def sent_paper_ids(self, address: str) -> frozenset[str]:
        rows = self.db.execute("SELECT paper_id FROM sent_papers WHERE address = ?", (address,))
        return frozenset(row[0] for row in rows)

    def settle_interrupted(self, edition: dt.date) -> list[str]:
        """Rows a dead run left 'sending' become 'uncertain'; their addresses are returned."""
        with self.db.transaction():
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
        self,
        address: str,
        edition: dt.date,
        state: DeliveryState,
        message_id: str = "",
        error: str | None = None,
    ) -> None:
        self.db.execute(_UPSERT, (address, edition.isoformat(), state, message_id, error, _now(), _now()))

    def mark_sent(self, address: str, edition: dt.date, message_id: str, paper_ids: Iterable[str]) -> None:
        papers = list(paper_ids)
        with self.db.transaction():  # the delivery and its papers are recorded together
            self.mark(address, edition, "sent", message_id)
            self.db.execute(
                "UPDATE deliveries SET papers = ? WHERE address = ? AND edition = ?",
                (json.dumps(papers), address, edition.isoformat()),
            )
            self.db.executemany(
                """INSERT INTO sent_papers (address, paper_id, edition) VALUES (?, ?, ?)
                   ON CONFLICT (address, paper_id) DO NOTHING""",
                [(address, paper_id, edition.isoformat()) for paper_id in papers],
            )

    def mark_group(
        self, edition: dt.date, state: DeliveryState, messages: list[tuple[str, str]],
        error: str | None = None,
    ) -> None:  # fmt: skip
        """(address, message id) of a group of messages put in one state, in one transaction."""
        if not messages:
            return
        day, now = edition.isoformat(), _now()
        with self.db.transaction():
            rows = [(address, day, state, mid, error, now, now) for address, mid in messages]
            self.db.executemany(_UPSERT, rows)

    def mark_sent_group(self, edition: dt.date, sent: list[tuple[str, str, tuple[str, ...]]]) -> None:
        """(address, message id, paper ids) of a group of messages handed over, in one transaction:
        what mark_sent records for one, with one commit for all."""
        if not sent:
            return
        day, now = edition.isoformat(), _now()
        with self.db.transaction():
            self.db.executemany(
                """INSERT INTO deliveries
                   (address, edition, state, message_id, papers, created_at, updated_at)
                   VALUES (?, ?, 'sent', ?, ?, ?, ?)
                   ON CONFLICT (address, edition) DO UPDATE SET state = excluded.state,
                     message_id = excluded.message_id, papers = excluded.papers, error = NULL,
                     updated_at = excluded.updated_at""",
                [(address, day, mid, json.dumps(list(papers)), now, now) for address, mid, papers in sent],
            )
            self.db.executemany(
                """INSERT INTO sent_papers (address, paper_id, edition) VALUES (?, ?, ?)
                   ON CONFLICT (address, paper_id) DO NOTHING""",
                [(address, paper_id, day) for address, _, papers in sent for paper_id in papers],
            )

    def consecutive_failures(self, address: str) -> int:
        """How many of the address's latest editions in a row ended in a permanent failure,
        counted from the last time its suppression was cleared."""
        rows = self.db.execute(
            """SELECT state FROM deliveries WHERE address = ? AND state IN ('sent', 'failed')
               AND edition > ? ORDER BY edition DESC""",
            (address, self._streak_start(address)),
        )
        return len(list(itertools.takewhile(lambda row: row[0] == "failed", rows)))

    def is_suppressed(self, address: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM suppressions WHERE address = ?", (address,)).fetchone() is not None
        )

    def suppress(self, address: str, reason: str) -> None:
        self.db.execute(
            """INSERT INTO suppressions (address, reason, since) VALUES (?, ?, ?)
               ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, since = excluded.since""",
            (address, reason, _now()),
        )

    def unsuppress(self, address: str) -> bool:
        """Clear a suppression and its failure streak; False when there was none.

        The failed deliveries stay (they are the history); a marker says the streak starts
        after the newest of them, so the next single refusal does not suppress again."""
        with self.db.transaction():
            if self.db.execute("DELETE FROM suppressions WHERE address = ?", (address,)).rowcount == 0:
                return False
            self.db.execute(
                """INSERT INTO meta (key, value)
                   SELECT ?, max(edition) FROM deliveries WHERE address = ? AND state = 'failed'
                   HAVING max(edition) IS NOT NULL
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
                (STREAK_START + address, address),
            )
        return True

    def _streak_start(self, address: str) -> str:
        """The edition after which failures count; '' (before every edition) when never cleared."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (STREAK_START + address,)).fetchone()
        return row[0] if row else ""

    def suppressions(self) -> list[tuple[str, str, str]]:
        return self.db.execute("SELECT address, reason, since FROM suppressions ORDER BY since").fetchall()


class ScheduleLog:
    """Which scheduled editions ran, so a restart neither skips nor repeats one."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, slot: str, edition: dt.date, done: bool, detail: str, at: dt.datetime) -> None:
        self.db.execute(
            """INSERT INTO schedule_runs (slot, edition, state, at, detail) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (slot, edition) DO UPDATE SET state = excluded.state, at = excluded.at,
                 detail = excluded.detail""",
            (
                slot,
                edition.isoformat(),
                "done" if done else "tried",
                at.isoformat(timespec="seconds"),
                detail,
            ),
        )

    def forget(self, slot: str, edition: dt.date) -> None:
        """As if the slot's edition had never been tried: it is due at the next tick."""
        self.db.execute(
            "DELETE FROM schedule_runs WHERE slot = ? AND edition = ?", (slot, edition.isoformat())
        )

    def first_start(self, now: dt.datetime) -> dt.datetime:
        """When the scheduler first ran on this state dir; recorded as `now` the first time."""
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('scheduler.first_start', ?) ON CONFLICT (key) DO NOTHING",
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
