"""Keywords of one or two characters: valid, but most match nearly every paper of the archive."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DigestError
from ..matching import PaperIndex, compile_profile, compile_term
from ..models import Paper, Profile, Settings
from .selection import archived
from .state import database_path

MAX_CHARACTERS = 2  # letters and digits; "AI" and "a" are short, "GPT" is not
MOST = 0.5  # a share of the archive from which a keyword selects more than it leaves out


@dataclass(frozen=True)
class ShortKeyword:
    profile: Profile
    index: int  # in profile.keywords
    share: float | None  # of the archived papers it matches; None: no archive to measure by
    archived: int


def short_keywords(settings: Settings, profiles: Sequence[Profile]) -> list[ShortKeyword]:
    """The short keywords that match most of the archive, or every one when there is no archive."""
    found = [(p, i) for p in profiles for i, k in enumerate(p.keywords) if _is_short(k)]
    if not found:
        return []
    papers = _archived_papers(settings)
    if not papers:
        return [ShortKeyword(profile, index, None, 0) for profile, index in found]
    words = tuple({profile.keywords[index] for profile, index in found})
    index = PaperIndex(papers, [compile_profile(Profile(str(settings.path), (), keywords=words))])
    share = {word: len(index.papers_with(compile_term(word))) / len(papers) for word in words}
    measured = [ShortKeyword(p, i, share[p.keywords[i]], len(papers)) for p, i in found]
    return [short for short in measured if short.share is not None and short.share >= MOST]


def _is_short(keyword: str) -> bool:
    return len(re.findall(r"[^\W_]", keyword)) <= MAX_CHARACTERS


def _archived_papers(settings: Settings) -> tuple[Paper, ...]:
    """Every archived paper; none where there is no state database yet (check creates none)."""
    if not database_path(settings).is_file():
        return ()
    try:
        return archived(settings, dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).papers
    except DigestError:  # an empty archive, or a state database check cannot read: nothing to measure
        return ()
