"""Profiles with `like:` get their learned ranker: trained from the paper archive, applied to a listing.

The liked and disliked papers' text comes from the archive in the state database. An id the
archive lacks is a warning naming the profile's file, line and id; the other likes still count.
An arXiv id the archive lacks is first looked up on arXiv, once (see liked_lookup).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..matching import CompiledProfile
from ..models import Likeness, Listing, Paper, Profile, Settings
from ..store import Database, PaperArchive
from ..store.connection import State
from .liked_lookup import liked_papers
from .vote_warnings import missing_votes, too_small

if TYPE_CHECKING:
    from ..relevance import ModelCache, Voted

# The site's usual papers the models learn against: the most recently seen, at most this many.
BACKGROUND = 2000


@dataclass
class Learned:
    """Profiles with their learned rankers, and what kept a like from counting."""

    profiles: list[CompiledProfile]
    warnings: list[str] = field(default_factory=list)
    trained: int = 0  # models trained in this call; the others came from the cache
    refitted: bool = False  # whether this call fitted the space (else it came from the cache)


# Asks for voted ids the archive lacks (archiving what it finds) and says why each other is missing.
LookUp = Callable[[list[str]], dict[str, str]]


def with_likes(
    db: Database, compiled: Sequence[CompiledProfile], listing: Listing, state_dir: Path | None,
    look_up: LookUp | None = None, today: dt.date | None = None,
) -> Learned:  # fmt: skip
    """`compiled`, each profile with likes given its likeness of `listing`'s papers; `today`
    (default: the UTC date) tells whether the cached space is too old to serve."""
    wanting = [c for c in compiled if c.profile.like]
    if not wanting:
        return Learned(list(compiled))
    # Imported only here: scikit-learn, SciPy and NumPy add 80 MB to every process importing them,
    # compose workers included, and most editions have no profile with likes.
    from ..relevance import MIN_BACKGROUND, ModelCache, Voted, fit_space

    archive = PaperArchive(db)
    voted = [i for c in wanting for i in (*c.profile.like, *c.profile.dislike)]
    archived = archive.papers_with_ids(voted)
    missing = set(voted) - set(archived)
    asked = bool(look_up and missing)
    why = look_up(sorted(missing)) if look_up and missing else {}
    # A look-up archives what it finds: only then is the archive read again.
    known, warnings = liked_text(archive, [c.profile for c in wanting], why, None if asked else archived)
    # The voted papers are no sample of the usual ones: they are left out, and as many others taken.
    sample = [i for i in archive.latest_ids(BACKGROUND + len(known)) if i not in known][:BACKGROUND]
    if len(sample) < MIN_BACKGROUND:
        warnings += too_small([c.profile for c in wanting], len(sample), MIN_BACKGROUND)
        return Learned(list(compiled), warnings)
    cache = ModelCache(state_dir)
    voted_papers = list(known.values())
    today = today or dt.datetime.now(dt.UTC).date()

    def read_sample() -> list[Paper]:  # the sample's text, needed only to fit a space
        papers = archive.papers_with_ids(sample)
        return [papers[i] for i in sample]

    space = cache.space_for(len(sample), read_sample, lambda sampled: fit_space(sampled, voted_papers), today)
    likeness = _likenesses(cache, Voted(space, voted_papers, listing.papers), wanting)
    cache.save()
    learned = [c.with_likeness(likeness[id(c)]) if id(c) in likeness else c for c in compiled]
    return Learned(learned, warnings, cache.trained, cache.refitted)


def _likenesses(cache: ModelCache, voted: Voted, wanting: Sequence[CompiledProfile]) -> dict[int, Likeness]:
    """Each profile's likeness of the listing, by the id of its compiled profile."""
    from ..relevance import Votes, paper_stamp, taste_key  # as with_likes: only when a profile likes

    number = {paper.id: n for n, paper in enumerate(voted.voted)}
    stamps = [paper_stamp(paper) for paper in voted.voted]
    chosen, votes, keys = [], [], []
    for compiled in wanting:  # list comprehensions, not generators: this runs for every profile
        profile = compiled.profile
        liked = tuple([number[i] for i in profile.like if i in number])
        if liked:  # a profile none of whose likes is archived has nothing to learn from yet
            disliked = tuple([number[i] for i in profile.dislike if i in number]) if profile.dislike else ()
            chosen.append(compiled)
            votes.append(Votes(liked, disliked, profile.similarity))
            inputs = ([stamps[n] for n in liked], [stamps[n] for n in disliked], profile.similarity)
            keys.append(taste_key(cache.space_key, *inputs))
    tastes = cache.tastes_for(keys, lambda missing: voted.tastes([votes[n] for n in missing]))
    return {id(c): found for c, found in zip(chosen, voted.likenesses(votes, tastes), strict=True)}


def arxiv_look_up(settings: Settings, state: State) -> LookUp | None:
    """The arXiv look-up of a site, unless it has none (`fetch.arxiv_api: off`)."""
    api = settings.arxiv_api
    if api is None:
        return None

    def look_up(ids: list[str]) -> dict[str, str]:
        found = liked_papers(settings, state, ids, api_url=api)
        return {warning.id: warning.message for warning in found.warnings}

    return look_up


def liked_text(
    archive: PaperArchive, profiles: Sequence[Profile], why: dict[str, str] | None = None,
    archived: dict[str, Paper] | None = None,
) -> tuple[dict[str, Paper], list[str]]:  # fmt: skip
    """The archived papers every profile likes or dislikes (`archived`, if already read), and a
    warning for each one missing."""
    wanted = [i for p in profiles for i in (*p.like, *p.dislike)]
    known = archive.papers_with_ids(wanted) if archived is None else archived
    return known, missing_votes(profiles, known.__contains__, (why or {}).get)
