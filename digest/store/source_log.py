"""Every fetch of every source, kept for its health history: what a source's last listing was
(listings.SourceHistory) says nothing of the days it failed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ..models import SourceReport
from ..models.console import SourceCheck, SourceHealth
from .connection import now_text as _now
from .database import Database

KEPT_DAYS = 400  # a year of history, and a little more, for the charts


class SourceLog:
    """One row per source per fetch: when, for which edition, how many papers, what went wrong."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, reports: Iterable[SourceReport], day: dt.date) -> None:
        rows = [(r.name, r.location, _now(), day.isoformat(), r.papers, r.new, r.error) for r in reports]
        forget_before = (day - dt.timedelta(days=KEPT_DAYS)).isoformat()
        with self.db.transaction():
            self.db.executemany(
                """INSERT INTO source_checks (source, location, at, day, papers, new, error, seq)
                   VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM source_checks))""",
                rows,
            )
            self.db.execute("DELETE FROM source_checks WHERE day < ?", (forget_before,))

    def checks(self, since: dt.date) -> list[SourceCheck]:
        """Every fetch for an edition on or after `since`, oldest first."""
        rows = self.db.execute(
            """SELECT source, location, at, day, papers, new, error FROM source_checks
               WHERE day >= ? ORDER BY at, seq""",
            (since.isoformat(),),
        )
        return [SourceCheck(*row) for row in rows]

    def health(self, since: dt.date) -> list[SourceHealth]:
        """Each source fetched since `since` (by name): its last fetch, and its failures since."""
        found: dict[str, SourceHealth] = {}
        for check in self.checks(since):
            before = found.get(check.source)
            fetches, failures = (before.fetches, before.failures) if before else (0, 0)
            found[check.source] = SourceHealth(
                check.source, check.location, check.at, check.error, fetches + 1,
                failures + (check.error is not None),
            )  # fmt: skip
        return sorted(found.values(), key=lambda health: health.name)
