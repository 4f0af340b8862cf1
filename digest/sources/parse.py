"""Bytes → papers. The only module that imports feedparser; nothing past here sees its dicts."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from typing import Any

import feedparser

from ..errors import SourceError
from ..models import Paper
from . import arxiv, hf
from .text import decode_tex_accents, html_to_text, split_authors, squash


def parse_listing(body: bytes, source: str) -> list[Paper]:
    """The papers of a feed or JSON listing; SourceError when it holds no listing at all."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        return _parse_json(body, source)
    # Sanitizing would eat maths such as `$0<p<1$` in arXiv abstracts; we clean text ourselves.
    feed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    if not feed.entries:
        if not feed.get("version"):
            reason = feed.get("bozo_exception") or "no RSS or Atom document found"
            raise SourceError(f"not a feed: {reason}")
        return []  # an empty listing (an arXiv weekend) is not an error
    papers = [_paper(entry, source) for entry in feed.entries if entry.get("title")]
    return [paper for paper in papers if paper is not None]


def _parse_json(body: bytes, source: str) -> list[Paper]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"invalid JSON: {exc}") from exc
    return hf.papers_from_daily(data, source)


def _paper(entry: Any, source: str) -> Paper | None:
    guid, link = str(entry.get("id") or ""), str(entry.get("link") or "")
    if "arxiv.org/api/errors" in guid:
        raise SourceError(f"arXiv answered with an error: {squash(entry.get('summary', ''))}")
    listing_id = arxiv.id_from_guid(guid)
    arxiv_id = listing_id or arxiv.id_from_url(link) or arxiv.id_from_url(guid)
    if listing_id:
        # arXiv labels its descriptions text/html, but they are plain text with TeX in them.
        abstract = squash(arxiv.strip_announce_prefix(entry.get("summary", "")))
        authors = split_authors(entry.get("author", ""))
    else:
        abstract = _text(entry, "summary")
        authors = tuple(
            squash(decode_tex_accents(html_to_text(a["name"])))
            for a in entry.get("authors", ())
            if a.get("name")
        )
    return Paper(
        id=arxiv_id or guid or link or _title_hash(entry),
        title=_text(entry, "title"),
        abstract=abstract,
        authors=authors,
        url=link or (arxiv.abs_url(arxiv_id) if arxiv_id else ""),
        pdf_url=arxiv.pdf_url(arxiv_id) if arxiv_id else None,
        categories=tuple(t["term"] for t in entry.get("tags", ()) if t.get("term")),
        published=_published(entry),
        announce_type=entry.get("arxiv_announce_type"),
        sources=(source,),
    )


def _text(entry: Any, key: str) -> str:
    value = str(entry.get(key) or "")
    detail = entry.get(f"{key}_detail")
    if detail is None and entry.get("content"):  # Atom: a summary copied from <content>
        detail = entry["content"][0]
    kind = (detail or {}).get("type", "text/plain")
    return html_to_text(value) if "html" in kind else squash(value)


def _published(entry: Any) -> dt.datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)


def _title_hash(entry: Any) -> str:
    return "sha1:" + hashlib.sha1(str(entry.get("title")).encode()).hexdigest()[:16]
