"""The live keyword preview of the subscribe and manage pages: what the keywords being typed
would have selected over the last week of the paper archive, with the count per day.

It reads only the archive (never a source), answers each client at most RATE times a minute,
and caps what one request may ask, so a page typing away cannot load the server. The pages
ask `/preview.json` as the reader types (debounced, in preview.js); without JavaScript their
"Preview" button posts the form, and the page comes back with the same preview in it.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..matching import PaperIndex, compile_profile, select
from ..models import Match, Paper, Profile
from ..store import papers_by_day
from .site_tools import SiteTools

PREVIEW_DAYS = 7
MAX_KEYWORDS = 30  # a profile's keywords; more are left out of the preview, and said so
MAX_KEYWORD_CHARS = 100
SHOWN = 10  # the best papers listed; the counts cover all of them
RATE = 30  # previews per client per minute: typing, debounced, asks far fewer
BAR_PIXELS = 120
ARCHIVE_SECONDS = 60.0  # the week's papers are read from the database at most once a minute
Dated = list[tuple[dt.date, Paper]]


@dataclass(frozen=True)
class KeywordPreview:
    """What some keywords select over the archive's last days."""

    keywords: tuple[str, ...]
    days: tuple[tuple[dt.date, int], ...]  # oldest first, every day, zero included
    papers: tuple[tuple[dt.date, Match], ...]  # the best SHOWN, best first
    total: int
    archived: int  # papers the archive holds for those days
    left_out: int = 0  # keywords past MAX_KEYWORDS, or with nothing to match

    def bar(self, count: int) -> int:
        """A day's bar in pixels, the busiest day's BAR_PIXELS wide."""
        most = max((n for _, n in self.days), default=0)
        return round(BAR_PIXELS * count / most) if most else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "keywords": list(self.keywords),
            "total": self.total,
            "archived": self.archived,
            "left_out": self.left_out,
            "days": [
                {"day": d.isoformat(), "label": day_label(d), "count": n, "bar": self.bar(n)}
                for d, n in self.days
            ],
            "papers": [
                {
                    "title": m.paper.title,
                    "url": m.paper.url,
                    "day": day_label(d),
                    "why": "; ".join(m.explanations()),
                }
                for d, m in self.papers
            ],
        }


def why(match: Match) -> str:
    return "; ".join(match.explanations())


def day_label(day: dt.date) -> str:
    return day.strftime("%a %d %b")


def keywords_of(text: str) -> tuple[tuple[str, ...], int]:
    """The keywords of a form's text (one a line), and how many were left out."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    written = [line for line in lines if line]
    usable = [k for k in written if len(k) <= MAX_KEYWORD_CHARS and any(c.isalnum() for c in k)]
    kept = tuple(dict.fromkeys(usable))[:MAX_KEYWORDS]
    return kept, len(written) - len(kept)


def preview_keywords(text: str, papers: Dated, today: dt.date) -> KeywordPreview:
    """What the keywords in `text` select among `papers`, counted per day. Pure."""
    keywords, left_out = keywords_of(text)
    days = [today - dt.timedelta(days=n) for n in range(PREVIEW_DAYS - 1, -1, -1)]
    if not keywords:
        return KeywordPreview((), tuple((d, 0) for d in days), (), 0, len(papers), left_out)
    compiled = compile_profile(Profile("preview.yaml", ("preview@example.invalid",), keywords=keywords))
    seen = {paper.id: day for day, paper in papers}
    matches = select(compiled, PaperIndex([paper for _, paper in papers], [compiled]))
    per_day = collections.Counter(seen[m.paper.id] for m in matches)
    shown = tuple((seen[m.paper.id], m) for m in matches[:SHOWN])
    return KeywordPreview(
        keywords, tuple((d, per_day[d]) for d in days), shown, len(matches), len(papers), left_out
    )


@dataclass
class RateLimit:
    """At most `rate` uses per client in any `window` seconds (a sliding window per client)."""

    rate: int = RATE
    window: float = 60.0
    clients: int = 10_000  # remembered at most; the oldest are forgotten first
    _uses: collections.OrderedDict[str, collections.deque[float]] = field(
        default_factory=collections.OrderedDict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            uses = self._uses.pop(client, None) or collections.deque()
            while uses and uses[0] <= now - self.window:
                uses.popleft()
            self._uses[client] = uses
            if len(self._uses) > self.clients:
                del self._uses[next(iter(self._uses))]  # the least recent client: dicts keep order
            if len(uses) >= self.rate:
                return False
            uses.append(now)
            return True


class TooManyPreviews(Exception):
    """A client asked for more previews than RATE a minute."""


class LivePreview:
    """The preview endpoint and the previews the pages' forms ask for; one per site."""

    def __init__(self, site: SiteTools, limit: RateLimit | None = None) -> None:
        self.site = site
        self.limit = limit or RateLimit()
        self._week: tuple[float, dt.date, Dated] | None = None

    async def json(self, request: Request) -> Response:
        try:
            found = await self.preview(request, request.query_params.get("keywords", ""))
        except TooManyPreviews:
            wait = {"Retry-After": "60"}
            return JSONResponse({"error": "Too many previews; wait a minute."}, status_code=429, headers=wait)
        return JSONResponse(found.as_json())

    async def script(self, request: Request) -> Response:
        env = self.site.pages.html  # from the templates, so an operator's folder may replace it
        source, _, _ = env.loader.get_source(env, "web/preview.js") if env.loader else ("", None, None)
        return Response(source, media_type="text/javascript; charset=utf-8")

    async def preview(self, request: Request, text: str) -> KeywordPreview:
        """The preview of `text` for the client of `request`; TooManyPreviews past its rate."""
        if not self.limit.allow(request.client.host if request.client else "unknown"):
            raise TooManyPreviews
        today, papers = await self._recent()
        return preview_keywords(text[: MAX_KEYWORDS * (MAX_KEYWORD_CHARS + 1) * 2], papers, today)

    async def _recent(self) -> tuple[dt.date, Dated]:
        """The archive's papers of the last PREVIEW_DAYS days, read at most once a minute."""
        week = self._week
        if week is None or time.monotonic() - week[0] > ARCHIVE_SECONDS:
            today = dt.datetime.now(dt.UTC).date()
            since = dt.datetime.combine(today - dt.timedelta(days=PREVIEW_DAYS - 1), dt.time(), dt.UTC)
            papers = await self.site.work(lambda db: papers_by_day(db, since))
            week = self._week = (time.monotonic(), today, papers)
        return week[1], week[2]
