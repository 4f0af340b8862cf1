"""The site at a glance, with what the scheduler sends next: `digest status` and /admin both ask here."""

from __future__ import annotations

import datetime as dt
import sqlite3

from ..models import Settings
from ..models.console import SiteStatus
from ..pipeline.console import site_status
from ..pipeline.run import edition_for
from .scheduler import Service


def status(settings: Settings, db: sqlite3.Connection, now: dt.datetime) -> SiteStatus:
    next_send = Service(settings).next_send(now)
    return site_status(settings, db, edition_for(settings, now), next_send)
