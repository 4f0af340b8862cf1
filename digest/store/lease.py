"""The scheduler's lease: one row in the state database says which `digest serve` schedules.

A file lock binds the scheduler to one machine; a row in the database every process shares
works across machines. The leader takes the lease when it is free or expired and renews it
well before it expires; a standby keeps trying and takes an expired lease over. A leader that
dies stops renewing, so its lease runs out and a standby takes over within one lease length.

Times are ISO text written and compared in Python (UTC, fixed width, so they sort as text):
the SQL is the part SQLite and PostgreSQL share, and the store's other backend runs it as is.
The machines' clocks must agree to well within a lease length (NTP does far better).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets

from ..models.console import SchedulerLease as Lease
from .database import Database

SCHEDULER = "scheduler"  # the one lease there is today; the name column leaves room for others

# Taken when free, expired, or already ours (a renewal); otherwise the row stays as it is.
_TAKE = """INSERT INTO scheduler_lease (name, holder, expires_at) VALUES (?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE scheduler_lease.holder = excluded.holder OR scheduler_lease.expires_at <= ?"""


def holder_name() -> str:
    """This process, as other processes and `digest status` name it; unique across restarts
    (a container's process is often number 1 every time)."""
    return f"process {os.getpid()} on {os.uname().nodename} ({secrets.token_hex(3)})"


def take_lease(
    db: Database, holder: str, now: dt.datetime, seconds: float, name: str = SCHEDULER
) -> Lease | None:
    """Take or renew the lease for `seconds` from `now`. None when we hold it now; otherwise
    the lease of whoever does."""
    expires = _stamp(now + dt.timedelta(seconds=seconds))
    db.execute(_TAKE, (name, holder, expires, _stamp(now)))  # one statement: atomic on its own
    current = current_lease(db, name)  # ours, unless someone else's unexpired lease stood
    if current is not None and current.holder == holder:
        return None
    return current


def release_lease(db: Database, holder: str, name: str = SCHEDULER) -> None:
    """Give the lease up at once (a clean stop), so a standby need not wait for it to expire."""
    db.execute("DELETE FROM scheduler_lease WHERE name = ? AND holder = ?", (name, holder))


def current_lease(db: Database, name: str = SCHEDULER) -> Lease | None:
    """The lease as last written, expired or not; None when nobody ever held it or it was released."""
    row = db.execute("SELECT holder, expires_at FROM scheduler_lease WHERE name = ?", (name,)).fetchone()
    return Lease(row[0], dt.datetime.fromisoformat(row[1])) if row else None


def _stamp(moment: dt.datetime) -> str:
    """UTC at a fixed width, so that text order is time order."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
