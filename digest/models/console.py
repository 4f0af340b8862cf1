"""What the operator's console and `digest status` / `digest subscribers` show: read from the
state database and the profiles, the same types for the terminal and the browser."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

SubscriberState = Literal["active", "pending", "unsubscribed", "suppressed"]
SUBSCRIBER_STATES: tuple[SubscriberState, ...] = ("active", "pending", "unsubscribed", "suppressed")


@dataclass(frozen=True)
class EditionCounts:
    """How the deliveries of one edition stand in the ledger."""

    edition: str
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    uncertain: int = 0
    pending: int = 0  # 'pending' or 'sending': a run is under way, or died mid-way
    bounced: int = 0  # reported after the hand-over (store.overview.BounceFigures)

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.deferred + self.uncertain + self.pending


@dataclass(frozen=True)
class SourceCheck:
    """One fetch of one source."""

    source: str
    location: str
    at: str
    day: str  # the edition it was fetched for
    papers: int
    new: int
    error: str | None


@dataclass(frozen=True)
class SourceHealth:
    """A source's last fetch and its failures over a period."""

    name: str
    location: str
    last_fetch: str | None
    last_error: str | None  # of the last fetch; None when it worked
    fetches: int
    failures: int


@dataclass(frozen=True)
class Subscriber:
    """One address, as `digest subscribers` lists it."""

    address: str
    profile: str | None  # the profile file's name; None when no profile lists the address
    state: SubscriberState
    frequency: str | None
    last_sent: str | None  # the newest edition sent to it
    bounce_score: float | None  # None until bounces are scored
    likes: int


@dataclass(frozen=True)
class NextSend:
    """What the scheduler of `digest serve` sends next."""

    edition: dt.date
    at: dt.datetime  # UTC
    slot: str
    profiles: int


@dataclass(frozen=True)
class SchedulerLease:
    """Which `digest serve` schedules the site, until when (the lease row of the state database)."""

    holder: str
    expires_at: dt.datetime  # UTC

    def valid(self, now: dt.datetime) -> bool:
        return now < self.expires_at


@dataclass(frozen=True)
class SiteStatus:
    """The site at a glance."""

    subscribers: dict[SubscriberState, int]
    editions: list[EditionCounts]
    sources: list[SourceHealth]
    next_send: NextSend | None
    scheduler: SchedulerLease | None = None  # None: no `digest serve` has scheduled, or it stopped cleanly


@dataclass(frozen=True)
class TableCopy:
    """One table of a state copied to another database (`digest migrate-state`): its rows in each."""

    table: str
    source: int
    target: int
