"""The fast learned ranker (every profile of a block scored at once, arrays throughout) against a
straightforward reference written here: one profile at a time, dense vectors, Python loops.

Both work in the same TF-IDF space; the test is of what is built on it: the scores, thresholds,
lifted papers, the cap on them, the nearest liked paper and the reasons, and what matching then
selects, in which order, saying what.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from digest.matching import PaperIndex, compile_profile, select
from digest.models import Listing, Paper, Profile, Reason
from digest.pipeline.likes import Learned, with_likes
from digest.relevance import THRESHOLDS, Space, Voted, Votes, fit_space, spread, taste
from digest.relevance.reasons import REASON_TERMS, STRONGEST
from digest.store import DATABASE_NAME, PaperArchive
from digest.store.connection import connect

from .test_likes_ranker import TOPICS, corpus, paper


@dataclass
class ReferenceLikeness:
    """What the reference makes of the listing for one profile (the matching stage's Likeness)."""

    lifts: dict[str, float]
    reasons: dict[str, Reason]

    def lift(self, paper_id: str) -> float:
        return self.lifts.get(paper_id, 0.0)

    def lifted(self) -> Mapping[str, float]:
        return self.lifts

    def lifts_in(self, papers: Sequence[Paper], number_of: Mapping[str, int]) -> Mapping[int, float]:
        return {number_of[i]: lift for i, lift in self.lifts.items() if i in number_of}

    def selected(self) -> frozenset[str]:
        return frozenset(i for i, lift in self.lifts.items() if lift >= 0.5)

    def reason(self, paper_id: str) -> Reason:
        return self.reasons[paper_id]


def reference(space: Space, voted: list[Paper], listing: list[Paper], votes: Votes) -> ReferenceLikeness:
    """One profile, the long way round: its model as a dense vector, each paper scored in turn."""
    dense = {p.id: row for p, row in zip([*voted, *listing], _dense(space, [*voted, *listing]), strict=True)}
    liked, disliked = [voted[n] for n in votes.liked], [voted[n] for n in votes.disliked]
    model = np.mean([dense[p.id] for p in liked], axis=0)
    if disliked:
        model = model - taste.DISLIKED_WEIGHT * np.mean([dense[p.id] for p in disliked], axis=0)
    centroid = space.centroid.toarray().ravel().astype(np.float64)

    def score(row: np.ndarray) -> float:
        return float(row @ model - taste.USUAL_WEIGHT * (row @ centroid))

    archive = [score(row) for row in space.background.toarray().astype(np.float64)]
    middle = statistics.median(archive)
    mad = 1.4826 * statistics.median(abs(s - middle) for s in archive)
    spread = max(mad, 0.5 * float(np.std(archive))) or 1.0
    threshold = THRESHOLDS[votes.similarity or "normal"]
    z = {p.id: (score(dense[p.id]) - middle) / spread for p in listing}
    near = [(n, p) for n, p in enumerate(listing) if z[p.id] >= threshold / 2]
    near = sorted(near, key=lambda item: (-z[item[1].id], item[0]))[: taste.MAX_LIFTED]
    lifts = {p.id: min(z[p.id] / (2 * threshold), 1.0) for _, p in near}
    reasons = {}
    for _, p in near:
        nearest = max(liked, key=lambda q: (float(dense[p.id] @ dense[q.id]), -liked.index(q)))
        terms = _terms(space, dense, nearest, p)
        reasons[p.id] = Reason("like", nearest.title, "title and abstract", (), terms)
    return ReferenceLikeness(lifts, reasons)


def _dense(space: Space, papers: Sequence[Paper]) -> np.ndarray:
    rows: np.ndarray = space.rows(papers).toarray().astype(np.float64)
    return rows


def _terms(space: Space, dense: dict[str, np.ndarray], liked: Paper, found: Paper) -> tuple[str, ...]:
    """The liked paper's strongest terms that the found paper has, by the product of their weights."""
    mine, theirs = dense[liked.id], dense[found.id]
    strongest = sorted(np.flatnonzero(mine), key=lambda c: (-mine[c], c))[:STRONGEST]
    boost = space.bigram_boost
    weighed = [(-(mine[c] * theirs[c] * boost[c]), rank, c) for rank, c in enumerate(strongest) if theirs[c]]
    chosen: list[str] = []
    for _, _, c in sorted(weighed):
        term = str(space.terms[c])
        if len(chosen) < REASON_TERMS and not any(_overlap(term, other) for other in chosen):
            chosen.append(term)
    return tuple(chosen)


def _overlap(one: str, other: str) -> bool:
    a, b = set(one.split()), set(other.split())
    return a <= b or b <= a


def _case() -> tuple[list[Paper], list[Paper], list[Paper], list[tuple[Votes, tuple[str, ...]]]]:
    """An archive sample, the voted papers, a listing of new papers, and profiles (votes, keywords)."""
    background = corpus(per_topic=14)
    rng = random.Random(5)
    topics = list(TOPICS)
    voted = [paper(f"2503.{n:05d}", topics[n % len(topics)], rng) for n in range(12)]
    listing = [paper(f"2504.{n:05d}", topics[n % len(topics)], rng) for n in range(60)]
    # The same text under another id scores the same: ties at the cap, which keeps the earlier.
    listing += [replace(p, id=f"2505.{n:05d}") for n, p in enumerate(listing[:12])]
    profiles = [
        (Votes((0,), ()), ()),
        (Votes((0, 6), (), "loose"), ("protein",)),
        (Votes((1, 7, 2), (8,), "strict"), ()),
        (Votes((3, 9), (4, 10)), ("graph", "galaxy")),
        (Votes(tuple(range(12)), (), "loose"), ()),
        (Votes((5,), (11,), "normal"), ("speech",)),
    ]
    return background, voted, listing, profiles


@pytest.mark.parametrize("cap", [taste.MAX_LIFTED, 3])
@pytest.mark.parametrize("indexed", ["the listing", "another order"])
def test_the_fast_path_selects_and_explains_as_the_reference_does(
    cap: int, indexed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(taste, "MAX_LIFTED", cap)  # 3: the cap binds for every profile here
    background, voted, listing, profiles = _case()
    space = fit_space(background, voted)
    fast = Voted(space, voted, listing)
    votes = [v for v, _ in profiles]
    likenesses = fast.likenesses(votes, fast.tastes(votes))
    compared = 0

    for (v, keywords), likeness in zip(profiles, likenesses, strict=True):
        expected = reference(space, voted, listing, v)
        assert likeness.lifted().keys() == expected.lifts.keys()
        assert dict(likeness.lifted()) == pytest.approx(expected.lifts, rel=1e-4)
        profile = Profile("p.yaml", ("p@example.org",), keywords=keywords, like=("x",))
        compiled = compile_profile(profile)
        # Matching reads lifts by the listing's numbers; papers in another order take the ids' way.
        index = PaperIndex(listing if indexed == "the listing" else listing[::-1], [compiled])
        ours = select(replace(compiled, likeness=likeness), index)
        theirs = select(replace(compiled, likeness=expected), index)
        assert [(m.paper.id, [str(r) for r in m.reasons]) for m in ours] == [
            (m.paper.id, [str(r) for r in m.reasons]) for m in theirs
        ]
        compared += len(ours)
    assert compared > 30 if cap > 3 else compared > 10  # the comparison has papers to compare


def test_only_a_changed_profile_is_trained_again(tmp_path: Path) -> None:
    db = connect(tmp_path / DATABASE_NAME, create=True)
    background, voted, listing, _ = _case()
    PaperArchive(db).remember([*background, *voted, *listing])
    ids = [p.id for p in voted]

    def learned(similarity: str) -> Learned:
        profiles = [
            Profile(str(tmp_path / "a.yaml"), ("a@example.org",), like=(ids[0], ids[1])),
            Profile(str(tmp_path / "b.yaml"), ("b@example.org",), like=(ids[2],), similarity=similarity),
        ]
        return with_likes(db, [compile_profile(p) for p in profiles], Listing(tuple(listing), ()), tmp_path)

    try:
        first, again, changed = learned("normal"), learned("normal"), learned("strict")
    finally:
        db.close()

    assert (first.trained, again.trained, changed.trained) == (2, 0, 1)
    lifted = [[c.likeness.lifted() for c in run.profiles if c.likeness] for run in (first, again)]
    assert lifted[0] == lifted[1] and len(lifted[0]) == 2


@pytest.mark.parametrize("dense_columns", [taste.MAX_DENSE, 5, 0])
def test_the_split_product_is_the_sparse_product(dense_columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Common terms go through dense blocks, at most MAX_DENSE of them; the sum must not change.
    monkeypatch.setattr(taste, "MAX_DENSE", dense_columns)
    background, voted, listing, _ = _case()
    space = fit_space(background, voted)
    papers, liked = space.rows(listing), space.rows(voted)
    split = taste._similarities(papers, liked)
    assert split.shape == (len(voted), len(listing)) and split.flags.c_contiguous
    assert split == pytest.approx((liked @ papers.T).toarray(), abs=1e-6)
    assert taste._similarities(papers[:0], liked).shape == (len(voted), 0)


@pytest.mark.parametrize("width", [1, 2, 3, 8, 9, 2000])
def test_medians_and_deviations_from_one_sort_are_numpys(width: int) -> None:
    # The thresholds stand on these: the bisection over the sorted deviations must give np.median's
    # values to the bit, ties and all (rows of few distinct values have many).
    rng = np.random.default_rng(width)
    tied = rng.integers(-3, 4, size=(40, width)).astype(np.float32) / np.float32(3)
    spaced = rng.standard_normal((40, width)).astype(np.float32)
    for rows in (tied, spaced, np.zeros((2, width), dtype=np.float32)):
        middle, deviation = spread.medians_and_deviations(rows)
        expected = np.median(rows, axis=1).astype(np.float32)
        assert middle.dtype == np.float32 and np.array_equal(middle, expected)
        expected_deviation = np.median(np.abs(rows - expected[:, None]), axis=1).astype(np.float32)
        assert deviation.dtype == np.float32 and np.array_equal(deviation, expected_deviation)
