"""Papers by arXiv id from the arXiv API (`id_list`), for liked papers that no listing brought.

Requests go through the same polite fetcher as listings (timeouts, retries, the 3 s arXiv
spacing, the HTTP cache) and answers through the same parser. Nothing here raises for arXiv's
trouble: an id arXiv does not know, or a batch that could not be had, comes back as data.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import SourceError
from ..models import Paper, paper_id_of
from .arxiv import is_id
from .bounded import DEFAULT_LIMITS, ParseLimits, parse_bounded
from .fetch import Fetched

API_URL = "https://export.arxiv.org/api/query"
# Ids per request: a short URL, a small answer, and 10,000 likes still only 200 requests.
BATCH_SIZE = 50
SOURCE_NAME = "arXiv lookup"

Fetcher = Callable[[str], Fetched]


@dataclass(frozen=True)
class LookedUp:
    """What arXiv said about some ids: the papers it has, the ids it does not know, and the ids
    it could not be asked about, each with why (unreachable, an error answer)."""

    papers: tuple[Paper, ...] = ()
    unknown: frozenset[str] = frozenset()
    failed: Mapping[str, str] = field(default_factory=dict)


def arxiv_id(text: str) -> str | None:
    """The canonical arXiv id (no version) in an id, prefix or URL as people write it, or None."""
    found = paper_id_of(text)
    return found if found is not None and is_id(found) else None


def look_up_arxiv(
    ids: Iterable[str],
    fetcher: Fetcher,
    *,
    api_url: str = API_URL,
    limits: ParseLimits = DEFAULT_LIMITS,
    batch_size: int = BATCH_SIZE,
) -> LookedUp:
    """The papers with these arXiv ids, `batch_size` ids to a request; never raises for arXiv's answer.

    Ids are canonical arXiv ids (see arxiv_id); anything else is unknown without a request."""
    wanted = list(dict.fromkeys(ids))
    asked = [i for i in wanted if is_id(i)]
    papers: list[Paper] = []
    unknown = set(wanted) - set(asked)
    failed: dict[str, str] = {}
    for start in range(0, len(asked), batch_size):
        batch = asked[start : start + batch_size]
        try:
            found = _batch(batch, fetcher, api_url, limits)
        except SourceError as error:
            failed.update(dict.fromkeys(batch, str(error)))
            continue
        papers.extend(found)
        unknown.update(set(batch) - {p.id for p in found})
    return LookedUp(tuple(papers), frozenset(unknown), failed)


def query_url(ids: list[str], api_url: str = API_URL) -> str:
    """The API URL asking for exactly these ids (max_results, or arXiv stops at 10)."""
    query = urllib.parse.urlencode({"id_list": ",".join(ids), "max_results": len(ids)}, safe=",/")
    return f"{api_url}?{query}"


def _batch(ids: list[str], fetcher: Fetcher, api_url: str, limits: ParseLimits) -> list[Paper]:
    """The papers of one request; SourceError for an error status, an error entry or a non-feed."""
    body = fetcher(query_url(ids, api_url)).body
    parsed = parse_bounded(body, SOURCE_NAME, "feed", limits)
    wanted = set(ids)
    # Entries come in arXiv's order, not ours; one for an id not asked for is not taken on trust,
    # nor is an entry with no text (arXiv's placeholder for a withdrawn or missing id).
    return [p for p in parsed.papers if p.id in wanted and p.abstract]
