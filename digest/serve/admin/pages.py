"""The console's pages: overview, subscribers, editions, sources, suppressions.

Every number comes from pipeline.console (the functions behind `digest status` and
`digest subscribers`); every action from pipeline.console_actions (the commands' own steps).
"""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...models.console import SUBSCRIBER_STATES
from ...pipeline import console
from ...pipeline.run import edition_for
from ...store import Ledger
from ..site_status import status
from . import charts
from .gate import Gate

PAGE_SIZE = 50
CHART_EDITIONS = 30
DONE = {  # what a finished action says, by the key its redirect carries
    "unsubscribed": "Unsubscribed: no digest goes to this address any more.",
    "already-left": "This address had already left; nothing changed.",
    "cleared": "Suppression cleared: the next edition mails this address again.",
    "not-suppressed": "This address was not suppressed; nothing changed.",
    "confirmation-sent": "A new confirmation link is on its way.",
    "confirmation-recent": "A confirmation went out less than an hour ago; no other was sent.",
}


class Console:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.settings = gate.settings

    async def overview(self, request: Request, session: str) -> Response:
        now = dt.datetime.now(dt.UTC)
        today = edition_for(self.settings, now)
        profiles = await run_in_threadpool(self.gate.snapshot.profiles)
        found = await self.gate.work(lambda db: status(self.settings, db, now, profiles))
        history = await self.gate.work(lambda db: console.edition_history(db, CHART_EDITIONS))
        days = [e.edition for e in reversed(history)]
        left = await self.gate.work(lambda db: console.left_by(self.settings, db, days))
        checks = await self.gate.work(lambda db: console.source_checks(db, today))
        per_source = console.papers_per_source_per_day(checks)
        fetch_days = sorted({c.day for c in checks})
        drawn = {
            "sends": charts.sends_per_edition(history),
            "subscribers": charts.subscribers_over_time(days, [e.total for e in reversed(history)], left),
            "papers": charts.papers_per_source(fetch_days, per_source),
        }
        by_day = list(zip(days, [e.total for e in reversed(history)], left, strict=True))
        return self.gate.page("overview", session, status_=found, charts=drawn, history=history,
                              subscribers_by_day=by_day, per_source=per_source, fetch_days=fetch_days,
                              current="overview", now=now)  # fmt: skip

    async def subscribers(self, request: Request, session: str) -> Response:
        state = request.query_params.get("state") or None
        state = state if state in SUBSCRIBER_STATES else None
        search = request.query_params.get("search", "")
        profiles = await run_in_threadpool(self.gate.snapshot.profiles)
        found = await self.gate.work(lambda db: console.roster(self.settings, db, profiles))
        shown = await self.gate.work(lambda db: console.listing(found, db, state, search, False))
        counts = found.counts()
        pages = max(1, math.ceil(len(shown) / PAGE_SIZE))
        page = min(max(1, _int(request.query_params.get("page"), 1)), pages)
        query = {k: v for k, v in (("state", state), ("search", search)) if v}
        listed = shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        listed = await self.gate.work(lambda db: console.last_sent_of(db, listed))
        return self.gate.page(
            "subscribers", session, rows=listed,
            total=sum(counts.values()), matching=len(shown), page=page, pages=pages, state=state or "",
            search=search, states=SUBSCRIBER_STATES, query=urlencode(query), counts=counts,
            current="subscribers",
        )  # fmt: skip

    async def editions(self, request: Request, session: str) -> Response:
        before = request.query_params.get("before") or None
        history = await self.gate.work(lambda db: console.edition_history(db, PAGE_SIZE, before))
        older = history[-1].edition if len(history) == PAGE_SIZE else None
        return self.gate.page("editions", session, history=history, older=older, current="editions")

    async def sources(self, request: Request, session: str) -> Response:
        today = edition_for(self.settings, dt.datetime.now(dt.UTC))
        checks = await self.gate.work(lambda db: console.source_checks(db, today))
        health = await self.gate.work(lambda db: console.source_health(db, today))
        fetch_days = sorted({c.day for c in checks})
        chart = charts.papers_per_source(fetch_days, console.papers_per_source_per_day(checks))
        return self.gate.page("sources", session, health=health, checks=list(reversed(checks))[:200],
                              chart=chart, days=console.HEALTH_DAYS, current="sources")  # fmt: skip

    async def suppressions(self, request: Request, session: str) -> Response:
        listed = await self.gate.work(lambda db: Ledger(db).suppressions())
        return self.gate.page("suppressions", session, listed=listed, current="suppressions")


def redirect(path: str, **query: str) -> Response:
    return RedirectResponse(f"{path}?{urlencode(query)}" if query else path, status_code=303)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default
