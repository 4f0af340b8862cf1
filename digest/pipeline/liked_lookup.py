"""The papers behind `like:` and `dislike:` ids: from the archive, else looked up on arXiv once.

An id the archive lacks is asked of the arXiv API (politely, through the listings' fetcher and
HTTP cache); what arXiv has is archived, what it does not have is remembered, so neither is
asked again. Nothing here fails a run: each id that yields no paper comes back as a warning
naming it, for the caller to place at its profile's file and line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from ..models import Paper, Settings, paper_id_of
from ..sources.biorxiv import doi_id
from ..sources.fetch import FetchClock, FetchPolicy
from ..sources.fetch import fetch as fetch_source
from ..sources.lookup import API_URL, Fetcher, LookedUp, arxiv_id, look_up_arxiv
from ..store import HttpCache, PaperArchive
from ..store.connection import State

# New ids asked of arXiv in one call: 5 requests, some 15 s of polite spacing. A longer list
# (10,000 likes pasted at once) is looked up a slice per run instead of stalling one run.
MAX_LOOKUPS = 250


@dataclass(frozen=True)
class IdWarning:
    """An id that gave no paper, as the profile wrote it, and why."""

    id: str
    message: str

    def __str__(self) -> str:
        return f"{self.id}: {self.message}"


class LikedPapers(NamedTuple):
    """Each id's paper (keyed by the id as given), and a warning for each id without one."""

    papers: dict[str, Paper]
    warnings: list[IdWarning]


def canonical_id(text: str) -> str:
    """An id as the archive keys it: an arXiv id without version, else a DOI in lower case."""
    return paper_id_of(text) or doi_id(text)


def liked_papers(
    settings: Settings,
    state: State,
    ids: Iterable[str],
    *,
    clock: FetchClock | None = None,
    api_url: str = API_URL,
    max_lookups: int = MAX_LOOKUPS,
) -> LikedPapers:
    """The papers of these ids: archived ones at once, the others looked up on arXiv once."""
    given = {raw: canonical_id(raw) for raw in dict.fromkeys(ids)}
    archive = PaperArchive(state.db)
    found = archive.papers_with_ids(given.values())
    missing = [i for i in dict.fromkeys(given.values()) if i not in found]
    known_unknown = archive.unknown_to_arxiv(missing)
    to_ask = [i for i in missing if arxiv_id(i) and i not in known_unknown]
    looked_up = look_up_arxiv(to_ask[:max_lookups], _fetcher(settings, state, clock), api_url=api_url)
    archive.remember_looked_up(looked_up.papers)
    archive.remember_unknown_to_arxiv(looked_up.unknown)
    found.update((p.id, p) for p in looked_up.papers)
    problems = _problems(missing, known_unknown, looked_up, set(to_ask[max_lookups:]))
    papers = {raw: found[i] for raw, i in given.items() if i in found}
    warnings = [IdWarning(raw, problems[i]) for raw, i in given.items() if i in problems]
    return LikedPapers(papers, warnings)


def _fetcher(settings: Settings, state: State, clock: FetchClock | None) -> Fetcher:
    """The fetcher sources use: the site's deadline, the HTTP cache in the state database."""
    policy, cache = FetchPolicy(deadline=settings.fetch_deadline), HttpCache(state.db)
    return lambda url: fetch_source(url, policy, cache, clock=clock)


def _problems(
    missing: list[str], known_unknown: dict[str, str], looked_up: LookedUp, postponed: set[str]
) -> dict[str, str]:
    """Why each missing id still has no paper, by canonical id."""
    found = {p.id for p in looked_up.papers}
    return {i: _why_missing(i, known_unknown, looked_up, postponed) for i in missing if i not in found}


def _why_missing(
    paper_id: str, known_unknown: dict[str, str], looked_up: LookedUp, postponed: set[str]
) -> str:
    if paper_id in known_unknown:
        return f"arXiv has no such paper (asked {known_unknown[paper_id][:10]})"
    if paper_id in looked_up.unknown:
        return "arXiv has no such paper"
    if paper_id in looked_up.failed:
        return f"could not look it up on arXiv ({looked_up.failed[paper_id]}); the next run tries again"
    if paper_id in postponed:
        return f"not looked up yet (over {MAX_LOOKUPS} new ids at once); a later run will"
    return "not in the paper archive, and only arXiv ids can be looked up"
