"""One-click feedback from a digest: "more like this" or "less like this" for one paper.

A vote link names a reader and a paper, signed. Opening it changes nothing (mail scanners open
links); its page's button writes the vote into the reader's own profile file, as `digest like`
does, and the next edition's ranker learns from it. A reader listed in a shared profile gets a
file of their own first, so one reader's taste never changes another's digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from ..config.profiles import load_profile, profile_to_edit
from ..config.votes import OPPOSITE, Choice, choice_of, set_vote, withdraw
from ..errors import SubscriptionError, TokenGone
from ..models import Profile, Settings
from ..store import Database, PaperArchive
from .subscriptions import give_own_profile, has_left, link_claims, profile_saving, profiles_cache

CHOICES: tuple[Choice, ...] = get_args(Choice)
VoteLists = dict[str, list[tuple[str, str]]]  # "like" and "dislike": (paper id, title) each


@dataclass(frozen=True)
class Ballot:
    """What a vote link stands for, as its page shows it."""

    address: str
    paper_id: str
    title: str  # the archived paper's title, or its id when the archive has no copy
    url: str | None
    current: Choice
    profile: Path
    sharing: int  # how many addresses that profile file mails


def ballot(settings: Settings, db: Database, site_key: str, token: str) -> Ballot:
    """The reader, paper and current vote of a link; TokenError when it does not work."""
    claims = link_claims(site_key, db, "vote", token)
    address, paper_id = claims.address, claims.subject
    if paper_id is None:
        raise TokenGone("this link names no paper", "use the links in your latest digest")
    if has_left(db, address):  # the vote would teach a digest nobody receives
        raise TokenGone(f"{address} is unsubscribed, so votes change nothing", "subscribe again to vote")
    profile = profile_to_edit(settings.profiles_dir, address, profiles_cache(settings))
    if profile is None:
        raise TokenGone("no profile lists this address any more", "sign up again on the form")
    paper = PaperArchive(db).papers_with_ids([paper_id]).get(paper_id)
    title = paper.title if paper is not None else paper_id
    url = paper.url if paper is not None else None
    current = choice_of(profile, paper_id)
    return Ballot(address, paper_id, title, url, current, profile.path, len(profile.emails))


def cast(settings: Settings, db: Database, site_key: str, token: str, choice: str) -> Ballot:
    """Write `choice` ("like", "dislike" or "none") for the link's paper; the ballot as it was
    before, so the answer can say what changed and offer to undo it."""
    chosen = _choice(choice)
    before = ballot(settings, db, site_key, token)
    path = give_own_profile(settings, before.address) if before.sharing > 1 else before.profile
    with profile_saving("your vote", "your link still works: try it again later"):
        set_vote(path, before.paper_id, chosen)
    return before


def _choice(text: str) -> Choice:
    for choice in CHOICES:
        if text == choice:
            return choice
    raise SubscriptionError(f"'{text[:20]}' is not a vote", "choose like, dislike or none")


def listed_votes(db: Database, profile: Profile | None) -> VoteLists:
    """The papers a profile likes and dislikes, as (id, title) by list, for its manage page."""
    if profile is None:
        return {key: [] for key in OPPOSITE}
    known = PaperArchive(db).papers_with_ids([*profile.like, *profile.dislike])
    return {
        key: [(i, known[i].title if i in known else i) for i in getattr(profile, key)] for key in OPPOSITE
    }


def forget(settings: Settings, address: str, paper_id: str) -> Profile | None:
    """Take a paper out of the likes and dislikes of the profile that mails `address`; that
    profile as it is now."""
    with profile_saving("your change", "nothing changed: try again later"):
        profile = profile_to_edit(settings.profiles_dir, address, profiles_cache(settings))
        if profile is not None:
            withdraw(profile.path, [paper_id])
            return load_profile(profile.path)
    return None
