"""Every profile's taste at once: a linear model over the TF-IDF space, its threshold, its reasons.

The model is Rocchio's: the weights are the liked papers' mean row, less the disliked papers'
mean row; the archive sample's mean row, scaled down, is subtracted from every score too, so
words every paper uses earn nothing. A score is a dot product with those weights, so it is a
mean of the paper's similarities to the liked papers (less those to the disliked ones): the
similarities of every paper to every voted paper are one sparse product, and each profile's
scores a weighted sum of their rows: one sparse-by-dense product for a block of profiles. The
thresholds, the lifted papers and their nearest liked papers are then array operations over the
whole block, with no Python loop over papers; see the README's "What likes add" for the figures.

A paper's score is compared with the scores the archive sample gets under the same model: the
threshold is `THRESHOLDS[similarity]` robust standard deviations (1.4826 × the median absolute
deviation, floored at half the standard deviation) above their median. It adapts to the
profile: a reader whose liked papers share words with many papers needs a higher score. Median
and MAD, not mean and standard deviation: a topic the reader likes may fill a fair share of the
archive, and must not raise its own bar.
"""

from __future__ import annotations

import functools
import operator
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy import sparse

from ..models import SELECTING_LIFT, Paper, Reason
from .reasons import Reasons
from .space import Space
from .spread import medians_and_deviations

# Robust standard deviations above the archive's median score a paper needs to be selected on likes alone.
THRESHOLDS = {"strict": 5.0, "normal": 3.5, "loose": 2.5}
DISLIKED_WEIGHT = 1.0  # a disliked paper's words count against as much as a liked one's count for
USUAL_WEIGHT = 0.5  # how much the archive's mean row (the usual words) counts against
# The papers one profile lifts, at most: a digest shows 20 by default, and reasons cost time.
MAX_LIFTED = 100
CHUNK = 512  # profiles scored together: a (CHUNK × papers) block of floats at a time
# A term in at least this share of the papers is multiplied densely (see _similarities).
COMMON = 0.02
MAX_DENSE = 1024  # columns multiplied densely, at most


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
    """The similarities of every voted paper to the archive sample and to the listing."""

    def __init__(self, space: Space, voted: Sequence[Paper], listing: Sequence[Paper]) -> None:
        self.space, self.voted, self.listing = space, voted, listing
        voted_rows, listing_rows = space.rows(voted), space.rows(listing)
        voted_rows.sort_indices()
        listing_rows.sort_indices()
        self.voted_rows = voted_rows
        rows = np.array([space.known.get(paper.id, -1) for paper in listing], dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= space.background.shape[0]):
            self.listing_usual = space.usual_of(listing_rows)
            self.to_listing = _similarities(listing_rows, voted_rows)
        else:  # a listing the space's sample holds (a first run): its similarities are at hand
            self.listing_usual = space.usual[rows]
            self.to_listing = np.ascontiguousarray(self.to_archive[:, rows])
        self.ids = np.array([paper.id for paper in listing], dtype=object)
        self.reasons = Reasons(space, voted, listing, voted_rows, listing_rows)

    @functools.cached_property
    def to_archive(self) -> np.ndarray:
        """voted papers × the space's sample, each row contiguous: a profile's scores are a sum of
        a few rows. Only training needs it: a daily edition's tastes come from the cache."""
        return _similarities(self.space.background, self.voted_rows)

    def tastes(self, votes: Sequence[Votes]) -> list[Taste]:
        """Each profile's taste, trained against the archive sample."""
        tastes = []
        for start in range(0, len(votes), CHUNK):
            chunk = votes[start : start + CHUNK]
            scores = _scores(self.to_archive, chunk, self.space.usual)
            middle, deviation = medians_and_deviations(scores)
            mad = 1.4826 * deviation
            # Where most papers share no word with the likes, the MAD alone is near 0.
            spread = np.maximum(mad, 0.5 * scores.std(axis=1))
            for n, v in enumerate(chunk):
                threshold = THRESHOLDS[v.similarity or "normal"]
                tastes.append(Taste(float(middle[n]), float(spread[n]) or 1.0, threshold))
        return tastes

    def likenesses(self, votes: Sequence[Votes], tastes: Sequence[Taste]) -> list[ListingLikeness]:
        """What each profile's taste makes of the listing."""
        found: list[ListingLikeness] = []
        for start in range(0, len(votes), CHUNK):
            chunk, chunk_tastes = votes[start : start + CHUNK], tastes[start : start + CHUNK]
            scores = _scores(self.to_listing, chunk, self.listing_usual)
            found += self._lifted(chunk, scores, chunk_tastes)
        return found

    def _lifted(
        self, chunk: Sequence[Votes], scores: np.ndarray, tastes: Sequence[Taste]
    ) -> list[ListingLikeness]:
        """The papers each profile of the chunk lifts (half-way to its threshold), with their lifts."""
        # In the scores' own float32, as one profile's scores were once compared: the same rounding.
        middle, spread, threshold = (
            np.array([getattr(t, name) for t in tastes], dtype=scores.dtype)[:, None]
            for name in ("middle", "spread", "threshold")
        )
        z = (scores - middle) / spread
        # flatnonzero and divmod: a quarter of the time of a 2-D nonzero of the block
        flat = np.flatnonzero(z >= threshold / 2)  # by profile, then by paper
        profile, paper = np.divmod(flat, z.shape[1])
        near = z.ravel()[flat]
        kept = _highest(profile, near, len(chunk), MAX_LIFTED)
        profile, paper, near = profile[kept], paper[kept], near[kept]
        lift = np.minimum(near / (2 * threshold[profile, 0]), 1.0)
        nearest = _nearest_liked(self.to_listing, chunk, profile, paper)
        # Shared by the chunk's profiles; each profile's map of lifts is made only if asked for.
        found = Found(self.reasons, self.listing, self.ids, paper.tolist(), lift.tolist(), nearest.tolist())
        bounds = np.searchsorted(profile, np.arange(len(chunk) + 1)).tolist()
        return [ListingLikeness(found, a, b) for a, b in pairwise(bounds)]

    def reason(self, number: int, nearest: int) -> Reason:
        """Why the listing's paper `number` is like the voted paper `nearest`."""
        return self.reasons.reason(number, nearest)


