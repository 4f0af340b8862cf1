"""The numbers of `digest status`, `digest subscribers` and the /admin console, in one place.

Everything comes from the state database (ledger, sign-ups, unsubscribes, suppressions, source
fetches) and the profiles; the terminal and the browser only lay it out differently.
"""

from __future__ import annotations

import bisect
import datetime as dt
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence

from ..config.profile_cache import CACHE_FILE
from ..config.profiles import load_profiles
from ..models import Profile, Settings
from ..models.console import (
    SUBSCRIBER_STATES,
    EditionCounts,
    NextSend,
    SiteStatus,
    SourceCheck,
    SourceHealth,
    Subscriber,
    SubscriberState,
)
from ..store import Ledger
from ..store.departures import departures
from ..store.overview import BounceFigures, edition_counts, last_sent, pending_addresses, unsubscribes
from ..store.source_log import SourceLog

HEALTH_DAYS = 30  # "failures over the last 30 days"
STATUS_EDITIONS = 10


def read_profiles(settings: Settings) -> list[Profile]:
    """The valid profiles (a broken one is `digest check`'s to report, and lists no one here)."""
    profiles, _ = load_profiles(settings.profiles_dir, settings.state_dir / CACHE_FILE)
    return profiles


def subscribers(
    settings: Settings, db: sqlite3.Connection, profiles: Sequence[Profile] | None = None,
    with_last_sent: bool = True,
) -> list[Subscriber]:  # fmt: skip
    """Every address a profile lists, or that signed up, left or is suppressed, sorted.

    An unsubscribe wins over everything (a run never mails it), then a suppression; an address
    in a profile is active; one only waiting for its confirmation is pending."""
    listed = _listed(read_profiles(settings) if profiles is None else profiles)
    left = _left(settings, db)
    suppressed = {address for address, _, _ in Ledger(db).suppressions()}
    waiting = pending_addresses(db)
    addresses = sorted(set(listed) | left | suppressed | set(waiting))
    sent = last_sent(db) if with_last_sent else {}
    scores = BounceFigures(db).scores(addresses)
    rows = []
    for address in addresses:
        profile = listed.get(address)
        state = _state_of(address, profile, left, suppressed)
        rows.append(
            Subscriber(
                address, profile.path.name if profile else None, state,
                (profile.frequency or "daily") if profile else None, sent.get(address),
                scores[address], len(profile.like) if profile else 0,
            )
        )  # fmt: skip
    return rows


def _listed(profiles: Iterable[Profile]) -> dict[str, Profile]:
    listed: dict[str, Profile] = {}
    for profile in profiles:
        for address in profile.emails:
            listed.setdefault(address, profile)  # the first profile listing it is the one a run uses
    return listed


def _left(settings: Settings, db: sqlite3.Connection) -> set[str]:
    """Who left: in the database, or in the file kept beside it (as a run reads them)."""
    return set(unsubscribes(db)) | set(departures(settings.state_dir))


def _state_of(address: str, profile: Profile | None, left: set[str], suppressed: set[str]) -> SubscriberState:
    if address in left:
        return "unsubscribed"
    if address in suppressed:
        return "suppressed"
    return "active" if profile is not None else "pending"


def counts(rows: Iterable[Subscriber]) -> dict[SubscriberState, int]:
    found = Counter(row.state for row in rows)
    return {state: found.get(state, 0) for state in SUBSCRIBER_STATES}


def filtered(
    rows: Iterable[Subscriber], state: str | None = None, search: str | None = None
) -> list[Subscriber]:
    """The rows in `state` whose address or profile file contains `search` (any case)."""
    needle = (search or "").strip().lower()
    return [
        row
        for row in rows
        if (state is None or row.state == state)
        and (not needle or needle in row.address or needle in (row.profile or "").lower())
    ]


def site_status(
    settings: Settings, db: sqlite3.Connection, today: dt.date, next_send: NextSend | None,
    editions: int = STATUS_EDITIONS,
) -> SiteStatus:  # fmt: skip
    """The site at a glance: subscribers by state, the last editions, each source's health."""
    rows = subscribers(settings, db, with_last_sent=False)
    return SiteStatus(counts(rows), edition_counts(db, editions), source_health(db, today), next_send)


def source_health(db: sqlite3.Connection, today: dt.date) -> list[SourceHealth]:
    """Each source's last fetch, and its fetches and failures over the last HEALTH_DAYS days."""
    return SourceLog(db).health(today - dt.timedelta(days=HEALTH_DAYS))


def edition_history(db: sqlite3.Connection, editions: int, before: str | None = None) -> list[EditionCounts]:
    return edition_counts(db, editions, before)


def source_checks(db: sqlite3.Connection, today: dt.date, days: int = HEALTH_DAYS) -> list[SourceCheck]:
    return SourceLog(db).checks(today - dt.timedelta(days=days))


def papers_per_source_per_day(checks: Iterable[SourceCheck]) -> dict[str, dict[str, int]]:
    """Source → day → papers of its last fetch that day (a failed fetch counts none)."""
    found: dict[str, dict[str, int]] = {}
    for check in checks:  # oldest first: the last fetch of a day wins
        found.setdefault(check.source, {})[check.day] = 0 if check.error else check.papers
    return found


def left_by(settings: Settings, db: sqlite3.Connection, days: Sequence[str]) -> list[int]:
    """How many addresses had left by the end of each of `days` (oldest first)."""
    kept = {**departures(settings.state_dir), **unsubscribes(db)}
    times = sorted(at[:10] for _, at in kept.values())
    return [bisect.bisect_right(times, day) for day in days]
