"""Google Scholar alert emails (their HTML body): one paper per `a.gse_alrt_title`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from ..errors import SourceError
from ..models import Paper
from . import arxiv
from .items import Parsed, describe, papers_of
from .text import clean_names, squash, unwrap_redirect, web_url

# Names and venue are parted by " - ", whose first space is often a no-break space.
_BYLINE_PARTS = re.compile(r"\s-\s")


def is_scholar_alert(body: bytes) -> bool:
    return b"gse_alrt_title" in body[:200_000]


def papers_from_alert(body: bytes, source: str) -> Parsed:
    """The papers of an alert; markup the HTML parser chokes on ends the reading, not the papers before it."""
    reader = _AlertReader()
    problem = None
    try:
        reader.feed(body.decode("utf-8", errors="replace"))
        reader.close()
    except MemoryError:
        raise
    except Exception as exc:  # html.parser asserts on `<![<`; its other failures are as unforeseeable
        problem = describe(exc)
    if problem and not reader.hits:
        raise SourceError(f"cannot read this Scholar alert: {problem}")
    parsed = papers_of(reader.hits, lambda hit: hit.paper(source) if hit.title else None, source)
    if problem:
        parsed.warnings.insert(0, f"stopped reading at malformed markup ({problem})")
    return parsed


@dataclass
class _Hit:
    href: str  # as the alert has it: made a web link per paper, so that a broken one costs one paper
    title: str = ""
    byline: str = ""  # "Z Chen, S Kommrusch - arXiv preprint arXiv:1912.02015, 2019"
    snippet: str = ""

    def paper(self, source: str) -> Paper:
        names, venue = _byline_parts(self.byline)
        url = web_url(unwrap_redirect(self.href))
        arxiv_id = arxiv.id_from_url(url) or _arxiv_in(venue)
        return Paper(
            id=arxiv_id or url,
            title=squash(self.title),
            abstract=squash(self.snippet),
            authors=clean_names(n.strip(" …") for n in names.split(",")),
            url=arxiv.abs_url(arxiv_id) if arxiv_id else url,
            pdf_url=arxiv.pdf_url(arxiv_id) if arxiv_id else None,
            sources=(source,),
        )


def _byline_parts(byline: str) -> tuple[str, str]:
    """'Z Chen, M Monperrus - arXiv preprint arXiv:1912.02015, 2019' → the names, the venue."""
    names, *venue = _BYLINE_PARTS.split(byline, maxsplit=1)
    return names, venue[0] if venue else ""


def _arxiv_in(venue: str) -> str | None:
    match = re.search(r"arXiv:(\d{4}\.\d{4,5})", venue)
    return match.group(1) if match else None


class _AlertReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hits: list[_Hit] = []
        self.target: str | None = None  # which field of the current hit the text belongs to

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = attributes.get("class") or ""
        if tag == "a" and "gse_alrt_title" in classes:
            self.hits.append(_Hit(attributes.get("href") or ""))
            self.target = "title"
        elif self.hits and tag == "div" and "gse_alrt_sni" in classes:
            self.target = "snippet"
        elif self.hits and tag == "div" and "#006621" in (attributes.get("style") or ""):
            self.target = "byline"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "div"):
            self.target = None

    def handle_data(self, data: str) -> None:
        if self.target and self.hits:
            hit = self.hits[-1]
            setattr(hit, self.target, getattr(hit, self.target) + data)
