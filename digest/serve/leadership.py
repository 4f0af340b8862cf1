"""Which `digest serve` sends the scheduled editions: the holder of the lease in the state database.

Every `digest serve` with a scheduler asks for the lease every third of its length: the leader
renews it, a standby takes it once it is free or expired. A leader that cannot renew (another
process took the lease, or the database did not answer) stops sending at once, and in any case
before its lease runs out, so two processes never send at the same time: the new leader can only
have taken the lease after the old one's expired. A clean stop releases the lease, so a standby
takes over at its next try rather than after the lease expires.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from ..errors import DigestError
from ..models import Settings
from ..models.console import SchedulerLease
from ..store import DATABASE_ERRORS, State
from ..store.lease import holder_name, release_lease, take_lease

log = logging.getLogger("digest.schedule")

Clock = Callable[[], dt.datetime]
RENEW_SECONDS = 15
LEASE_FAILURES: tuple[type[Exception], ...] = (DigestError, *DATABASE_ERRORS)  # the database did not answer


class Leadership:
    """This process's claim to the scheduler's lease, as far as it knows it."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.seconds = settings.lease_seconds
        self.holder = holder_name()
        # The wall clock, whatever clock the schedule runs on: leases are compared across machines.
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.held_until: dt.datetime | None = None  # our lease's end, as last taken or renewed
        self.other: SchedulerLease | None = None  # the leader, while this process stands by

    @property
    def renew_seconds(self) -> float:
        """How often the lease is renewed, or asked for: a third of it, so two tries may fail; and
        at least every RENEW_SECONDS, so a standby takes a released lease over soon, however long."""
        return min(self.seconds / 3, RENEW_SECONDS)

    def leads(self) -> bool:
        """Whether this process may send now: it holds a lease that has not run out."""
        return self.held_until is not None and self.clock() < self.held_until

    def try_to_lead(self) -> bool:
        """Take or renew the lease; whether this process leads now."""
        asked = self.clock()
        try:
            with State(self.settings.state_dir, self.settings.secret) as state:
                other = take_lease(state.db, self.holder, asked, self.seconds)
        except LEASE_FAILURES as error:
            log.error("cannot renew the scheduler's lease: %s", error)
            self.held_until = None  # it may still run for a while, but nothing is sent on it
            return False
        self.other = other
        # From when we asked, not when it was written: the lease cannot last longer than we think.
        self.held_until = None if other else asked + dt.timedelta(seconds=self.seconds)
        return other is None

    def release(self) -> None:
        """Give the lease up (a clean stop), if this process holds it."""
        if self.held_until is None:
            return
        self.held_until = None
        try:
            with State(self.settings.state_dir, self.settings.secret) as state:
                release_lease(state.db, self.holder)
        except LEASE_FAILURES as error:  # it then expires instead
            log.error("cannot release the scheduler's lease: %s", error)

    def leader(self) -> str | None:
        """Who sends the editions: this process, another, or None when nobody holds a live lease."""
        if self.leads():
            return self.holder
        other = self.other
        return other.holder if other is not None and other.valid(self.clock()) else None
