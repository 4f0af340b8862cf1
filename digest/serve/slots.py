"""When each edition is due: profiles grouped by send time, time zone and frequency. Pure.

A slot fires at its local send time on the days it runs; the date in its own time zone names
the edition. Fire times come from `zoneinfo`, so a slot at 08:00 Europe/Berlin stays at 08:00
local across the DST changes (a moment that a change skips, such as 02:30 on the spring-forward
night, fires at the equivalent instant an hour later).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..models import WEEKDAYS, Profile, Settings
from ..pipeline.due import is_weekly, weekday_of


@dataclass(frozen=True)
class Slot:
    """One send time: every profile with this time zone, send time and frequency."""

    timezone: str
    send_at: str  # HH:MM, local
    frequency: str = "daily"  # or "weekly"
    weekday: int = 0  # weekly slots: Monday is 0
    weekdays_only: bool = False  # arXiv announces nothing on Saturdays and Sundays

    @property
    def key(self) -> str:
        when = "daily" if self.frequency == "daily" else f"weekly-{WEEKDAYS[self.weekday]}"
        return f"{when}@{self.send_at}/{self.timezone}" + ("/weekdays" if self.weekdays_only else "")

    def runs_on(self, day: dt.date) -> bool:
        if self.frequency == "weekly":
            return day.weekday() == self.weekday
        return not (self.weekdays_only and day.weekday() >= 5)

    def fire_time(self, day: dt.date) -> dt.datetime:
        """The instant, in UTC, at which the edition of `day` is due."""
        hour, minute = map(int, self.send_at.split(":"))
        local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(self.timezone))
        # A local time the clocks skipped does not exist; zoneinfo reads it with the offset from
        # before the change, which is the instant an hour later on the new wall clock.
        return local.astimezone(dt.UTC)

    def editions_due(self, after: dt.datetime, until: dt.datetime) -> list[tuple[dt.date, dt.datetime]]:
        """(edition date, fire time) for every firing in (after, until], oldest first."""
        zone = zoneinfo.ZoneInfo(self.timezone)
        day, last = after.astimezone(zone).date(), until.astimezone(zone).date()
        due = []
        while day <= last:
            fire = self.fire_time(day)
            if self.runs_on(day) and after < fire <= until:
                due.append((day, fire))
            day += dt.timedelta(days=1)
        return due

    def next_fire(self, after: dt.datetime) -> tuple[dt.date, dt.datetime]:
        """The first firing strictly after `after`."""
        horizon = after + dt.timedelta(days=8)
        return self.editions_due(after, horizon)[0]


def slot_of(profile: Profile, timezone: str, send_at: str, weekdays_only: bool) -> Slot:
    """The slot a profile belongs to; the profile's own settings win over the site's."""
    weekly = is_weekly(profile)
    return Slot(
        timezone=profile.timezone or timezone,
        send_at=profile.send_at or send_at,
        frequency="weekly" if weekly else "daily",
        weekday=weekday_of(profile),  # the due rule of `digest run` (pipeline.due)
        weekdays_only=weekdays_only and not weekly,
    )


def group_by_slot(
    profiles: Iterable[Profile], timezone: str, send_at: str, weekdays_only: bool
) -> dict[Slot, list[Profile]]:
    groups: dict[Slot, list[Profile]] = {}
    for profile in profiles:
        groups.setdefault(slot_of(profile, timezone, send_at, weekdays_only), []).append(profile)
    return groups


def weekdays_only(settings: Settings) -> bool:
    """Whether daily slots skip weekends: as configured, else when every source is an arXiv
    listing (arXiv announces nothing on Saturdays and Sundays)."""
    if settings.weekdays_only is not None:
        return settings.weekdays_only
    locations = [s.location for s in settings.sources]
    return bool(locations) and all("arxiv.org/rss" in u or "arxiv.org/atom" in u for u in locations)


def in_slot(settings: Settings, slot: Slot) -> Callable[[Profile], bool]:
    """Whether a profile belongs to `slot`: the filter of a scheduled edition's run."""
    skip_weekends = weekdays_only(settings)
    return lambda p: slot_of(p, settings.timezone, settings.send_at, skip_weekends) == slot
