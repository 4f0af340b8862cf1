"""Filters the templates use: short author lists, safe links, word wrap."""

from __future__ import annotations

import functools
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
    """Jinja's wordwrap, greedy on spaces: textwrap cost more than the rest of the text part."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return (wrapstring or "\n").join(lines)
