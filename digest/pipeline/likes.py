"""Profiles with `like:` get their learned ranker: trained from the paper archive, applied to a listing.

The liked and disliked papers' text comes from the archive in the state database. An id the
archive lacks is a warning naming the profile's file, line and id; the other likes still count.
(The arXiv API `id_list` look-up that would fill the archive belongs in `liked_text`: a later
change fetches the missing arXiv ids there, politely, and archives them.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config.liked_papers import vote_position
from ..matching import CompiledProfile
from ..models import Listing, Paper, Profile
from ..relevance import MIN_BACKGROUND, ModelCache, Space, fit_space, likeness_of, train, usual_scores
from ..store import PaperArchive

# The site's usual papers the models learn against: the most recently seen, at most this many.
BACKGROUND = 2000


@dataclass
class Learned:
    """Profiles with their learned rankers, and what kept a like from counting."""

    profiles: list[CompiledProfile]
    warnings: list[str] = field(default_factory=list)


def with_likes(
    db: sqlite3.Connection, compiled: Sequence[CompiledProfile], listing: Listing, state_dir: Path | None
) -> Learned:
    """`compiled`, each profile with likes given its likeness of `listing`'s papers."""
    wanting = [c for c in compiled if c.profile.like]
    if not wanting:
        return Learned(list(compiled))
    archive = PaperArchive(db)
    known, warnings = liked_text(archive, [c.profile for c in wanting])
    votes = {*known}
    background = [p for p in archive.latest(BACKGROUND) if p.id not in votes]
    if len(background) < MIN_BACKGROUND:
        warnings.append(_too_small(len(background)))
        return Learned(list(compiled), warnings)
    cache = ModelCache(state_dir)
    liked_everywhere = [known[i] for c in wanting for i in c.profile.like if i in known]
    space = cache.space_for(background, lambda: fit_space(background, liked_everywhere))
    judge = _Judge(space, listing.papers)
    learned = [_with_likeness(c, known, cache, judge) if c.profile.like else c for c in compiled]
    cache.save()
    return Learned(learned, warnings)


def liked_text(archive: PaperArchive, profiles: Sequence[Profile]) -> tuple[dict[str, Paper], list[str]]:
    """The archived papers every profile likes or dislikes, and a warning for each one missing."""
    wanted = [i for p in profiles for i in (*p.like, *p.dislike)]
    known = {paper.id: paper for paper in archive.papers_with_ids(wanted)}
    warnings = []
    for profile in profiles:
        for key in ("like", "dislike"):
            for paper_id in getattr(profile, key):
                if paper_id not in known:
                    warnings.append(_missing(profile, key, paper_id))
    return known, warnings


def _missing(profile: Profile, key: str, paper_id: str) -> str:
    line, where = vote_position(profile.path, key, paper_id)
    place = f"{profile.path}:{line}" if line else str(profile.path)
    return f"{place}: {where}: {paper_id} is not in the paper archive, so it does not count yet"


def _too_small(count: int) -> str:
    return (
        f"the paper archive holds {count} papers, too few to learn likes from (at least {MIN_BACKGROUND}):"
        " keywords alone select"
    )


class _Judge:
    """The listing's rows in the space, computed once for every profile."""

    def __init__(self, space: Space, papers: Sequence[Paper]) -> None:
        self.space, self.papers = space, papers
        self.rows = space.rows(papers)
        self.usual = usual_scores(space, self.rows)


def _with_likeness(
    compiled: CompiledProfile, known: dict[str, Paper], cache: ModelCache, judge: _Judge
) -> CompiledProfile:
    profile = compiled.profile
    liked = [known[i] for i in profile.like if i in known]
    if not liked:
        return compiled
    disliked = [known[i] for i in profile.dislike if i in known]
    inputs = (cache.space_key, liked, disliked, profile.similarity)
    taste = cache.taste_for(inputs, lambda: train(judge.space, liked, disliked, profile.similarity))
    return replace(compiled, likeness=likeness_of(taste, judge.space, judge.papers, judge.rows, judge.usual))
