"""GET /archive/<token> (a subscriber's past editions) and GET /digest/<edition>/<token> (one of
them, as the email showed it, with every paper it matched).

An edition's page is the email itself, rendered again from what the edition recorded (its
papers and why each was picked) with no size budget, so the page and the email never drift
apart in design or content.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..config.profile_cache import CACHE_FILE
from ..config.profiles import profile_for
from ..errors import ConfigError, TokenError
from ..models import Digest, Links, Match, Profile
from ..pipeline import subscriptions
from ..pipeline.composing import digest_links
from ..render.renderer import Renderer
from ..store import EditionArchive
from ..tokens import sign
from .site_tools import SiteTools

ARCHIVE_EDITIONS = 400  # more than a year of daily editions


class ArchivePages:
    """The archive's two routes; one per site."""

    def __init__(self, site: SiteTools) -> None:
        self.site = site
        self.renderer = Renderer(site.settings.title, site.settings.templates_dir)
        self.rendering = threading.Lock()  # the renderer keeps caches that one thread at a time fills

    async def listing(self, request: Request) -> Response:
        site, token = self.site, request.path_params["token"]
        try:
            address = await site.link_address("archive", token)
        except TokenError as error:
            return site.token_error(error)
        sent = await site.work(lambda db: EditionArchive(db).sent_editions(address, ARCHIVE_EDITIONS))
        left = await site.work(lambda db: subscriptions.has_left(db, address))
        now = dt.datetime.now(dt.UTC)
        editions = [
            (
                dt.date.fromisoformat(e.edition).strftime("%A, %d %B %Y"),
                e,
                self._view_path(address, e.edition, now),
            )
            for e in sent
        ]
        links = self._links(address, now)
        return site.page("archive", address=address, editions=editions, links=links, left=left)

    async def edition(self, request: Request) -> Response:
        site, edition, token = self.site, request.path_params["edition"], request.path_params["token"]
        try:
            address = await site.link_address(f"view:{edition}", token)
            day = dt.date.fromisoformat(edition)
        except TokenError as error:
            return site.token_error(error)
        except ValueError:
            return site.notice("No such edition", "This link names no edition.", status=404)
        matches = await site.work(lambda db: EditionArchive(db).matches(address, edition))
        if not matches:  # a genuine link, as before: the page says why it is empty
            return site.notice("Nothing to show", "The papers of this edition are no longer available.")
        html = await run_in_threadpool(self._edition_html, address, day, matches)
        return HTMLResponse(html)

    def _edition_html(self, address: str, day: dt.date, matches: list[Match]) -> str:
        settings = self.site.settings
        trending = tuple(m for m in matches if "trending" in m.via)
        chosen = tuple(m for m in matches if "trending" not in m.via)
        digest = Digest(day, self._profile(address), address, chosen, trending=trending)
        links = self._links(address, dt.datetime.now(dt.UTC), day, matches)  # with vote links
        with self.rendering:
            rendered = self.renderer.render(digest, links, settings.intro, settings.footer, web_view=True)
        return rendered.html

    def _profile(self, address: str) -> Profile:
        """The address's profile as it is now (its name and note); a bare one when none lists it."""
        settings = self.site.settings
        try:
            found = profile_for(settings.profiles_dir, address, settings.state_dir / CACHE_FILE)
        except ConfigError:
            found = None
        return found or Profile(f"{address}.yaml", (address,))

    def _links(
        self, address: str, now: dt.datetime, day: dt.date | None = None, matches: Sequence[Match] = ()
    ) -> Links:
        """The links of a digest; on its own web page, no "view in your browser" link."""
        settings, secret = self.site.settings, self.site.secret
        links = digest_links(settings, secret, address, day or now.date(), now, matches)
        return replace(links, web="")

    def _view_path(self, address: str, edition: str, now: dt.datetime) -> str:
        return f"/digest/{edition}/{sign(self.site.secret, f'view:{edition}', address, issued=now)}"
