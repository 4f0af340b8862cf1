"""A profile's taste: a linear model over the TF-IDF space, its own threshold, and its reasons.

The model is Rocchio's: the weights are the liked papers' mean row, less the disliked papers'
mean row; the archive sample's mean row, scaled down, is subtracted from every score too, so
words every paper uses earn nothing. Training is two sparse means, which is why 10,000
profiles train in the time their keywords take to match.

A paper's score is compared with the scores the archive sample gets under the same model: the
threshold is `THRESHOLDS[similarity]` robust standard deviations (1.4826 × the median absolute
deviation) above their median. It adapts to the profile: a reader whose liked papers share words
with many papers needs a higher score. Median and MAD, not mean and standard deviation: a topic
the reader likes may fill a fair share of the archive, and must not raise its own bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..models import Paper, Reason
from .space import Space

# Robust standard deviations above the archive's median score a paper needs to be selected on likes alone.
THRESHOLDS = {"strict": 5.0, "normal": 3.5, "loose": 2.5}
DISLIKED_WEIGHT = 1.0  # a disliked paper's words count against as much as a liked one's count for
USUAL_WEIGHT = 0.5  # how much the archive's mean row (the usual words) counts against
REASON_TERMS = 2  # the terms a reason names


@dataclass
class Taste:
    """A trained model: its term weights, where the archive's scores lie, and the liked papers."""

    weights: sparse.csr_matrix  # features × 1
    mean: float  # the median of the archive sample's scores
    spread: float  # their robust standard deviation
    threshold: float  # in robust standard deviations
    liked_rows: sparse.csr_matrix
    liked_titles: tuple[str, ...]

    def z_scores(self, rows: sparse.csr_matrix, usual: np.ndarray) -> np.ndarray:
        """How many robust standard deviations above the archive's median each row scores."""
        return (_scores(rows, self.weights, usual) - self.mean) / self.spread


def train(space: Space, liked: Sequence[Paper], disliked: Sequence[Paper], similarity: str | None) -> Taste:
    """The profile's model: liked papers for, disliked papers and the archive sample against."""
    liked_rows = space.rows(liked)
    weights = _mean(liked_rows)
    if disliked:
        weights = weights - DISLIKED_WEIGHT * _mean(space.rows(disliked))
    column = sparse.csr_matrix(weights.T)
    archive = _scores(space.background, column, usual_scores(space, space.background))
    middle = float(np.median(archive))
    spread = 1.4826 * float(np.median(np.abs(archive - middle))) or float(archive.std()) or 1.0
    threshold = THRESHOLDS[similarity or "normal"]
    titles = tuple(p.title for p in liked)
    return Taste(column, middle, spread, threshold, liked_rows, titles)


def usual_scores(space: Space, rows: sparse.csr_matrix) -> np.ndarray:
    """Each row's likeness to the archive's usual paper: the same for every profile, so computed once."""
    return np.asarray((rows @ space.centroid.T).todense()).ravel()


def _scores(rows: sparse.csr_matrix, weights: sparse.csr_matrix, usual: np.ndarray) -> np.ndarray:
    return np.asarray((rows @ weights).todense()).ravel() - USUAL_WEIGHT * usual


def _mean(rows: sparse.csr_matrix) -> sparse.csr_matrix:
    return sparse.csr_matrix(rows.sum(axis=0) / max(rows.shape[0], 1))


@dataclass
class ListingLikeness:
    """One profile's taste applied to one listing: lifts, the papers it selects, and reasons."""

    taste: Taste
    space: Space
    rows: dict[str, sparse.csr_matrix]  # paper id → its row, shared by every profile
    lifts: dict[str, float]  # only papers at least half-way to the threshold
    _reasons: dict[str, Reason] = field(default_factory=dict)

    def lift(self, paper_id: str) -> float:
        return self.lifts.get(paper_id, 0.0)

    def selected(self) -> frozenset[str]:
        return frozenset(i for i, lift in self.lifts.items() if lift >= 0.5)

    def reason(self, paper_id: str) -> Reason:
        if paper_id not in self._reasons:
            self._reasons[paper_id] = self._why(self.rows[paper_id])
        return self._reasons[paper_id]

    def _why(self, row: sparse.csr_matrix) -> Reason:
        nearest = int(np.argmax((self.taste.liked_rows @ row.T).toarray().ravel()))
        weighed = row.multiply(self.taste.weights.T).tocoo()
        names = [str(t) for t in self.space.terms[weighed.col]]
        # A bigram says more to a reader than either of its words: it is named first at 2/3 the weight.
        said = weighed.data * np.array([1.5 if " " in t else 1.0 for t in names])
        terms = _distinct_terms([names[i] for i in np.argsort(-said) if said[i] > 0])
        return Reason("like", self.taste.liked_titles[nearest], "title and abstract", (), terms)


def _distinct_terms(ranked: list[str]) -> tuple[str, ...]:
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


def likeness_of(
    taste: Taste, space: Space, papers: Sequence[Paper], rows: sparse.csr_matrix, usual: np.ndarray
) -> ListingLikeness:
    """What `taste` makes of the listing `papers` (whose rows and usual scores are given)."""
    z = taste.z_scores(rows, usual)
    lift = np.clip(z / (2 * taste.threshold), 0.0, 1.0)
    near = [int(n) for n in np.flatnonzero(lift >= 0.25)]  # past a quarter of the way, a paper is lifted
    by_id = {papers[n].id: rows[n] for n in near}
    return ListingLikeness(taste, space, by_id, {papers[n].id: float(lift[n]) for n in near})
