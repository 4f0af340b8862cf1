"""Every profile's taste at once: a linear model over the TF-IDF space, its threshold, its reasons.

The model is Rocchio's: the weights are the liked papers' mean row, less the disliked papers'
mean row; the archive sample's mean row, scaled down, is subtracted from every score too, so
words every paper uses earn nothing. A score is a dot product with those weights, so it is a
mean of the paper's similarities to the liked papers (less those to the disliked ones): the
similarities of every paper to every voted paper are one sparse product, and each profile's
scores a weighted sum of their columns. That is why 10,000 profiles train and score in about the
time their keywords take to match.

A paper's score is compared with the scores the archive sample gets under the same model: the
threshold is `THRESHOLDS[similarity]` robust standard deviations (1.4826 × the median absolute
deviation, floored at half the standard deviation) above their median. It adapts to the
profile: a reader whose liked papers share words with many papers needs a higher score. Median
and MAD, not mean and standard deviation: a topic the reader likes may fill a fair share of the
archive, and must not raise its own bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..models import Paper, Reason
from .space import Space

# Robust standard deviations above the archive's median score a paper needs to be selected on likes alone.
THRESHOLDS = {"strict": 5.0, "normal": 3.5, "loose": 2.5}
DISLIKED_WEIGHT = 1.0  # a disliked paper's words count against as much as a liked one's count for
USUAL_WEIGHT = 0.5  # how much the archive's mean row (the usual words) counts against
REASON_TERMS = 2  # the terms a reason names
# The papers one profile lifts, at most: a digest shows 20 by default, and reasons cost time.
MAX_LIFTED = 100
CHUNK = 512  # profiles scored together: a (papers × CHUNK) block of floats at a time
# A reason looks for shared terms among a liked paper's strongest: they are what made it close.
STRONGEST = 40


@dataclass(frozen=True)
class Votes:
    """One profile's liked and disliked papers (as numbers of the voted papers) and its similarity."""

    liked: tuple[int, ...]
    disliked: tuple[int, ...]
    similarity: str | None = None


@dataclass(frozen=True)
class Taste:
    """Where the archive's scores lie under one profile's model: what its threshold stands on."""

    middle: float  # the median of the archive sample's scores
    spread: float  # their robust standard deviation
    threshold: float  # in robust standard deviations


