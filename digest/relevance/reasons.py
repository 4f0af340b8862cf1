"""Why a paper is like a liked one: the terms both weigh most, found with numpy, memoized.

Profiles that like the same paper ask the same question of the same listing paper, so every
answer is kept for the listing's lifetime.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
        self._strongest: dict[int, dict[int, tuple[int, float]]] = {}
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
        strongest, paper = self.strongest(voted), self.paper_terms(number)
        shared = strongest.keys() & paper.keys()  # a few of the voted paper's STRONGEST
        bigram = self.bigram
        # Python floats, multiplied in this order: the ranking does not depend on the layout.
        weighed = sorted((-(strongest[c][1] * paper[c] * bigram[c]), strongest[c][0], c) for c in shared)
        return _distinct_terms(str(self.terms[c]) for _, _, c in weighed)

    def strongest(self, voted: int) -> dict[int, tuple[int, float]]:
        """The voted paper's STRONGEST terms: column → (rank, weight); equal weights: lower column first."""
        if voted not in self._strongest:
            row = _row(self.voted_rows, voted)
            ranked = sorted(row.items(), key=lambda item: -item[1])[:STRONGEST]
            self._strongest[voted] = {c: (rank, w) for rank, (c, w) in enumerate(ranked)}
        return self._strongest[voted]

    def paper_terms(self, number: int) -> dict[int, float]:
        if number not in self._papers:
            self._papers[number] = _row(self.listing_rows, number)
        return self._papers[number]


def _row(rows: sparse.csr_matrix, number: int) -> dict[int, float]:
    start, end = rows.indptr[number], rows.indptr[number + 1]
    return dict(zip(rows.indices[start:end].tolist(), rows.data[start:end].tolist(), strict=True))


def _distinct_terms(ranked: Iterable[str]) -> tuple[str, ...]:
    """The first REASON_TERMS terms, skipping a word already said by a chosen bigram (or the reverse)."""
    chosen: list[str] = []
    for term in ranked:
        words = set(term.split())
        if any(words <= set(c.split()) or set(c.split()) <= words for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == REASON_TERMS:
            break
    return tuple(chosen)
