"""The site at a glance, with what the scheduler sends next: `digest status` and /admin both ask here."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from ..models import Profile, Settings
from ..models.console import SiteStatus
from ..pipeline.console import read_profiles, site_status
from ..pipeline.run import edition_for
from ..store import Database
from ..store.lease import current_lease
from .scheduler import Service


def status(
    settings: Settings, db: Database, now: dt.datetime, profiles: Sequence[Profile] | None = None
) -> SiteStatus:
    """`profiles`: already read (the console keeps them); by default they are read here."""
    profiles = read_profiles(settings) if profiles is None else profiles
    next_send = Service(settings).next_send(now, profiles)
    found = site_status(settings, db, edition_for(settings, now), next_send, profiles)
    return dataclasses.replace(found, scheduler=current_lease(db))  # who sends the editions
