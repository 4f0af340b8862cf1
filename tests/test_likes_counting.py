"""The space's words and bigrams are counted with numpy, not by scikit-learn's CountVectorizer:
the counts must be its counts to the bit (the same vocabulary, the same columns kept under the
feature limit, each row's entries in the same order), so the TF-IDF rows, the models and every
email built on them stay the same. Checked on the captured listings beside the project and on
texts written here for the edge cases.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from digest.errors import DigestError
from digest.models import Paper
from digest.relevance import counting, fit_space
from digest.relevance.space import MAX_FEATURES, counted_as, paper_text
from digest.sources.parse import parse_listing

from .conftest import CORPUS
from .test_likes_ranker import TOPICS, corpus, paper


def settings(limit: int | None = MAX_FEATURES) -> CountVectorizer:
    return counted_as().set_params(max_features=limit)


def assert_identical(ours: sparse.csr_matrix, theirs: sparse.csr_matrix) -> None:
    """The same matrix, and the same arrays: each row's entries in the same order too."""
    assert ours.shape == theirs.shape
    assert (ours != theirs).nnz == 0
    for part in ("data", "indices", "indptr"):
        mine, reference = getattr(ours, part), getattr(theirs, part)
        assert mine.dtype == reference.dtype, part
        assert np.array_equal(mine, reference), part


def assert_counted_alike(fitted: list[str], later: list[str], limit: int | None = MAX_FEATURES) -> None:
    """Our fit and count against the vectorizer's fit_transform and transform."""
    vectorizer = settings(limit)
    theirs = vectorizer.fit_transform(fitted)
    vocabulary, ours = counting.fit(settings(limit), fitted)
    terms = vocabulary.terms()
    assert dict(zip(terms, range(len(terms)), strict=True)) == vectorizer.vocabulary_
    assert np.array_equal(terms, vectorizer.get_feature_names_out())
    assert_identical(ours, theirs)
    assert_identical(vocabulary.count(later), vectorizer.transform(later))


def captured_papers() -> list[Paper]:
    papers: dict[str, Paper] = {}
    for path in sorted(CORPUS.iterdir()):
        if path.is_file():
            try:
                parsed = parse_listing(path.read_bytes(), path.name)
            except DigestError:  # the captures of errors and pages that hold no listing
                continue
            papers.update((p.id, p) for p in parsed.papers)
    return list(papers.values())


@pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CI") != "true",
    reason="the shared feed corpus is not beside this checkout",
)
def test_the_captured_listings_are_counted_as_scikit_learn_counts_them() -> None:
    texts = [paper_text(p) for p in captured_papers()]
    assert len(texts) > 300
    half = len(texts) // 2
    assert_counted_alike(texts, texts)
    assert_counted_alike(texts[:half], texts[half:])  # the later half holds words the fit never met
    assert_counted_alike(texts[:half], texts[half:], limit=2_000)


EDGES = [
    "Ünïcödé àccents: naïve café façade, Ærøskøbing and straße",
    "the and of which would it be",  # only stop words: a row of nothing
    "",
    "a model x of data: a b c learning",  # a one-letter word is no word: those around it form a bigram
    "Graph neural networks for ΑΒΓ молекулы 分子 and İstanbul",  # İ lowercases to i and a combining dot
    "data mixture and the data of the mixture, data mixture",  # stop words in between form bigrams
    "the the the data",
]


def generated(count: int, rng: random.Random) -> list[str]:
    """Texts over a few hundred words, some shared by many texts: ties under the feature limit."""
    words = [f"w{n}{chr(97 + n % 26)}" for n in range(300)] + list(TOPICS["mixture"].split())
    return [" ".join(rng.choice(words) for _ in range(rng.randrange(0, 40))) for _ in range(count)]


def test_edge_cases_are_counted_as_scikit_learn_counts_them() -> None:
    rng = random.Random(3)
    texts = EDGES + generated(200, rng)
    unseen = [
        "data brandnew mixture",  # an unknown word between two: no bigram across it
        "the unmet words only",
        "",
        "Café data mixture the proxy",
        *generated(50, rng),
    ]
    assert_counted_alike(texts, unseen)
    for limit in (1, 7, 40, 500, 3_000):  # cuts among features counted equally often
        assert_counted_alike(texts, unseen, limit=limit)


def test_no_words_at_all_is_an_error_as_it_is_for_scikit_learn() -> None:
    with pytest.raises(ValueError, match="empty vocabulary"):
        settings().fit(["the and", ""])
    with pytest.raises(ValueError, match="empty vocabulary"):
        counting.fit(settings(), ["the and", ""])


def test_the_space_is_the_tfidf_space_scikit_learn_fits() -> None:
    """The rows of the fit and of papers put into the space later, to the bit, as the
    TfidfVectorizer the space used before gives them."""
    background, liked = corpus(per_topic=20), [paper("2502.00001", "galaxy", random.Random(5))]
    listing = [replace(p, id=f"2503.{n:05d}") for n, p in enumerate(corpus(per_topic=5))]
    listing[0] = replace(listing[0], abstract=listing[0].abstract + " unheard-of words, Ångström")
    vectorizer = TfidfVectorizer(sublinear_tf=True, **counted_as().get_params())
    theirs = vectorizer.fit_transform([paper_text(p) for p in (*background, *liked)])

    space = fit_space(background, liked)

    assert_identical(space.fitted, theirs)
    assert np.array_equal(space.terms, vectorizer.get_feature_names_out())
    assert_identical(space.rows(listing), vectorizer.transform([paper_text(p) for p in listing]))
