"""The numbers of `digest status`, `digest subscribers` and the /admin console, in one place.

Everything comes from the state database (ledger, sign-ups, unsubscribes, suppressions, source
fetches) and the profiles; the terminal and the browser only lay it out differently.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..config.profile_cache import CACHE_FILE
from ..config.profiles import load_profiles
from ..models import Profile, Settings
from ..models.console import (
    EditionCounts,
    NextSend,
    SiteStatus,
    SourceCheck,
    SourceHealth,
    Subscriber,
    SubscriberState,
)
from ..store import Database, Ledger
from ..store.departures import departures
from ..store.overview import BounceFigures, edition_counts, last_sent, pending_addresses, unsubscribes
from ..store.source_log import SourceLog

HEALTH_DAYS = 30  # "failures over the last 30 days"
STATUS_EDITIONS = 10


def read_profiles(settings: Settings) -> list[Profile]:
    """The valid profiles (a broken one is `digest check`'s to report, and lists no one here)."""
    profiles, _ = load_profiles(settings.profiles_dir, settings.state_dir / CACHE_FILE)
    return profiles


@dataclass(frozen=True)
class Roster:
    """Who is listed, who left, who is suppressed, who waits: every address's state comes from here.

    An unsubscribe wins over everything (a run never mails it), then a suppression; an address
    in a profile is active; one only waiting for its confirmation is pending."""

    listed: dict[str, Profile]
    left: set[str]
    suppressed: set[str]
    waiting: set[str]
    decay_days: int  # bounce scores start over after this many days without a bounce

    def state_of(self, address: str) -> SubscriberState:
        if address in self.left:
            return "unsubscribed"
        if address in self.suppressed:
            return "suppressed"
        return "active" if address in self.listed else "pending"

    def addresses(self) -> list[str]:
        return sorted(self.listed.keys() | self.left | self.suppressed | self.waiting)

    def matches(self, address: str, state: str | None, needle: str) -> bool:
        """In `state` (any, if None), and containing `needle` in the address or profile file name."""
        if state is not None and self.state_of(address) != state:
            return False
        profile = self.listed.get(address)
        return (
            not needle or needle in address or (profile is not None and needle in profile.path.name.lower())
        )

    def counts(self) -> dict[SubscriberState, int]:
        """How many addresses are in each state (by set sizes: a site may have 100,000)."""
        gone, listed = self.left | self.suppressed, self.listed.keys()
        return {
            "active": len(listed - gone), "pending": len(self.waiting - listed - gone),
            "unsubscribed": len(self.left), "suppressed": len(self.suppressed - self.left),
        }  # fmt: skip


def roster(settings: Settings, db: Database, profiles: Sequence[Profile] | None = None) -> Roster:
    listed = _listed(read_profiles(settings) if profiles is None else profiles)
    suppressed = {address for address, _, _ in Ledger(db).suppressions()}
    waiting, decay = set(pending_addresses(db)), settings.bounces.decay_days
    return Roster(listed, _left(settings, db), suppressed, waiting, decay)


def subscribers(
    settings: Settings, db: Database, profiles: Sequence[Profile] | None = None,
    state: str | None = None, search: str | None = None, with_last_sent: bool = True,
) -> list[Subscriber]:  # fmt: skip
    """Every address a profile lists, or that signed up, left or is suppressed, sorted; with
    `state` or `search`, those in that state whose address or profile file contains `search`."""
    return listing(roster(settings, db, profiles), db, state, search, with_last_sent)


def listing(
    found: Roster, db: Database, state: str | None = None, search: str | None = None,
    with_last_sent: bool = True,
) -> list[Subscriber]:  # fmt: skip
    """The rows of `subscribers`, from a roster already read (filtered before rows are made)."""
    needle = (search or "").strip().lower()
    addresses = [a for a in found.addresses() if found.matches(a, state, needle)]
    scores = BounceFigures(db, found.decay_days).scores(addresses)
    rows = []
    for address in addresses:
        profile = found.listed.get(address)
        rows.append(
            Subscriber(
                address, profile.path.name if profile else None, found.state_of(address),
                (profile.frequency or "daily") if profile else None, None, scores[address],
                len(profile.like) if profile else 0,
            )
        )  # fmt: skip
    return last_sent_of(db, rows) if with_last_sent else rows


def last_sent_of(db: Database, rows: Sequence[Subscriber]) -> list[Subscriber]:
    """The rows with the newest edition sent to each (for a page of them, or all)."""
    sent = last_sent(db, [row.address for row in rows] if len(rows) < 1000 else None)
    return [replace(row, last_sent=sent.get(row.address)) for row in rows]


def _listed(profiles: Iterable[Profile]) -> dict[str, Profile]:
    listed: dict[str, Profile] = {}
    for profile in profiles:
        for address in profile.emails:
            listed.setdefault(address, profile)  # the first profile listing it is the one a run uses
    return listed


def _left(settings: Settings, db: Database) -> set[str]:
    """Who left: in the database, or in the file kept beside it (as a run reads them)."""
    return set(unsubscribes(db)) | set(departures(settings.state_dir))


def site_status(
    settings: Settings, db: Database, today: dt.date, next_send: NextSend | None,
    profiles: Sequence[Profile] | None = None, editions: int = STATUS_EDITIONS,
) -> SiteStatus:  # fmt: skip
    """The site at a glance: subscribers by state, the last editions, each source's health."""
    people = roster(settings, db, profiles).counts()
    return SiteStatus(people, edition_counts(db, editions), source_health(db, today), next_send)


def source_health(db: Database, today: dt.date) -> list[SourceHealth]:
    """Each source's last fetch, and its fetches and failures over the last HEALTH_DAYS days."""
    return SourceLog(db).health(today - dt.timedelta(days=HEALTH_DAYS))


def edition_history(db: Database, editions: int, before: str | None = None) -> list[EditionCounts]:
    return edition_counts(db, editions, before)


def source_checks(db: Database, today: dt.date, days: int = HEALTH_DAYS) -> list[SourceCheck]:
    return SourceLog(db).checks(today - dt.timedelta(days=days))


def papers_per_source_per_day(checks: Iterable[SourceCheck]) -> dict[str, dict[str, int]]:
    """Source → day → papers of its last fetch that day (a failed fetch counts none)."""
    found: dict[str, dict[str, int]] = {}
    for check in checks:  # oldest first: the last fetch of a day wins
        found.setdefault(check.source, {})[check.day] = 0 if check.error else check.papers
    return found


def left_by(settings: Settings, db: Database, days: Sequence[str]) -> list[int]:
    """How many addresses had left by the end of each of `days` (oldest first)."""
    kept = {**departures(settings.state_dir), **unsubscribes(db)}
    times = sorted(at[:10] for _, at in kept.values())
    return [bisect.bisect_right(times, day) for day in days]
