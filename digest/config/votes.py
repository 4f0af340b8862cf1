"""A reader's votes written into their profile: `like:` and `dislike:` lists, comments kept.

A vote for a paper already in that list changes nothing; a vote against an earlier one moves
the paper from the other list. The file is edited by the same round-trip writer as the manage
page (profile_edits), so it is checked to read back before it replaces the old one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import ConfigError, Problem
from ..models import paper_id_of
from .liked_papers import MAX_VOTES
from .profile_edits import _edit, _file_lock
from .profiles import load_profile

OPPOSITE = {"like": "dislike", "dislike": "like"}


@dataclasses.dataclass(frozen=True)
class Voted:
    """What a vote changed: ids added to the list, ids moved from the other list, ids already there."""

    added: tuple[str, ...]
    moved: tuple[str, ...]
    unchanged: tuple[str, ...]


def vote(path: Path, key: str, written: Sequence[str]) -> Voted:
    """Add the papers `written` (ids in any accepted form) to the profile's `key` list."""
    ids = _normalized(path, written)
    with _file_lock(path):
        before = load_profile(path)  # under the lock: the version this edit starts from
        listed, other = getattr(before, key), getattr(before, OPPOSITE[key])
        new = tuple(i for i in ids if i not in listed)
        if len(listed) + len(new) > MAX_VOTES:
            what = f"not saved: {key} would hold {len(listed) + len(new)} papers, at most {MAX_VOTES}"
            raise ConfigError([Problem(path, None, key, what)])
        voted = Voted(new, tuple(i for i in new if i in other), tuple(i for i in ids if i in listed))
        if new:
            kept = tuple(i for i in other if i not in new)
            expected = dataclasses.replace(before, **{key: listed + new, OPPOSITE[key]: kept})
            _edit(before, expected, _voter(key, new))
    return voted


def _normalized(path: Path, written: Sequence[str]) -> tuple[str, ...]:
    ids, problems = [], []
    for text in written:
        paper_id = paper_id_of(text)
        if paper_id is None:
            problems.append(Problem(path, None, "", f"'{text}' is not a paper id", _HINT))
        else:
            ids.append(paper_id)
    if problems:
        raise ConfigError(problems)
    return tuple(dict.fromkeys(ids))


_HINT = "an arXiv id (2406.10670, arXiv:2305.10429v2, an abs URL) or a DOI (10.1101/…)"


def _voter(key: str, new: tuple[str, ...]) -> Any:
    def change(data: CommentedMap, before: Any) -> None:
        listed = data.get(key)
        if isinstance(listed, list):
            listed.extend(new)
        else:  # absent, or one id written without a list
            data[key] = CommentedSeq([*([str(listed)] if listed is not None else []), *new])
        _drop(data, OPPOSITE[key], new)

    return change


def _drop(data: CommentedMap, key: str, ids: tuple[str, ...]) -> None:
    """Take `ids` out of the list `key`; a list left empty goes with its key."""
    listed = data.get(key)
    if not isinstance(listed, list):
        if listed is not None and _is_one_of(listed, ids):
            del data[key]
        return
    for index in reversed(range(len(listed))):
        if _is_one_of(listed[index], ids):
            del listed[index]
    if not listed:
        del data[key]


def _is_one_of(entry: Any, ids: tuple[str, ...]) -> bool:
    # An unquoted 2406.10670 is a float to YAML (2406.1067): compared as a number, it still meets its id.
    if isinstance(entry, float):
        return any(_as_number(i) == entry for i in ids)
    return paper_id_of(str(entry)) in ids


def _as_number(paper_id: str) -> float | None:
    try:
        return float(paper_id)
    except ValueError:
        return None