def _similarities(papers: sparse.csr_matrix, voted: sparse.csr_matrix) -> np.ndarray:
    """voted papers × papers, C-contiguous: the cosine of each pair (rows are L2-normalized).

    Terms most papers use make a sparse product slow (every pair meets in them): those columns
    are multiplied as dense blocks (BLAS), the rare rest as sparse matrices, and the two added."""
    counts = np.bincount(papers.indices, minlength=papers.shape[1])
    common = np.flatnonzero((counts >= COMMON * papers.shape[0]) & (counts > 0))
    if len(common) > MAX_DENSE:  # the dense blocks stay a few MB: the most common terms only
        common = np.sort(common[np.argsort(-counts[common], kind="stable")[:MAX_DENSE]])
    product = _dense_part(papers, common) @ _dense_part(voted, common).T
    rare_product = _rare_part(papers, common) @ _rare_part(voted, common).T
    product += rare_product.toarray()
    return np.ascontiguousarray(product.T, dtype=np.float32)


def _dense_part(rows: sparse.csr_matrix, columns: np.ndarray) -> np.ndarray:
    """The rows' values in `columns` (sorted), as a dense rows × columns block."""
    block = np.zeros((rows.shape[0], len(columns)), dtype=np.float32)
    if not len(columns):
        return block
    position = np.searchsorted(columns, rows.indices)
    inside = (position < len(columns)) & (columns[np.minimum(position, len(columns) - 1)] == rows.indices)
    row_of = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    block[row_of[inside], position[inside]] = rows.data[inside]
    return block


def _rare_part(rows: sparse.csr_matrix, columns: np.ndarray) -> sparse.csr_matrix:
    """The rows without their values in `columns`."""
    rare = rows.copy()
    rare.data[np.isin(rare.indices, columns)] = 0
    rare.eliminate_zeros()
    return rare


def _scores(similarities: np.ndarray, chunk: Sequence[Votes], usual: np.ndarray) -> np.ndarray:
    """profiles × papers: each paper's score under each profile's model."""
    voted: list[int] = []
    profile: list[int] = []
    weight: list[float] = []
    for n, v in enumerate(chunk):
        against = -DISLIKED_WEIGHT / max(len(v.disliked), 1)
        for papers, each in ((v.liked, 1 / max(len(v.liked), 1)), (v.disliked, against)):
            voted += papers
            profile += [n] * len(papers)
            weight += [each] * len(papers)
    shape = (len(chunk), similarities.shape[0])
    weights = sparse.csr_matrix((np.array(weight, dtype=np.float32), (profile, voted)), shape=shape)
    scored = np.asarray(weights @ similarities)
    return scored - USUAL_WEIGHT * usual[None, :]


