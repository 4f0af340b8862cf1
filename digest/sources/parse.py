"""Bytes → papers. The only module that imports feedparser; nothing past here sees its dicts."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import feedparser

from ..errors import SourceError
from ..models import Paper
from . import arxiv, biorxiv, hf, scholar
from .items import Parsed, describe, papers_of
from .sniff import EXPECTED, not_a_listing
from .text import clean_names, html_to_text, split_authors, squash, unwrap_redirect, web_url

_HF_MIRROR = re.compile(
    r"^Authors:\s*(?P<authors>.*?)\s+Upvotes:\s*(?P<upvotes>\d+)\b.*?Summary:\s*", re.DOTALL
)


__all__ = ["Parsed", "detect", "parse_listing"]


def parse_listing(body: bytes, source: str, kind: str = "auto") -> Parsed:
    """The papers of a listing in any supported format; SourceError when it holds no listing."""
    kind = detect(body) if kind == "auto" else kind
    what = not_a_listing(body) if kind != "scholar-alert" else None  # an alert is an HTML page
    if what:
        raise SourceError(f"not a feed: {what} ({EXPECTED})")
    if kind in ("huggingface", "biorxiv"):
        return _parse_json(body, source, kind)
    if kind == "scholar-alert":
        return scholar.papers_from_alert(body, source)
    return _parse_feed(body, source)


def detect(body: bytes) -> str:
    """The format of a document, from its content (file names and Content-Types lie)."""
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"[":
        return "huggingface"
    if start == b"{":
        return "biorxiv" if b'"collection"' in body else "huggingface"
    return "scholar-alert" if scholar.is_scholar_alert(body) else "feed"


def _parse_json(body: bytes, source: str, kind: str) -> Parsed:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # bad bytes, bad syntax, 4,301 digits, deep nesting
        raise SourceError(f"invalid JSON: {describe(exc)}") from exc
    if kind == "biorxiv" and isinstance(data, dict):
        return biorxiv.papers_from_details(data, source)
    return hf.papers_from_daily(data, source)


def _parse_feed(body: bytes, source: str) -> Parsed:
    try:
        # Sanitizing would eat maths such as `$0<p<1$` in arXiv abstracts; we make text ourselves.
        feed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    except (SourceError, MemoryError):
        raise
    except Exception as exc:  # feedparser's own bugs on hostile bytes: charrefs, encodings, stray tags
        raise SourceError(f"cannot read this feed: {describe(exc)}") from exc
    problem = feed.get("bozo_exception")
    if not feed.entries:
        if not feed.get("version"):
            raise SourceError(f"not a feed: {problem or 'no RSS or Atom document found'}")
        if feed.get("bozo") and not isinstance(problem, feedparser.CharacterEncodingOverride):
            raise SourceError(f"malformed feed with no items: {problem}")
        return Parsed([], 0)  # an empty listing (an arXiv weekend) is not an error
    parsed = papers_of(feed.entries, _FeedContext(source, feed.feed).paper, source)
    if feed.get("bozo"):
        parsed.warnings.insert(0, f"recovered from a malformed document ({problem})")
    return parsed


@dataclass(frozen=True)
class _FeedContext:
    """What a feed says about all of its entries: its flavour and its date."""

    source: str
    feed: Any

    def paper(self, entry: Any) -> Paper | None:
        guid, link = str(entry.get("id") or ""), web_url(unwrap_redirect(str(entry.get("link") or "")))
        if "arxiv.org/api/errors" in guid:
            raise SourceError(f"arXiv answered with an error: {squash(entry.get('summary', ''))}")
        fields = self._generic(entry, guid, link)
        if arxiv.is_listing_entry(entry):
            fields.update(arxiv.listing_fields(entry))
        elif arxiv.is_old_listing(self.feed):
            fields.update(arxiv.old_listing_fields(entry, fields["title"]))
        elif arxiv.is_api_response(self.feed):
            fields.update(arxiv.api_fields(entry))
        _hf_mirror(fields)
        return _finish(fields)

    def _generic(self, entry: Any, guid: str, link: str) -> dict[str, Any]:
        doi = biorxiv.doi_id(str(entry.get("prism_doi") or entry.get("dc_identifier") or ""))
        return {
            "id": arxiv.id_from_url(link) or arxiv.id_from_url(guid) or doi or guid or link,
            "title": _text(entry, "title"),
            "abstract": _text(entry, "summary"),
            "authors": _authors(entry),
            "url": link,
            "categories": tuple(t["term"] for t in entry.get("tags", ()) if t.get("term")),
            "published": _date(entry) or _date(self.feed),
            "sources": (self.source,),
        }


def _finish(fields: dict[str, Any]) -> Paper | None:
    """A paper from the fields gathered, with arXiv links where the id is an arXiv id."""
    if not (fields["title"] or fields["abstract"] or fields["url"]):
        return None  # nothing a reader could use
    if not fields["title"]:
        fields["title"] = fields["abstract"][:120] or fields["url"]
    if not fields["id"]:
        fields["id"] = "sha1:" + hashlib.sha1(fields["title"].encode()).hexdigest()[:16]
    if arxiv.is_id(fields["id"]):
        fields["url"] = arxiv.abs_url(fields["id"])
        fields.setdefault("pdf_url", arxiv.pdf_url(fields["id"]))
    return Paper(**fields)


def _hf_mirror(fields: dict[str, Any]) -> None:
    """RSS mirrors of Hugging Face Daily Papers put authors and upvotes in the description."""
    match = _HF_MIRROR.match(fields["abstract"])
    if match:
        fields["authors"] = fields["authors"] or split_authors(match["authors"])
        fields["upvotes"] = int(match["upvotes"])
        fields["abstract"] = fields["abstract"][match.end() :]


def _authors(entry: Any) -> tuple[str, ...]:
    names = [html_to_text(a["name"]) for a in entry.get("authors", ()) if a.get("name")]
    if len(names) == 1 and "," in names[0]:
        return split_authors(names[0])  # one string for everybody (bioRxiv, arXiv listings)
    return clean_names(names)


def _text(entry: Any, key: str) -> str:
    value = str(entry.get(key) or "")
    detail = entry.get(f"{key}_detail")
    if detail is None and entry.get("content"):  # Atom: a summary copied from <content>
        detail = entry["content"][0]
    kind = (detail or {}).get("type", "text/plain")
    return html_to_text(value) if "html" in kind else squash(value)


def _date(item: Any) -> dt.datetime | None:
    # dict.get, not feedparser's: its get("updated_parsed") falls back to a published_parsed
    # of None with a DeprecationWarning, which stops a run where warnings are errors.
    parsed = dict.get(item, "published_parsed") or dict.get(item, "updated_parsed")
    if not parsed:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None  # year 0 or 10000: a date no one meant, which should not cost the paper
