"""The Hugging Face Daily Papers JSON API, normalized into papers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import SourceError
from ..models import Paper
from . import arxiv
from .items import Parsed, papers_of
from .text import squash, web_url


def papers_from_daily(data: Any, source: str) -> Parsed:
    """Papers of a daily_papers response: a list of {paper: {...}, ...} objects."""
    if not isinstance(data, list):
        raise SourceError("not a Hugging Face Daily Papers listing (expected a JSON list)")
    parsed = papers_of(data, lambda item: _daily_paper(item, source), source)
    if data and not parsed.papers:
        why = f" ({parsed.warnings[0]})" if parsed.warnings else ""
        raise SourceError(f"no paper in this JSON list looks like a Hugging Face daily paper{why}")
    return parsed


def _daily_paper(item: Any, source: str) -> Paper | None:
    """The paper of one list item; None for items that are not papers at all."""
    paper = item.get("paper") if isinstance(item, dict) else None
    if isinstance(paper, dict) and paper.get("id") and paper.get("title"):
        return _paper(paper, source, item)
    return None


def _paper(paper: dict[str, Any], source: str, item: dict[str, Any]) -> Paper:
    paper_id = str(paper["id"])
    authors = tuple(
        squash(a["name"]) for a in paper.get("authors") or () if a.get("name") and not a.get("hidden")
    )  # a list of {name, hidden} objects: anything else raises, and papers_of skips the paper
    upvotes = paper.get("upvotes")
    return Paper(
        id=paper_id,
        title=squash(str(paper["title"])),
        abstract=squash(str(paper.get("summary") or "")),
        authors=authors,
        url=arxiv.abs_url(paper_id),
        pdf_url=arxiv.pdf_url(paper_id),
        published=_timestamp(paper.get("publishedAt")),
        upvotes=upvotes if isinstance(upvotes, int) else None,
        hf_url=f"https://huggingface.co/papers/{paper_id}",
        code_url=web_url(str(paper.get("githubRepo") or "")) or None,
        sources=(source,),
        ai_summary=squash(str(paper.get("ai_summary") or item.get("ai_summary") or "")) or None,
        organization=_organization(item.get("organization") or paper.get("organization")),
    )


def _organization(found: Any) -> str | None:
    """An organization's full name (or its short one); None when the item names none."""
    if not isinstance(found, dict):
        return None
    return squash(str(found.get("fullname") or found.get("name") or "")) or None


def _timestamp(text: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
