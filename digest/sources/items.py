"""Per-item isolation: one bad entry of a listing is skipped with a warning naming it; the others are kept."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import SourceError
from ..models import Paper

T = TypeVar("T")
LABEL_LENGTH = 80
REASON_LENGTH = 200


@dataclass(frozen=True)
class Parsed:
    """What one document held: its papers, how many items it had, and anything worth a warning."""

    papers: list[Paper]
    items: int
    warnings: list[str] = field(default_factory=list)


def papers_of(items: Iterable[T], convert: Callable[[T], Paper | None], source: str) -> Parsed:
    """Each item converted; one that raises is skipped with a warning, one that gives None dropped."""
    papers, warnings, count = [], [], 0
    for count, item in enumerate(items, 1):
        try:
            paper = convert(item)
        except (SourceError, MemoryError):
            raise  # about the whole document (an arXiv error entry), or the machine
        except Exception as error:  # feed data breaks library code in ways no list could foresee
            warnings.append(f"source {source}: item {count} ({label(item)}) skipped: {describe(error)}")
            continue
        if paper is not None:
            papers.append(paper)
    return Parsed(papers, count, warnings)


def describe(error: BaseException) -> str:
    """An exception as one short line: its type and its message."""
    message = " ".join(str(error).split())
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return shorten(text, REASON_LENGTH)


def label(item: Any) -> str:
    """How a person finds an item in its document: its id, else its title."""
    fields = item.get("paper") if isinstance(item, dict) and isinstance(item.get("paper"), dict) else item
    for key in ("id", "doi", "title"):
        value = fields.get(key) if isinstance(fields, dict) else getattr(fields, key, None)
        if isinstance(value, str | int) and str(value).strip():
            return shorten(" ".join(str(value).split()), LABEL_LENGTH)
    return "no id or title"


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
