"""A profile's selection from the index: its papers ranked, with the reasons each was selected.

A term found in the title (or a chosen author) is worth more than all the profile's terms
together; then the number of distinct terms; the learned ranker's lift adds to that; upvotes
and recency break ties. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress

from ..models import SELECTING_LIFT, Likeness, Match, Paper, Reason, trending_reason
from .index import CompiledProfile, PaperIndex

# What the learned ranker's full lift adds to a paper's score: two distinct abstract keywords' worth.
# A paper at the profile's like threshold (lift 0.5) gains one; see the README's "Likes".
LIFT = 2.0


def select(profile: CompiledProfile, index: PaperIndex, skip: frozenset[str] = frozenset()) -> list[Match]:
    """Every paper the profile selects, best first; ids in `skip` (already sent) are left out."""
    ranked = _ranked(profile, index, skip)
    return [ranked.match(n) for n in ranked.order]


def select_top(
    profile: CompiledProfile, index: PaperIndex, skip: frozenset[str], limit: int
) -> tuple[list[Match], list[str]]:
    """The best `limit` papers the profile selects, and the ids of all it selects, best first."""
    ranked = _ranked(profile, index, skip)
    papers = index.papers
    return [ranked.match(n) for n in ranked.order[:limit]], [papers[n].id for n in ranked.order]


def select_top_with_reasons(
    profile: CompiledProfile, index: PaperIndex, skip: frozenset[str], limit: int
) -> tuple[list[Match], list[tuple[str, tuple[Reason, ...]]]]:
    """The best `limit` papers the profile selects, and (id, reasons) of all it selects, best
    first; the papers shown carry every reason, likes included (the rest only their terms)."""
    ranked = _ranked(profile, index, skip)
    papers, found = index.papers, ranked.found
    shown = [ranked.match(n) for n in ranked.order[:limit]]
    matched = [(m.paper.id, m.reasons) for m in shown]
    matched += [(papers[n].id, tuple(found.get(n, ()))) for n in ranked.order[limit:]]
    return shown, matched


def select_trending(
    profile: CompiledProfile, index: PaperIndex, skip: frozenset[str], chosen: Iterable[str]
) -> list[Match]:
    """The profile's `trending` most upvoted papers that its terms did not select (`chosen`) and
    that were not sent before (`skip`), best first, each with its upvotes as its reason.

    Only papers with upvotes (a Hugging Face listing gave them) take part; `exclude` still wins.
    """
    wanted = profile.profile.trending
    if wanted <= 0:
        return []
    taken = skip | frozenset(chosen)
    dropped = frozenset().union(*(index.papers_with(t) for t in profile.exclude))
    candidates = [
        (paper.upvotes, n)
        for n, paper in enumerate(index.papers)
        if paper.upvotes is not None and paper.id not in taken and n not in dropped
    ]
    order = index.tie_order  # upvotes first; the usual tie order (recency) after
    best = sorted(candidates, key=lambda c: (c[0], order[c[1]]), reverse=True)[:wanted]
    return [Match(index.papers[n], 0.0, (trending_reason(votes),)) for votes, n in best]


@dataclass(frozen=True, slots=True)
class Ranked:
    """What one profile selects: paper numbers best first, and what makes each one's match."""

    profile: CompiledProfile
    papers: Sequence[Paper]
    order: list[int]  # the selected papers' numbers, best first
    scores: dict[int, float]
    found: dict[int, list[Reason]]  # the reasons of the papers a term or author matched
    lift: Mapping[int, float]  # the learned lifts by paper number

    def match(self, number: int) -> Match:
        reasons = tuple(self.found.get(number, ()))
        lift = self.lift.get(number, 0.0)
        return _match(self.profile, self.papers[number], self.scores[number], reasons, lift)


def _ranked(profile: CompiledProfile, index: PaperIndex, skip: frozenset[str]) -> Ranked:
    """Every selected paper, best first.

    A term found in the title (or a chosen author) is worth more than all the profile's terms
    together, so the score ranks title hits first, then the number of distinct terms; upvotes
    and recency break ties.
    """
    found, hits, chosen = _term_hits(profile, index)
    lift = _lifts(profile.likeness, index)
    # Close enough to a liked paper; picked by compress, in C: a profile with likes lifts a hundred.
    chosen.update(compress(lift, map(SELECTING_LIFT.__le__, lift.values())))
    for term in profile.exclude:
        chosen -= index.papers_with(term)
    papers = index.papers
    if skip:
        chosen = {n for n in chosen if papers[n].id not in skip}
    if profile.categories:
        chosen = {n for n in chosen if _in_categories(profile, papers[n])}
    hit, lifted = hits.get, lift.get
    scores = {n: hit(n, 0) + LIFT * lifted(n, 0.0) for n in chosen}
    # Best score first, equal scores in the tie order: two stable sorts on plain keys are twice
    # as fast as one sort of (score, tie) tuples (a reverse sort keeps equal keys in their order).
    order = sorted(scores, key=index.tie_order.__getitem__, reverse=True)
    order.sort(key=scores.__getitem__, reverse=True)
    return Ranked(profile, papers, order, scores, found, lift)


def _term_hits(
    profile: CompiledProfile, index: PaperIndex
) -> tuple[dict[int, list[Reason]], dict[int, int], set[int]]:
    """The reasons and scores of the papers the profile's terms and authors found, and those they select."""
    strong = profile.term_count + 1
    found: dict[int, list[Reason]] = {}
    scores: dict[int, int] = {}

    def add(number: int, reasons: tuple[Reason, ...], in_title: bool) -> None:
        found.setdefault(number, []).extend(reasons)
        scores[number] = scores.get(number, 0) + 1 + (strong if in_title else 0)

    for term in profile.keywords:
        for hit in index.reasons_for(term):
            add(hit.paper, hit.reasons, hit.in_title)
    for key, name in profile.authors.items():
        for number in index.papers_by(key):
            add(number, (Reason("author", name, "authors"),), True)
    chosen = set(found)  # any keyword or author selects a paper...
    for term in profile.all_of:
        for hit in index.reasons_for(term):
            add(hit.paper, hit.reasons, hit.in_title)
    if profile.all_of:  # ...that must also hold every all_of term
        every = frozenset.intersection(*(index.papers_with(t) for t in profile.all_of))
        chosen = chosen & every if profile.keywords or profile.authors else set(every)
    return found, scores, chosen


def _lifts(likeness: Likeness | None, index: PaperIndex) -> Mapping[int, float]:
    """Paper number → the learned lift, for the few papers near what the reader liked."""
    if likeness is None:
        return {}
    return likeness.lifts_in(index.papers, index.number_of)


def _match(
    profile: CompiledProfile, paper: Paper, score: float, reasons: tuple[Reason, ...], lift: float
) -> Match:
    """A selected paper; one the learned ranker lifted says why, computed only for papers shown."""
    likeness = profile.likeness
    if likeness is None or lift <= 0:
        return Match(paper, score, reasons, None if likeness is None else 0.0)
    return Match(paper, score, (*reasons, likeness.reason(paper.id)), round(lift, 3))


def _in_categories(profile: CompiledProfile, paper: Paper) -> bool:
    # A paper whose categories are unknown (e.g. only listed by Hugging Face) is not filtered out.
    if not profile.categories or not paper.categories:
        return True
    return any(c.casefold() in profile.categories for c in paper.categories)
