"""`digest match`: what one profile selects, and what its `exclude` terms dropped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config.profiles import load_profile
from ..errors import SourceError
from ..matching import CompiledProfile, PaperIndex, compile_profile, select, select_trending
from ..models import Listing, Match, Paper, Settings, SourceConfig, SourceReport
from ..store import PaperArchive
from ..store.connection import state_unless_given
from .likes import arxiv_look_up, with_likes
from .run import edition_for, fetch
from .state import database_path, with_state

Dropped = list[tuple[str, list[Paper]]]  # (exclude term as written, the papers it dropped), in profile order


@dataclass(frozen=True)
class Matched:
    """What `digest match` shows: the selected papers, best first, and what the excludes dropped."""

    matches: list[Match]
    listing: Listing
    excluded: Dropped
    warnings: list[str] = field(default_factory=list)  # likes that could not count


def match(
    settings: Settings,
    profile_path: Path,
    chosen: Sequence[SourceConfig] = (),
    since: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> Matched:
    """The papers one profile selects, best first: from today's listings, or, with `since`,
    from every paper archived in that time (a backtest of a profile edit)."""
    now = now or dt.datetime.now(dt.UTC)
    compiled = compile_profile(load_profile(profile_path))
    if since is not None:
        listing = archived(settings, now - since)
    else:
        listing = fetch(settings, chosen, edition=edition_for(settings, now))
    warnings: list[str] = []
    if compiled.profile.like:
        with state_unless_given(None, settings.state_dir, settings.secret, settings.state_url) as state:
            look_up = arxiv_look_up(settings, state)
            learned = with_likes(state.db, [compiled], listing, settings.state_dir, look_up)
        compiled, warnings = learned.profiles[0], learned.warnings
    index = PaperIndex(listing.papers, [compiled])
    excluded = dropped_by_exclude(compiled, index)
    selected = select(compiled, index)
    trending = select_trending(compiled, index, frozenset(), (m.paper.id for m in selected))
    return Matched(selected + trending, listing, excluded, warnings)


def archived(settings: Settings, since: dt.datetime) -> Listing:
    """Every paper fetched since a moment, from the archive in the state database."""
    papers = with_state(settings, lambda db: PaperArchive(db).seen_since(since))
    if not papers:
        hint = "every `digest fetch`, `preview` and `run` archives the papers it reads"
        raise SourceError(f"no papers archived since {since:%Y-%m-%d %H:%M} UTC", hint)
    report = SourceReport("archive", str(database_path(settings)), papers=len(papers), items=len(papers))
    return Listing(tuple(papers), (report,))


def dropped_by_exclude(compiled: CompiledProfile, index: PaperIndex) -> Dropped:
    """For each exclude term, the selected-but-for-it papers it drops, best first.

    A paper hit by two exclude terms is listed under both: either alone would drop it."""
    without = select(replace(compiled, exclude=()), index)
    numbers = {id(paper): n for n, paper in enumerate(index.papers)}
    dropped = []
    for term in compiled.exclude:
        hits = index.papers_with(term)
        dropped.append((term.text, [m.paper for m in without if numbers[id(m.paper)] in hits]))
    return dropped
