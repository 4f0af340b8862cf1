"""A profile's `like:` and `dislike:` lists: paper ids, normalized the way sources name papers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..models import paper_id_of
from . import yamlfile
from .yamlfile import Document, KeyPath

SIMILARITIES = ("strict", "normal", "loose")
# Enough for any reader's taste; a longer list is a pasted library, slow to train on every run.
MAX_VOTES = 1000


def votes(doc: Document, data: dict[str, Any], key: str) -> dict[str, KeyPath]:
    """The canonical ids of the list `key`, once each, with where each stands; every entry that is
    no id is a problem."""
    entries = _entries(doc, data, key)
    if len(entries) > MAX_VOTES:
        hint = "keep the papers that matter most"
        doc.problem((key,), f"{len(entries)} entries, at most {MAX_VOTES}", hint)
        return {}
    ids: dict[str, KeyPath] = {}
    for path, text in entries:
        paper_id = paper_id_of(text)
        if paper_id is None:
            hint = "an arXiv id (2406.10670, arXiv:2305.10429v2, an abs URL) or a DOI (10.1101/…)"
            doc.problem(path, f"'{text}' is not a paper id", hint)
        else:
            ids.setdefault(paper_id, path)
    return ids


def _entries(doc: Document, data: dict[str, Any], key: str) -> list[tuple[KeyPath, str]]:
    """Each entry of `key` as written, with its key path; a number keeps the text YAML read it from."""
    value = data.get(key)
    listed = isinstance(value, list)
    if value is not None and not listed and not isinstance(value, str | int | float):
        doc.problem((key,), "expected a list of paper ids")
        return []
    items: list[Any] = [] if value is None else value if isinstance(value, list) else [value]
    entries = []
    for index, item in enumerate(items):
        path: KeyPath = (key, index) if listed else (key,)
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            doc.problem(path, "expected a paper id as text")
            continue
        entries.append((path, doc.numbers.get(path, str(item))))
    return entries


def both_ways_problems(doc: Document, like: dict[str, KeyPath], dislike: dict[str, KeyPath]) -> None:
    """A problem for each paper both liked and disliked: which one the reader meant is unknown."""
    for paper_id, path in dislike.items():
        if paper_id in like:
            where = f"line {doc.line(like[paper_id])}"
            doc.problem(path, f"{paper_id} is also in like ({where})", "keep it in one of the two lists")


def vote_positions(path: Path, key: str) -> dict[str, tuple[int | None, str]]:
    """Each id the profile file `path` lists under `key`, with its line and key path: the file is
    read once however many ids are asked about (a list can hold 1,000)."""
    doc = yamlfile.load(path)
    data = doc.data if isinstance(doc.data, dict) else {}
    positions: dict[str, tuple[int | None, str]] = {}
    for entry_path, text in _entries(doc, data, key):
        paper_id = paper_id_of(text)
        if paper_id is not None:
            positions.setdefault(paper_id, (doc.line(entry_path), yamlfile.format_key(entry_path)))
    return positions
