"""Why a paper is like a liked one: the terms both weigh most, found with numpy, memoized.

Profiles that like the same paper ask the same question of the same listing paper, so every
answer is kept for the listing's lifetime.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
from scipy import sparse

from ..models import Paper, Reason
from .space import Space

REASON_TERMS = 2  # the terms a reason names
# A reason looks for shared terms among a liked paper's strongest: they are what made it close.
STRONGEST = 40


class Reasons:
    """The reasons of one listing against the voted papers."""

    def __init__(
        self,
        space: Space,
        voted: Sequence[Paper],
        listing: Sequence[Paper],
        voted_rows: sparse.csr_matrix,
        listing_rows: sparse.csr_matrix,
    ) -> None:
        self.terms, self.voted = space.terms, voted
        self.number_of = {paper.id: n for n, paper in enumerate(listing)}
        # A bigram says more to a reader than either of its words: it is named first at 2/3 the weight.
        self.bigram = space.bigram_boost.tolist()
        self.voted_rows, self.listing_rows = voted_rows, listing_rows  # both with sorted indices
        self._strongest: dict[int, dict[int, Strong]] = {}
        self._papers: dict[int, dict[int, float]] = {}
        self._reasons: dict[tuple[int, int], Reason] = {}

    def reason(self, number: int, nearest: int) -> Reason:
        """Why the listing's paper `number` is like the voted paper `nearest`."""
        key = (number, nearest)
        if key not in self._reasons:
            terms = self.shared_terms(number, nearest)
            self._reasons[key] = Reason("like", self.voted[nearest].title, "title and abstract", (), terms)
        return self._reasons[key]

    def shared_terms(self, number: int, voted: int) -> tuple[str, ...]:
        """The terms the listing's paper `number` and the voted paper share that weigh most in both
        (equal weights: the voted paper's stronger term first)."""
        paper, strongest = self.paper_terms(number), self.strongest(voted)
        shared = [strongest[c] for c in strongest.keys() & paper.keys()]  # a set operation, in C
        # Python floats, multiplied in this order: the ranking does not depend on the layout.
        weighed = sorted((-(s.weight * paper[s.column] * s.boost), s.rank, s) for s in shared)
        return _distinct_terms(s for _, _, s in weighed)

    def strongest(self, voted: int) -> dict[int, Strong]:
        """The voted paper's STRONGEST terms by column; rank 0 the heaviest (then the lower column)."""
        if voted not in self._strongest:
            start, end = self.voted_rows.indptr[voted], self.voted_rows.indptr[voted + 1]
            data = self.voted_rows.data[start:end]
            order = np.argsort(-data, kind="stable")[:STRONGEST]  # indices sorted: ties by column
            columns = self.voted_rows.indices[start:end][order]
            found = zip(columns.tolist(), data[order].tolist(), self.terms[columns].tolist(), strict=True)
            self._strongest[voted] = {
                c: Strong(c, rank, w, self.bigram[c], term, frozenset(term.split()))
                for rank, (c, w, term) in enumerate(found)
            }
        return self._strongest[voted]

    def paper_terms(self, number: int) -> dict[int, float]:
        if number not in self._papers:
            self._papers[number] = _row(self.listing_rows, number)
        return self._papers[number]


class Strong(NamedTuple):
    """One of a voted paper's strongest terms."""

    column: int
    rank: int  # 0 for its heaviest
    weight: float
    boost: float  # 1.5 for a bigram, else 1
    term: str
    words: frozenset[str]


def _row(rows: sparse.csr_matrix, number: int) -> dict[int, float]:
    start, end = rows.indptr[number], rows.indptr[number + 1]
    return dict(zip(rows.indices[start:end].tolist(), rows.data[start:end].tolist(), strict=True))


def _distinct_terms(ranked: Iterable[Strong]) -> tuple[str, ...]:
    """The first REASON_TERMS terms, skipping a word already said by a chosen bigram (or the reverse)."""
    chosen: list[Strong] = []
    for strong in ranked:
        words = strong.words
        if any(words <= c.words or c.words <= words for c in chosen):
            continue
        chosen.append(strong)
        if len(chosen) == REASON_TERMS:
            break
    return tuple(c.term for c in chosen)
