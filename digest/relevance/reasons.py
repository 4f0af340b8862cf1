"""Why a paper is like a liked one: the terms both weigh most.

Every voted paper's strongest terms come from one sort of the whole matrix; a reason then looks
each of them up among the paper's terms. Profiles that like the same paper ask the same question
of the same listing paper, so every answer is kept for the listing's lifetime.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import compress

import numpy as np
from scipy import sparse

from ..models import Paper, Reason
from .space import Space

REASON_TERMS = 2  # the terms a reason names
# A reason looks for shared terms among a liked paper's strongest: they are what made it close.
STRONGEST = 40


# Every voted paper's strongest terms: columns, weights, bigram boosts, and where each paper's start.
TopTerms = tuple[list[int], list[float], list[float], list[int]]


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
        self.bigram = space.bigram_boost
        self.voted_rows, self.listing_rows = voted_rows, listing_rows  # both with sorted indices
        self._top: TopTerms | None = None
        self._terms: dict[int, tuple[str, frozenset[str]]] = {}
        self._papers: dict[int, dict[int, float]] = {}
        self._reasons: dict[int, Reason] = {}  # by number × voted papers + nearest

    def reason(self, number: int, nearest: int) -> Reason:
        """Why the listing's paper `number` is like the voted paper `nearest`."""
        key = number * len(self.voted) + nearest  # an int: no tuple to build for every reason shown
        found = self._reasons.get(key)
        if found is None:
            terms = self.shared_terms(number, nearest)
            found = Reason("like", self.voted[nearest].title, "title and abstract", (), terms)
            self._reasons[key] = found
        return found

    def shared_terms(self, number: int, voted: int) -> tuple[str, ...]:
        """The terms the listing's paper `number` and the voted paper share that weigh most in both
        (equal weights: the voted paper's stronger term first)."""
        if self._top is None:
            self._top = _top_terms(self.voted_rows, self.bigram)
        columns, weights, boosts, bounds = self._top
        start, end = bounds[voted], bounds[voted + 1]
        # The voted paper's STRONGEST terms looked up in the paper by map and picked by compress, in
        # C: most are not in the paper, and only the few shared ones are weighed in Python (this
        # runs for every reason shown). Python floats, multiplied in this order: the ranking does
        # not depend on the layout.
        paper = self.paper_terms(number)
        shared = compress(range(start, end), map(paper.__contains__, columns[start:end]))
        weighed = [(-(weights[k] * paper[columns[k]] * boosts[k]), k, columns[k]) for k in shared]
        weighed.sort()
        terms, term = self._terms, self._term
        return _distinct_terms(terms[c] if c in terms else term(c) for _, _, c in weighed)

    def _term(self, column: int) -> tuple[str, frozenset[str]]:
        """A term and its words."""
        term = str(self.terms[column])
        self._terms[column] = found = (term, frozenset(term.split()))
        return found

    def paper_terms(self, number: int) -> dict[int, float]:
        """A listing paper's terms: column → weight."""
        if number not in self._papers:
            self._papers[number] = _row(self.listing_rows, number)
        return self._papers[number]


def _top_terms(rows: sparse.csr_matrix, boost: np.ndarray) -> TopTerms:
    """Every row's STRONGEST columns, heaviest first (equal weights: lower column first, as the
    indices are sorted and the sort is stable), their weights, and where each row's begin and end:
    one sort of the whole matrix instead of one per row."""
    row_of = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    order = np.lexsort((-rows.data, row_of))  # by row, then heaviest first
    rank = np.arange(len(order)) - rows.indptr[row_of[order]]
    kept = order[rank < STRONGEST]
    counts = np.minimum(np.diff(rows.indptr), STRONGEST)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    columns = rows.indices[kept]
    return columns.tolist(), rows.data[kept].tolist(), boost[columns].tolist(), bounds.tolist()


def _row(rows: sparse.csr_matrix, number: int) -> dict[int, float]:
    start, end = rows.indptr[number], rows.indptr[number + 1]
    return dict(zip(rows.indices[start:end].tolist(), rows.data[start:end].tolist(), strict=True))


def _distinct_terms(ranked: Iterable[tuple[str, frozenset[str]]]) -> tuple[str, ...]:
    """The first REASON_TERMS terms, skipping a word already said by a chosen bigram (or the reverse)."""
    terms: list[str] = []
    said: list[frozenset[str]] = []
    for term, words in ranked:
        for other in said:  # plain loops: this runs for every reason shown
            if words <= other or other <= words:
                break
        else:
            terms.append(term)
            said.append(words)
            if len(terms) == REASON_TERMS:
                break
    return tuple(terms)