class Voted:
    """The similarities of the archive sample and of the listing to every voted paper."""

    def __init__(self, space: Space, voted: Sequence[Paper], listing: Sequence[Paper]) -> None:
        self.space, self.voted, self.listing = space, voted, listing
        self.voted_rows = space.rows(voted)
        self.listing_rows = space.rows(listing)
        self.voted_rows.sort_indices()
        self.listing_rows.sort_indices()
        self.to_archive = _similarities(space.background, self.voted_rows)
        rows = [space.known.get(paper.id, -1) for paper in listing]
        if -1 in rows:
            self.listing_usual = space.usual_of(self.listing_rows)
            self.to_listing = _similarities(self.listing_rows, self.voted_rows)
        else:  # a listing the archive sample holds (the usual case): its similarities are computed
            self.listing_usual = space.usual[rows]
            self.to_listing = self.to_archive[rows]
        self._terms: dict[tuple[int, int], tuple[str, ...]] = {}
        self._reasons: dict[tuple[int, int], Reason] = {}
        self._paper_terms: dict[int, dict[int, float]] = {}
        self._voted_terms: dict[int, list[tuple[int, float]]] = {}
        # A bigram says more to a reader than either of its words: it is named first at 2/3 the weight.
        self._bigram = space.bigram_boost

    def shared_terms(self, number: int, voted: int) -> tuple[str, ...]:
        """The terms the listing's paper `number` and the voted paper share that weigh most in both;
        memoized, as profiles that like the same paper ask the same."""
        if (number, voted) not in self._terms:
            if number not in self._paper_terms:
                self._paper_terms[number] = _row(self.listing_rows, number)
            if voted not in self._voted_terms:
                self._voted_terms[voted] = _strongest(_row(self.voted_rows, voted))
            paper = self._paper_terms[number]
            strongest = self._voted_terms[voted]
            weighed = [(c, w * paper[c] * self._bigram[c]) for c, w in strongest if c in paper]
            ranked = [str(self.space.terms[c]) for c, _ in sorted(weighed, key=lambda item: -item[1])]
            self._terms[(number, voted)] = _distinct_terms(ranked)
        return self._terms[(number, voted)]

    def tastes(self, votes: Sequence[Votes]) -> list[Taste]:
        """Each profile's taste, trained against the archive sample."""
        tastes = []
        for start in range(0, len(votes), CHUNK):
            chunk = votes[start : start + CHUNK]
            scores = _scores(self.to_archive, chunk, self.space.usual)
            middle = np.median(scores, axis=0)
            mad = 1.4826 * np.median(np.abs(scores - middle), axis=0)
            # Where most papers share no word with the likes, the MAD alone is near 0.
            spread = np.maximum(mad, 0.5 * scores.std(axis=0))
            for n, v in enumerate(chunk):
                threshold = THRESHOLDS[v.similarity or "normal"]
                tastes.append(Taste(float(middle[n]), float(spread[n]) or 1.0, threshold))
        return tastes

    def likenesses(self, votes: Sequence[Votes], tastes: Sequence[Taste]) -> list[ListingLikeness]:
        """What each profile's taste makes of the listing."""
        found = []
        for start in range(0, len(votes), CHUNK):
            chunk = votes[start : start + CHUNK]
            scores = _scores(self.to_listing, chunk, self.listing_usual)
            for n, (v, taste) in enumerate(zip(chunk, tastes[start : start + CHUNK], strict=True)):
                z = (scores[:, n] - taste.middle) / taste.spread
                found.append(self._likeness(v, z, taste.threshold))
        return found

    def _likeness(self, votes: Votes, z: np.ndarray, threshold: float) -> ListingLikeness:
        near = np.flatnonzero(z >= threshold / 2)  # half-way to the threshold, a paper is lifted
        if len(near) > MAX_LIFTED:
            near = near[np.argsort(-z[near])[:MAX_LIFTED]]
        lift = np.minimum(z[near] / (2 * threshold), 1.0)
        liked = np.array(votes.liked)
        nearest = liked[self.to_listing[np.ix_(near, liked)].argmax(axis=1)] if len(near) else liked[:0]
        found = near.tolist()
        ids = [self.listing[n].id for n in found]
        pairs = dict(zip(ids, zip(found, nearest.tolist(), strict=True), strict=True))
        return ListingLikeness(self, pairs, dict(zip(ids, lift.tolist(), strict=True)))

    def reason(self, number: int, nearest: int) -> Reason:
        """Why the listing's paper `number` is like the voted paper `nearest`; memoized, as profiles
        that like the same paper ask the same."""
        if (number, nearest) not in self._reasons:
            terms = self.shared_terms(number, nearest)
            title = self.voted[nearest].title
            self._reasons[(number, nearest)] = Reason("like", title, "title and abstract", (), terms)
        return self._reasons[(number, nearest)]


def _similarities(rows: sparse.csr_matrix, voted: sparse.csr_matrix) -> np.ndarray:
    """papers × voted papers: the cosine of each pair (rows are L2-normalized)."""
    return np.asarray((rows @ voted.T).todense(), dtype=np.float32)


def _scores(similarities: np.ndarray, chunk: Sequence[Votes], usual: np.ndarray) -> np.ndarray:
    """papers × profiles: each paper's score under each profile's model."""
    voted: list[int] = []
    profile: list[int] = []
    weight: list[float] = []
    for n, v in enumerate(chunk):
        against = -DISLIKED_WEIGHT / max(len(v.disliked), 1)
        for papers, each in ((v.liked, 1 / max(len(v.liked), 1)), (v.disliked, against)):
            voted += papers
            profile += [n] * len(papers)
            weight += [each] * len(papers)
    shape = (len(chunk), similarities.shape[1])
    weights = sparse.csr_matrix((np.array(weight, dtype=np.float32), (profile, voted)), shape=shape)
    scored = np.asarray(weights @ similarities.T).T
    return scored - USUAL_WEIGHT * usual[:, None]


@dataclass
class ListingLikeness:
    """One profile's taste applied to one listing: lifts, the papers it selects, and reasons."""

    voted: Voted
    pairs: dict[str, tuple[int, int]]  # lifted paper id → (its number in the listing, nearest liked)
    lifts: dict[str, float]  # lifted paper id → its lift

    def lift(self, paper_id: str) -> float:
        return self.lifts.get(paper_id, 0.0)

    def lifted(self) -> dict[str, float]:
        return self.lifts

    def selected(self) -> frozenset[str]:
        return frozenset(i for i, lift in self.lifts.items() if lift >= 0.5)

    def reason(self, paper_id: str) -> Reason:
        return self.voted.reason(*self.pairs[paper_id])


def _row(rows: sparse.csr_matrix, number: int) -> dict[int, float]:
    start, end = rows.indptr[number], rows.indptr[number + 1]
    return dict(zip(rows.indices[start:end].tolist(), rows.data[start:end].tolist(), strict=True))


def _strongest(row: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(row.items(), key=lambda item: -item[1])[:STRONGEST]


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
