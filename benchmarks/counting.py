"""The likes' TF-IDF space: fitting it and putting a listing into it, scikit-learn's counting
beside ours (digest/relevance/counting.py), on the same generated papers, in one process.

    python benchmarks/counting.py [--fitted 4000] [--listing 2000] [--repeats 5]

scikit-learn's TfidfVectorizer (what the space used before) and our counts under scikit-learn's
TfidfTransformer each fit `--fitted` papers (a first run's archive sample and liked papers) and
transform a listing of `--listing` other papers (a daily edition), interleaved, each repeat in
turn starting with the other; medians of wall-clock and CPU seconds. The rows must be the same to
the bit, or the script stops.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching import make_papers, make_topics

from digest.relevance import counting
from digest.relevance.space import counted_as, paper_text


def scikit_learn(fitted: list[str], listing: list[str]) -> tuple[Any, Any, float, float]:
    vectorizer = TfidfVectorizer(**counted_as().get_params(), sublinear_tf=True)
    fit, fit_seconds = timed(lambda: vectorizer.fit_transform(fitted))
    rows, transform_seconds = timed(lambda: vectorizer.transform(listing))
    return fit, rows, fit_seconds, transform_seconds


def ours(fitted: list[str], listing: list[str]) -> tuple[Any, Any, float, float]:
    def fit() -> tuple[counting.Vocabulary, TfidfTransformer, Any]:
        vocabulary, counts = counting.fit(counted_as(), fitted)
        weights = TfidfTransformer(sublinear_tf=True).fit(counts)
        return vocabulary, weights, weights.transform(counts, copy=False)

    (vocabulary, weights, matrix), fit_seconds = timed(fit)
    rows, transform_seconds = timed(lambda: weights.transform(vocabulary.count(listing), copy=False))
    return matrix, rows, fit_seconds, transform_seconds


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    return work(), time.perf_counter() - started


def same(ours: Any, theirs: Any) -> bool:
    ours, theirs = sparse.csr_matrix(ours), sparse.csr_matrix(theirs)
    return ours.shape == theirs.shape and all(
        np.array_equal(getattr(ours, part), getattr(theirs, part)) for part in ("data", "indices", "indptr")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--fitted", type=int, default=4_000)
    parser.add_argument("--listing", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(7)
    topics = make_topics(3_000, rng)
    fitted = [paper_text(p) for p in make_papers(args.fitted, topics, rng)]
    listing = [paper_text(p) for p in make_papers(args.listing, topics, rng)]
    ways = {"scikit-learn": scikit_learn, "ours": ours}
    seconds: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    for repeat in range(args.repeats):
        results = {}
        for name in list(ways)[:: 1 if repeat % 2 == 0 else -1]:
            cpu = time.process_time()
            *results[name], fit_seconds, transform_seconds = ways[name](fitted, listing)
            seconds[name].append((fit_seconds, transform_seconds))
            print(f"  {name:13} fit {fit_seconds:5.2f} s, transform {transform_seconds:5.2f} s"
                  f" ({time.process_time() - cpu:5.2f} s CPU)")  # fmt: skip
        if not all(same(o, t) for o, t in zip(results["ours"], results["scikit-learn"], strict=True)):
            sys.exit("the rows differ from scikit-learn's")
    print(f"\nmedians of {args.repeats} interleaved repeats, wall seconds; the rows the same to the bit:")
    base = [statistics.median(s[k] for s in seconds["scikit-learn"]) for k in (0, 1)]
    for name in ways:
        fit, transform = (statistics.median(s[k] for s in seconds[name]) for k in (0, 1))
        print(f"  {name:13} fit {args.fitted} papers {fit:5.2f} s ({fit / base[0]:.2f}x), transform"
              f" {args.listing} papers {transform:5.2f} s ({transform / base[1]:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
