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
from .threads import run_side_by_side

log = logging.getLogger("digest.sources")

# Revisions of papers already announced: mailing them again is noise unless asked for.
REPLACEMENTS = frozenset({"replace", "replace-cross"})

Fetcher = Callable[[str], Fetched]
# Sources fetched at once: enough that slow hosts overlap, few enough to stay a polite client.
FETCH_WORKERS = 8


def collect(
    sources: Iterable[SourceConfig],
    fetcher: Fetcher,
    include_replacements: bool = False,
    limits: ParseLimits = DEFAULT_LIMITS,
    *,
    on_report: Callable[[SourceReport], None] | None = None,
    workers: int = FETCH_WORKERS,
) -> Listing:
    """Every source's papers, merged; a failing source is reported and the others go on.

    Sources are fetched side by side (arXiv hosts still one request per interval, see fetch);
    on_report sees each source's report as it finishes, while the listing keeps the configured
    order of sources, so that merging gives the same papers whichever finished first.
    """
    jobs = [_reader(source, fetcher, include_replacements, limits) for source in sources]
    read = run_side_by_side(jobs, workers, on_report and (lambda outcome: on_report(outcome[0])))
    merged: dict[str, Paper] = {}
    for _, papers in read:
        for paper in papers:
            known = merged.get(paper.id)
            merged[paper.id] = merge(known, paper) if known else paper
    return Listing(tuple(merged.values()), tuple(report for report, _ in read))


def _reader(
    source: SourceConfig, fetcher: Fetcher, include_replacements: bool, limits: ParseLimits
) -> Callable[[], tuple[SourceReport, list[Paper]]]:
    return lambda: read_source(source, fetcher, include_replacements, limits)


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
        ai_summary=first.ai_summary or second.ai_summary,
        organization=first.organization or second.organization,
    )
