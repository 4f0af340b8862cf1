"""Warnings about `like:` and `dislike:`, each one line naming the profile's file, line and field.

A run or a match warns of the ids it could not count; `digest check` warns ahead, from the state
database alone (it never asks arXiv), of the ids a run will have to look up or cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing

from ..config.liked_papers import vote_positions
from ..models import Profile, Settings
from ..sources.lookup import arxiv_id
from ..store import PaperArchive
from .state import database_path, open_database

VOTE_KEYS = ("like", "dislike")


def missing_votes(
    profiles: Sequence[Profile], known: Callable[[str], bool], why: Callable[[str], str | None]
) -> list[str]:
    """A warning for each liked or disliked id that is not `known`, saying `why` where there is a why."""
    warnings = []
    for profile in profiles:
        for key in VOTE_KEYS:
            lacking = [i for i in getattr(profile, key) if not known(i)]
            if lacking:
                positions = vote_positions(profile.path, key)  # the file read once for all its ids
                for paper_id in lacking:
                    line, where = positions.get(paper_id, (None, key))
                    because = f" ({why(paper_id)})" if why(paper_id) else ""
                    what = f"{paper_id} is not in the paper archive{because}, so it does not count yet"
                    warnings.append(f"{_place(profile, line)}: {where}: {what}")
    return warnings


def too_small(profiles: Sequence[Profile], count: int, least: int) -> list[str]:
    """One warning per profile with likes when the archive holds fewer than `least` papers to learn from."""
    warnings = []
    for profile in profiles:
        line = (
            vote_positions(profile.path, "like").get(profile.like[0], (None, ""))[0] if profile.like else None
        )
        what = f"the paper archive holds {count} papers, too few to learn likes from (at least {least})"
        warnings.append(f"{_place(profile, line)}: like: {what}: keywords alone select")
    return warnings


def unarchived_votes(settings: Settings, profiles: Sequence[Profile]) -> list[str]:
    """What `digest check` warns of: each voted id the archive lacks, and what a run will do about it.
    Reads the state database only, creating none; without one, every id is lacking."""
    voting = [p for p in profiles if p.like or p.dislike]
    wanted = [i for p in voting for i in (*p.like, *p.dislike)]
    if not wanted:
        return []
    archived, unknown = _archived(settings, wanted)

    def what_next(paper_id: str) -> str:
        if not arxiv_id(paper_id):
            return "only arXiv ids can be looked up; it counts once a listing brings it"
        if paper_id in unknown:
            return f"arXiv has no such paper (asked {unknown[paper_id][:10]})"
        if settings.arxiv_api is None:
            return "the arXiv look-up is off: fetch.arxiv_api"
        return "the next run or match looks it up on arXiv"

    return missing_votes(voting, lambda i: i in archived, what_next)


def _archived(settings: Settings, ids: list[str]) -> tuple[set[str], dict[str, str]]:
    """Which ids the archive holds, and which of the others arXiv was asked for and lacked."""
    if not settings.state_url and not database_path(settings).is_file():
        return set(), {}
    with closing(open_database(settings)) as db:
        archive = PaperArchive(db)
        archived = set(archive.papers_with_ids(ids))
        return archived, archive.unknown_to_arxiv(i for i in ids if i not in archived)


def _place(profile: Profile, line: int | None) -> str:
    return f"{profile.path}:{line}" if line else str(profile.path)
