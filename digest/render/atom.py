"""A subscriber's sent papers → their personal Atom feed (feedgen writes the XML).

Each entry is one paper, once: the ledger never sends a paper twice to an address, so its id
(`tag:` of the site's host, the edition's date and the paper id) is stable and unique, and a
feed reader never shows a paper again when the feed is fetched again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

from ..models import SentPaper
from .filters import safe_url
from .renderer import environments
from .views import paper_view

ENTRY_TEMPLATE = "feed-entry.html.j2"
WHOLE_ABSTRACT = 100_000
# XML 1.0 allows no control characters but tab, newline and return: lxml refuses the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class FeedLinks:
    """Where the feed lives (its self link) and the page it stands beside (the archive)."""

    self_url: str
    archive_url: str


class AtomFeeds:
    """Renders personal feeds with one set of templates; build it once."""

    def __init__(self, site_title: str, templates_dir: Path | None = None) -> None:
        self.site_title = site_title
        self.entry = environments(templates_dir)[0].get_template(ENTRY_TEMPLATE)

    def render(self, papers: list[SentPaper], links: FeedLinks, quiet_since: dt.datetime) -> bytes:
        """The feed document; `quiet_since` is its `updated` while no edition was sent yet."""
        feed = FeedGenerator()
        host = urlsplit(links.self_url).hostname or "localhost"
        feed.id(f"tag:{host},2026:feed/{quote(urlsplit(links.self_url).path.rsplit('/', 1)[-1])}")
        feed.title(f"{self.site_title}: your papers")
        feed.subtitle("The papers of your recent digests, newest first, each with why it was picked.")
        feed.link(href=links.self_url, rel="self", type="application/atom+xml")
        feed.link(href=links.archive_url, rel="alternate", type="text/html")
        feed.generator("digest")
        feed.updated(max((p.sent_at for p in papers), default=quiet_since))
        for sent in papers:
            self._entry(feed, sent, host)
        document: bytes = feed.atom_str(pretty=True)
        return document

    def _entry(self, feed: FeedGenerator, sent: SentPaper, host: str) -> None:
        paper = sent.match.paper
        entry = feed.add_entry(order="append")
        entry.id(f"tag:{host},{sent.edition}:paper/{quote(paper.id, safe='/.')}")
        entry.title(_xml_text(paper.title))
        entry.updated(sent.sent_at)
        entry.published(sent.sent_at)
        for author in paper.authors or ("Unknown",):
            entry.author({"name": _xml_text(author)})
        for label, url in (("alternate", paper.url), ("related", paper.pdf_url), ("related", paper.hf_url)):
            if safe_url(url):
                entry.link(href=url, rel=label)
        for category in paper.categories:
            entry.category(term=_xml_text(category))
        whole = paper_view(sent.match, abstract_chars=WHOLE_ABSTRACT)  # a feed reader has the room
        entry.content(_xml_text(self.entry.render(item=whole, edition=sent.edition)), type="html")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)
