"""An edition's page on the web ("View in your browser"): the reader's digest as the email
shows it, rendered by the email's renderer, with every paper the edition matched.

The archive keeps which papers an edition matched for an address, not why: the reasons and
highlights are found again by matching those papers against the reader's profile as it is now.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

from ..config.profiles import profile_for
from ..matching import PaperIndex, compile_profile, select
from ..models import Digest, Match, Profile, Settings
from ..render.renderer import Renderer
from ..store import PaperArchive
from .composing import Composer
from .subscriptions import profiles_cache


class EditionPages:
    """Renders edition pages with one renderer (its paper blocks are shared), one page at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.renderer = Renderer(settings.title, settings.templates_dir)
        self.lock = threading.Lock()  # the renderer's memos are not made for several threads

    def page(self, db: sqlite3.Connection, address: str, edition: str) -> str | None:
        """The page of `edition` for `address`; None when the archive no longer has its papers."""
        papers = PaperArchive(db).edition_papers(address, edition)
        if not papers:
            return None
        profile = profile_for(self.settings.profiles_dir, address, profiles_cache(self.settings))
        profile = profile or Profile(self.settings.profiles_dir / "none.yaml", (address,))
        compiled = compile_profile(profile)
        why = {m.paper.id: m for m in select(compiled, PaperIndex(papers, [compiled]))}
        matches = tuple(why.get(paper.id, Match(paper, 0.0, ())) for paper in papers)
        digest = Digest(dt.date.fromisoformat(edition), profile, address, matches)
        settings = self.settings
        with self.lock:
            composer = Composer(settings, dt.datetime.now(dt.UTC), self.renderer)
            links = composer.links(address, digest.edition, matches)
            rendered = self.renderer.render(digest, links, settings.intro, settings.footer, web_view=True)
        return rendered.html
