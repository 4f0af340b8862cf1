"""Sources: fetch every configured listing, parse it, and merge the papers by canonical id."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

from ..errors import SourceError
from ..models import Listing, Paper, SourceConfig, SourceReport
from .bounded import DEFAULT_LIMITS, ParseLimits, parse_bounded
from .fetch import Fetched
from .items import describe

log = logging.getLogger("digest.sources")

# Revisions of papers already announced: mailing them again is noise unless asked for.
REPLACEMENTS = frozenset({"replace", "replace-cross"})

Fetcher = Callable[[str], Fetched]


def collect(
    sources: Iterable[SourceConfig],
    fetcher: Fetcher,
    include_replacements: bool = False,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> Listing:
    """Every source's papers, merged; a failing source is reported and the others go on."""
    merged: dict[str, Paper] = {}
    reports = []
    for source in sources:
        report, papers = read_source(source, fetcher, include_replacements, limits)
        reports.append(report)
        for paper in papers:
            known = merged.get(paper.id)
            merged[paper.id] = merge(known, paper) if known else paper
    return Listing(tuple(merged.values()), tuple(reports))


def read_source(
    source: SourceConfig, fetcher: Fetcher, include_replacements: bool, limits: ParseLimits = DEFAULT_LIMITS
) -> tuple[SourceReport, list[Paper]]:
    """One source's papers and its report; never raises for a source's own trouble."""
    try:
        fetched = fetcher(source.location)
        parsed = parse_bounded(fetched.body, source.name, source.kind, limits)
    except SourceError as error:
        return SourceReport(source.name, source.location, error=str(error)), []
    except Exception as error:  # a bug met on third-party input: this source fails, the edition goes on
        log.exception("source %s: unexpected %s", source.name, type(error).__name__)
        return SourceReport(source.name, source.location, error=f"unexpected error: {describe(error)}"), []
    kept = [p for p in parsed.papers if include_replacements or p.announce_type not in REPLACEMENTS]
    report = SourceReport(
        source.name,
        source.location,
        papers=len(kept),
        items=parsed.items,
        skipped=parsed.items - len(kept),
        unchanged=fetched.not_modified,
        warnings=tuple(parsed.warnings),
    )
    return report, kept


def merge(first: Paper, second: Paper) -> Paper:
    """One paper from two listings of it: arXiv's categories, the community's upvotes."""
    votes = [v for v in (first.upvotes, second.upvotes) if v is not None]
    return replace(
        first,
        abstract=first.abstract or second.abstract,
        authors=first.authors or second.authors,
        pdf_url=first.pdf_url or second.pdf_url,
        categories=first.categories or second.categories,
        published=first.published or second.published,
        announce_type=first.announce_type or second.announce_type,
        upvotes=max(votes) if votes else None,
        hf_url=first.hf_url or second.hf_url,
        code_url=first.code_url or second.code_url,
        sources=tuple(dict.fromkeys(first.sources + second.sources)),
    )
