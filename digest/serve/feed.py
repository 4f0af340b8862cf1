"""GET /feed/<token>.atom: a subscriber's personal Atom feed, answering conditional GETs.

Feed readers poll, often every few minutes, so an unchanged feed costs one small query and a
304; the ETag is the hash of the document, so it changes exactly when an entry does.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib

from starlette.requests import Request
from starlette.responses import Response

from ..errors import TokenError
from ..models import SentPaper
from ..pipeline import subscriptions
from ..pipeline.composing import feed_url
from ..render.atom import AtomFeeds, FeedLinks
from ..store import EditionArchive
from ..tokens import sign, verify
from .site_tools import SiteTools

FEED_EDITIONS = 10  # the papers of this many recent editions: a feed reader keeps older ones itself
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
# Personal, and checked with the server on every use: a shared cache must never keep it.
CACHING = {"Cache-Control": "private, no-cache"}


class FeedEndpoint:
    """The feed route's handler; one per site."""

    def __init__(self, site: SiteTools) -> None:
        self.site = site
        self.feeds = AtomFeeds(site.settings.title, site.settings.templates_dir)

    async def page(self, request: Request) -> Response:
        site, token = self.site, request.path_params["token"]
        try:
            address = await site.link_address("feed", token)
        except TokenError as error:
            return site.token_error(error)
        left = await site.work(lambda db: subscriptions.has_left(db, address))
        if left:  # 410: a feed reader stops asking
            message = f"{address} unsubscribed, so this feed has ended."
            return site.notice("This feed has ended", message, "Subscribe again to get a new one.", 410)
        papers = await site.work(lambda db: EditionArchive(db).sent_papers(address, FEED_EDITIONS))
        issued = dt.datetime.fromtimestamp(verify(site.secret, "feed", token).issued, dt.UTC)
        return self._answer(request, papers, token, address, issued)

    def _answer(
        self, request: Request, papers: list[SentPaper], token: str, address: str, issued: dt.datetime
    ) -> Response:
        base = self.site.settings.base_url
        archive = f"{base}/archive/{sign(self.site.secret, 'archive', address, issued=issued)}"
        body = self.feeds.render(papers, FeedLinks(feed_url(base, token), archive), issued)
        modified = max((p.sent_at for p in papers), default=issued)
        headers = CACHING | {
            "ETag": f'"{hashlib.sha256(body).hexdigest()[:32]}"',
            "Last-Modified": email.utils.format_datetime(modified.astimezone(dt.UTC), usegmt=True),
        }
        if _unchanged(request, headers["ETag"], modified):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=MEDIA_TYPE, headers=headers)


def _unchanged(request: Request, etag: str, modified: dt.datetime) -> bool:
    """Whether the client's copy is current (RFC 9110: If-None-Match, when sent, decides alone)."""
    if "if-none-match" in request.headers:
        sent = [tag.strip().removeprefix("W/") for tag in request.headers["if-none-match"].split(",")]
        return etag in sent or "*" in sent
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date: the whole feed, as if none was sent
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return modified.replace(microsecond=0) <= when
