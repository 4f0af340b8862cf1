"""A reader's votes written into their profile: `like:` and `dislike:` lists, comments kept.

A vote for a paper already in that list changes nothing; a vote against an earlier one moves
the paper from the other list; a vote taken back (an undo, a remove on the manage page) takes
it out of both. The file is edited by the same round-trip writer as the manage
page (profile_edits), so it is checked to read back before it replaces the old one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import ConfigError, Problem
from ..models import Profile, paper_id_of
from .liked_papers import MAX_VOTES
from .profile_edits import _edit, _file_lock
from .profiles import load_profile

OPPOSITE = {"like": "dislike", "dislike": "like"}
Choice = Literal["like", "dislike", "none"]


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
        voted = Voted(new, tuple(i for i in new if i in other), tuple(i for i in ids if i in listed))
        if new:
            _add(before, key, new)
    return voted


def withdraw(path: Path, written: Sequence[str]) -> tuple[str, ...]:
    """Take papers out of the profile's `like:` and `dislike:` lists; the ids that were there."""
    ids = _normalized(path, written)
    with _file_lock(path):
        return _withdraw(load_profile(path), ids)


def set_vote(path: Path, paper_id: str, choice: Choice) -> Choice:
    """Make one paper liked, disliked or neither (`none`); what it was before. Setting what
    is already there writes nothing, so a vote repeated or replayed changes nothing."""
    with _file_lock(path):
        before = load_profile(path)
        was = choice_of(before, paper_id)
        if choice == "none":
            _withdraw(before, (paper_id,))
        elif choice != was:
            _add(before, choice, (paper_id,))
    return was


def choice_of(profile: Profile, paper_id: str) -> Choice:
    """Whether `profile` likes, dislikes or has no vote for the paper."""
    return "like" if paper_id in profile.like else "dislike" if paper_id in profile.dislike else "none"


def _add(before: Profile, key: str, new: tuple[str, ...]) -> None:
    listed, other = getattr(before, key), getattr(before, OPPOSITE[key])
    if len(listed) + len(new) > MAX_VOTES:
        what = f"not saved: {key} would hold {len(listed) + len(new)} papers, at most {MAX_VOTES}"
        raise ConfigError([Problem(before.path, None, key, what)])
    kept = tuple(i for i in other if i not in new)
    expected = dataclasses.replace(before, **{key: listed + new, OPPOSITE[key]: kept})
    _edit(before, expected, _voter(key, new))


def _withdraw(before: Profile, ids: tuple[str, ...]) -> tuple[str, ...]:
    gone = tuple(i for i in ids if i in before.like or i in before.dislike)
    if gone:
        expected = dataclasses.replace(
            before,
            like=tuple(i for i in before.like if i not in gone),
            dislike=tuple(i for i in before.dislike if i not in gone),
        )
        _edit(before, expected, _remover(gone))
    return gone


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


def _remover(ids: tuple[str, ...]) -> Any:
    def change(data: CommentedMap, before: Any) -> None:
        for key in OPPOSITE:
            _drop(data, key, ids)

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