def _highest(profile: np.ndarray, z: np.ndarray, profiles: int, limit: int) -> np.ndarray:
    """Which papers to keep of those near the chunk's profiles (`profile`: whose each is, profile
    after profile, each's in the listing's order; `z`: theirs): each profile's `limit` of highest
    z, and of equal z at the limit, the earlier papers in the listing.

    Only the near papers take part, a few hundred a profile, never the whole listing's block: each
    profile's are packed to the left of a row, and one partition finds every row's limit-th."""
    counts = np.bincount(profile, minlength=profiles)
    if counts.max(initial=0) <= limit:
        return np.ones(len(z), dtype=bool)
    starts = np.cumsum(counts) - counts
    packed = np.full((profiles, counts.max()), -np.inf, dtype=z.dtype)
    packed[profile, np.arange(len(z)) - starts[profile]] = z
    last = -np.partition(-packed, limit - 1, axis=1)[profile, limit - 1]  # -inf under the limit: all kept
    above, at = z > last, z == last
    room = limit - np.bincount(profile[above], minlength=profiles)
    # Equal z across the limit are rare: the earlier of a profile's ties are kept.
    ties = np.cumsum(at)
    ties_before = np.concatenate(([0], ties))[starts]  # before each profile's first paper
    kept: np.ndarray = above | (at & (ties - ties_before[profile] <= room[profile]))
    return kept


def _nearest_liked(
    similarities: np.ndarray, chunk: Sequence[Votes], profile: np.ndarray, paper: np.ndarray
) -> np.ndarray:
    """For each (profile, paper) pair, the profile's liked paper most similar to the paper (the
    first of equals, in the order the profile lists them)."""
    width = max((len(v.liked) for v in chunk), default=1)
    liked = np.full((len(chunk), width), -1, dtype=np.int64)
    for n, v in enumerate(chunk):
        liked[n, : len(v.liked)] = v.liked
    candidates = liked[profile]  # pairs × width
    near = similarities[np.maximum(candidates, 0), paper[:, None]]
    near[candidates < 0] = -np.inf
    nearest: np.ndarray = candidates[np.arange(len(candidates)), near.argmax(axis=1)]
    return nearest


@dataclass(slots=True)
class Found:
    """A chunk of profiles' lifted papers, profile after profile, each's in the listing's order."""

    reasons: Reasons
    listing: Sequence[Paper]
    ids: np.ndarray  # the listing's paper ids
    numbers: list[int]  # the lifted papers' numbers in the listing
    lifts: list[float]  # their lifts
    nearest: list[int]  # the liked paper (its voted number) closest to each
    same: tuple[Sequence[Paper], bool] | None = None  # the papers last asked about: the listing?

    def is_listing(self, papers: Sequence[Paper]) -> bool:
        """Whether `papers` are the listing's, in its order: then a paper's number is its number
        here. Checked once for all the chunk's profiles (the matching stage asks with one index)."""
        if self.same is None or self.same[0] is not papers:
            listing = self.listing
            same = len(papers) == len(listing) and all(map(operator.is_, papers, listing))
            self.same = (papers, same)
        return self.same[1]


@dataclass(slots=True)
class ListingLikeness:
    """One profile's taste applied to one listing: lifts, the papers it selects, and reasons."""

    found: Found
    start: int  # where this profile's lifted papers are in `found`
    end: int
    lifts: dict[str, float] | None = None  # lifted paper id → its lift, made when first asked for

    def lift(self, paper_id: str) -> float:
        return self.lifted().get(paper_id, 0.0)

    def lifted(self) -> dict[str, float]:
        if self.lifts is None:
            found, a, b = self.found, self.start, self.end
            self.lifts = dict(zip(found.ids[found.numbers[a:b]].tolist(), found.lifts[a:b], strict=True))
        return self.lifts

    def lifts_in(self, papers: Sequence[Paper], number_of: Mapping[str, int]) -> dict[int, float]:
        """Each lifted paper's number in `papers` (whose numbers `number_of` gives) → its lift."""
        found, a, b = self.found, self.start, self.end
        if found.is_listing(papers):
            return dict(zip(found.numbers[a:b], found.lifts[a:b], strict=True))
        return {number_of[i]: lift for i, lift in self.lifted().items() if i in number_of}

    def selected(self) -> frozenset[str]:
        return frozenset(i for i, lift in self.lifted().items() if lift >= SELECTING_LIFT)

    def reason(self, paper_id: str) -> Reason:
        found, reasons = self.found, self.found.reasons
        number = reasons.number_of[paper_id]
        k = bisect_left(found.numbers, number, self.start, self.end)  # ascending
        return reasons.reason(number, found.nearest[k])
