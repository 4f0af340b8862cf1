"""Which profiles an edition is for: the one rule `digest run` and `digest serve` share. Pure.

Edition D goes to every profile due on D: daily profiles always, weekly profiles only on
their weekday (Monday by default), with the papers of the past week.
"""

from __future__ import annotations

import datetime as dt

from ..models import WEEKDAYS, Profile

WEEK = dt.timedelta(days=7)
DEFAULT_WEEKDAY = "monday"


def is_weekly(profile: Profile) -> bool:
    return profile.frequency == "weekly"


def weekday_of(profile: Profile) -> int:
    """The day (Monday is 0) a weekly profile's digest comes."""
    return WEEKDAYS.index(profile.weekday or DEFAULT_WEEKDAY)


def due_on(profile: Profile, day: dt.date) -> bool:
    return not is_weekly(profile) or day.weekday() == weekday_of(profile)


def weekly_since(moment: dt.datetime) -> dt.datetime:
    """Where a weekly digest's papers start: every paper archived in the week before `moment`."""
    return moment - WEEK
