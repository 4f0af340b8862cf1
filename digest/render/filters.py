"""Filters the templates use: short author lists, safe links, word wrap."""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

MAX_AUTHORS = 8


def short_authors(authors: tuple[str, ...]) -> str:
    if len(authors) <= MAX_AUTHORS:
        return ", ".join(authors)
    return ", ".join(authors[:MAX_AUTHORS]) + f" et al. ({len(authors)} authors)"


@functools.lru_cache(maxsize=65_536)  # the same paper links in many digests
def safe_url(url: str | None) -> str:
    """The URL if it is a plain web link; "" for javascript:, data: and anything else."""
    if not url or any(c in url for c in "\r\n\0 "):
        return ""
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def wrap(text: str, width: int = 79, break_long_words: bool = True, wrapstring: str | None = None,
         break_on_hyphens: bool = True) -> str:  # fmt: skip
    """Jinja's wordwrap, greedy on spaces: textwrap cost more than the rest of the text part.

    Words are never broken; one longer than the width has a line of its own."""
    line = _line_of(width)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(line.findall(" ".join(paragraph.split())) or [""])
    return (wrapstring or "\n").join(lines)


@functools.cache
def _line_of(width: int) -> re.Pattern[str]:
    """The longest run of whole words that fits the width, or one word too long to fit."""
    return re.compile(rf"\S(?:.{{0,{max(width - 2, 0)}}}\S)?(?=\s|$)|\S+")
