"""arXiv: canonical ids, links, and the conventions of its three feed flavours.

Listing feeds (rss.arxiv.org, 2024+, RSS or Atom) carry `oai:arXiv.org:<id>vN` guids, one
comma-joined author string and a description prefixed `arXiv:<id>vN Announce Type: … Abstract:`.
The old RSS 1.0 listing puts the id, primary category and UPDATED/CROSS LISTED in the title.
The query API gives one <author> per name and a primary category of its own.
"""

from __future__ import annotations

import re
from typing import Any

from .text import clean_names, html_to_text, split_authors, squash

# New-style ids (2604.22002) and old-style ids (hep-th/9901001, math.PR/0601001), version apart.
_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?")
# arXiv itself and the mirrors whose paper URLs end in the arXiv id.
_ABS_URL = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers|tldr\.takara\.ai/p|alphaxiv\.org/abs)/" + _ID.pattern
)
_ANNOUNCE_PREFIX = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.IGNORECASE)
_OLD_TITLE = re.compile(
    r"^(?P<title>.*?)\.?\s*\(arXiv:(?P<id>\S+?)(?:v\d+)?\s*\[(?P<category>[^\]]+)\]"
    r"(?:\s*(?P<kind>UPDATED|CROSS LISTED))?\)\s*$",
    re.DOTALL,
)
_OLD_KINDS = {None: "new", "UPDATED": "replace", "CROSS LISTED": "cross"}


def id_from_guid(guid: str) -> str | None:
    """oai:arXiv.org:2604.22002v1 → 2604.22002."""
    if guid.lower().startswith("oai:arxiv.org:"):
        match = _ID.fullmatch(guid.split(":", 2)[2])
        return match.group(1) if match else None
    return None


def id_from_url(url: str) -> str | None:
    """https://arxiv.org/abs/2604.22002v2 → 2604.22002."""
    match = _ABS_URL.search(url)
    return match.group(1) if match else None


def is_id(text: str) -> bool:
    match = _ID.fullmatch(text)
    return match is not None and match.group(2) is None


def abs_url(paper_id: str) -> str:
    return f"https://arxiv.org/abs/{paper_id}"


def pdf_url(paper_id: str) -> str:
    return f"https://arxiv.org/pdf/{paper_id}"


def is_listing_entry(entry: Any) -> bool:
    return id_from_guid(str(entry.get("id") or "")) is not None


def is_old_listing(feed: Any) -> bool:
    return str(feed.get("title", "")).endswith("updates on arXiv.org")


def is_api_response(feed: Any) -> bool:
    return "arxiv.org/api" in str(feed.get("id", "")) or "opensearch_totalresults" in feed


def strip_announce_prefix(abstract: str) -> str:
    """Drop the `arXiv:… Announce Type: new Abstract:` preamble of listing-feed descriptions."""
    return _ANNOUNCE_PREFIX.sub("", abstract, count=1)


def listing_fields(entry: Any) -> dict[str, Any]:
    """A 2024+ listing item: its descriptions are plain text with TeX, whatever their label says."""
    paper_id = id_from_guid(str(entry["id"]))
    return {
        "id": paper_id,
        "abstract": squash(strip_announce_prefix(str(entry.get("summary", "")))),
        "authors": split_authors(str(entry.get("author", ""))),
        "announce_type": entry.get("arxiv_announce_type"),
    }


def old_listing_fields(entry: Any, title: str) -> dict[str, Any]:
    """An RSS 1.0 item: `Title. (arXiv:1209.2411v1 [math.PR] UPDATED)`, authors as HTML links."""
    fields: dict[str, Any] = {"authors": split_authors(html_to_text(str(entry.get("author", ""))))}
    match = _OLD_TITLE.match(title)
    if match:
        fields.update(
            id=match["id"],
            title=squash(match["title"]),
            categories=(match["category"],),
            announce_type=_OLD_KINDS[match["kind"]],
        )
    return fields


def api_fields(entry: Any) -> dict[str, Any]:
    """A query API entry: one <author> each, the primary category first.

    Its own PDF link names a version (v1); it is left out so that every source links the
    versionless PDF, the latest revision, as the abstract link does.
    """
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    tags = [t["term"] for t in entry.get("tags", ()) if t.get("term")]
    return {
        "authors": clean_names(a.get("name", "") for a in entry.get("authors", ())),
        "categories": tuple(dict.fromkeys([primary, *tags] if primary else tags)),
    }
