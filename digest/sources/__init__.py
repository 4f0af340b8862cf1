"""Sources: fetch every configured listing, parse it, and merge the papers by canonical id."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from ..errors import SourceError
from ..models import Listing, Paper, SourceConfig, SourceReport
from .fetch import FetchPolicy, fetch
from .parse import parse_listing

# Revisions of papers already announced: mailing them again is noise.
SKIPPED_ANNOUNCE_TYPES = frozenset({"replace", "replace-cross"})

Fetcher = Callable[[str], bytes]


def collect(sources: Iterable[SourceConfig], fetcher: Fetcher | None = None) -> Listing:
    """Every source's papers, merged; a failing source is reported and the others go on."""
    fetcher = fetcher or (lambda location: fetch(location, FetchPolicy()))
    merged: dict[str, Paper] = {}
    reports = []
    for source in sources:
        try:
            papers = parse_listing(fetcher(source.location), source.name)
        except SourceError as error:
            reports.append(SourceReport(source.name, source.location, error=str(error)))
            continue
        kept = [p for p in papers if p.announce_type not in SKIPPED_ANNOUNCE_TYPES]
        for paper in kept:
            known = merged.get(paper.id)
            merged[paper.id] = merge(known, paper) if known else paper
        reports.append(SourceReport(source.name, source.location, papers=len(kept)))
    return Listing(tuple(merged.values()), tuple(reports))


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
