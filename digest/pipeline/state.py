"""The state database from outside a run: its path, its creation, and the commands' short reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

from ..errors import StateError
from ..models import BounceScore, Settings
from ..models.console import TableCopy
from ..store import Bounces, Database, Ledger, Subscribers, connect
from ..store.connection import DATABASE_NAME
from ..store.copy import copy_state
from ..store.database import is_postgres_url, redacted

T = TypeVar("T")


def database_path(settings: Settings) -> Path:
    return settings.state_dir / DATABASE_NAME


def init_state(settings: Settings) -> tuple[bool, int]:
    """Create the state database even where one existed before; (created, unsubscribes restored)."""
    path = database_path(settings)
    if settings.state_url or (path.exists() and path.stat().st_size > 0):
        with closing(open_database(settings)):
            return False, 0
    with closing(connect(path, create=True)) as db:
        return True, len(Subscribers(db).unsubscribed())


def with_state(settings: Settings, work: Callable[[Database], T]) -> T:
    """Run `work` with a connection to the state database, closed afterwards."""
    with closing(open_database(settings)) as db:
        return work(db)


def open_database(settings: Settings) -> Database:
    """The site's state database: on its PostgreSQL server, or the SQLite file in the state dir."""
    return connect(database_path(settings), url=settings.state_url)


def migrate_state(settings: Settings, url: str, replace: bool = False) -> list[TableCopy]:
    """Copy the SQLite state of the state dir into the PostgreSQL database at `url`, each table's
    rows counted in both; a target holding rows is refused unless `replace`."""
    if not is_postgres_url(url):
        raise StateError(f"--to expects a postgresql:// URL, got '{redacted(url)}'", MIGRATE_HINT)
    path = database_path(settings)
    if not path.is_file():
        raise StateError(f"no SQLite state to copy at {path}", "check state_dir in the config")
    with closing(connect(path)) as source, closing(connect(path, url=url)) as target:
        return copy_state(source, target, replace)


MIGRATE_HINT = "e.g. digest migrate-state --to postgresql://digest@db.example.org/digest"


def list_suppressions(settings: Settings) -> list[tuple[str, str, str]]:
    return with_state(settings, lambda db: Ledger(db).suppressions())


def bounce_scores(settings: Settings, now: dt.datetime | None = None) -> list[BounceScore]:
    """Each address that bounced: its score (decayed), last bounce and reason, highest first."""
    now = now or dt.datetime.now(dt.UTC)
    return with_state(settings, lambda db: Bounces(db).scores(now, settings.bounces.decay_days))


def clear_suppression(settings: Settings, address: str) -> bool:
    """Mail `address` again: its suppression lifted and its bounce score started over."""

    def clear(db: Database) -> bool:
        unsuppressed = Ledger(db).unsuppress(address.strip())
        return Bounces(db).clear(address.strip()) or unsuppressed

    return with_state(settings, clear)


def sent_papers(settings: Settings, address: str) -> frozenset[str]:
    """The papers an address was sent before, so a preview leaves them out as a run would."""
    return with_state(settings, lambda db: Ledger(db).sent_paper_ids(address))
