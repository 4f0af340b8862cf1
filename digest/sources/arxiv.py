"""arXiv specifics: canonical ids, links, and the text conventions of its listing feeds."""

from __future__ import annotations

import re

# New-style ids (2604.22002) and old-style ids (hep-th/9901001, math.PR/0601001), version apart.
_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?")
_ABS_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/" + _ID.pattern)
_ANNOUNCE_PREFIX = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.IGNORECASE)


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


def abs_url(paper_id: str) -> str:
    return f"https://arxiv.org/abs/{paper_id}"


def pdf_url(paper_id: str) -> str:
    return f"https://arxiv.org/pdf/{paper_id}"


def strip_announce_prefix(abstract: str) -> str:
    """Drop the `arXiv:… Announce Type: new Abstract:` preamble of listing-feed descriptions."""
    return _ANNOUNCE_PREFIX.sub("", abstract, count=1)
