"""Is a listing stale? arXiv serves yesterday's listing again until it announces the new one.

A pure decision: the pipeline asks the store which earlier day each listing repeats, and this
module decides, for the edition's date (so `--date` works for it too), which sources to flag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from ..models import Listing, Paper, SourceReport

SATURDAY = 5  # dt.date.weekday(): arXiv announces nothing at weekends, so a repeat is expected


def papers_of(listing: Listing, report: SourceReport) -> list[Paper]:
    """The papers the report's source listed."""
    return [p for p in listing.papers if report.name in p.sources]


def mark_stale(listing: Listing, repeated: Mapping[str, dt.date], edition: dt.date) -> Listing:
    """Flag each arXiv listing that repeats an earlier day's on a weekday.

    `repeated` maps a source's location to the earlier day whose listing it repeats exactly.
    """
    reports = tuple(
        _marked(listing, report, repeated.get(report.location), edition) for report in listing.reports
    )
    return replace(listing, reports=reports)


def _marked(
    listing: Listing, report: SourceReport, earlier: dt.date | None, edition: dt.date
) -> SourceReport:
    is_arxiv_listing = any(p.announce_type for p in papers_of(listing, report))
    if not (is_arxiv_listing and earlier and edition.weekday() < SATURDAY):
        return report
    warning = f"repeats the listing of {earlier}: arXiv has not updated this feed yet"
    return replace(report, stale=True, warnings=(*report.warnings, warning))
