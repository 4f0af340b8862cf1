"""One TF-IDF feature space: words and bigrams of title and abstract, fitted on the archive sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from ..models import Paper
from . import counting

# Fewer papers than this cannot tell a reader's taste from the site's usual papers.
MIN_BACKGROUND = 50
# Enough for the bigrams of a few thousand abstracts; more only costs memory.
MAX_FEATURES = 1 << 17


@dataclass
class Space:
    """A fitted vocabulary and its weights, the archive sample's rows in it, and their mean (what is
    usual here)."""

    vocabulary: counting.Vocabulary
    weights: TfidfTransformer  # each term's inverse document frequency, and the rows' normalization
    terms: np.ndarray  # feature number → the word or bigram
    background: sparse.csr_matrix
    centroid: sparse.csr_matrix  # 1 × features
    usual: np.ndarray  # each background row's likeness to the centroid (see usual_of)
    bigram_boost: np.ndarray  # feature number → 1.5 for a bigram, 1 for a word: reasons prefer bigrams
    known: dict[str, int]  # the paper ids fitted (background, then liked) → their rows in `fitted`
    fitted: sparse.csr_matrix  # the background's rows, then those of the liked papers fitted with it

    def rows(self, papers: Sequence[Paper]) -> sparse.csr_matrix:
        """The papers as L2-normalized TF-IDF rows; those fitted are not computed again."""
        new = [p for p in papers if p.id not in self.known]
        if not papers:
            return sparse.csr_matrix((0, len(self.terms)), dtype=np.float32)
        if len(new) == len(papers):
            return self._transform(papers)
        stacked = self.fitted
        if new:
            fresh = self._transform(new)
            stacked = sparse.vstack([self.fitted, fresh], format="csr")
        numbers = iter(range(self.fitted.shape[0], stacked.shape[0]))
        return stacked[[self.known[p.id] if p.id in self.known else next(numbers) for p in papers]]

    def _transform(self, papers: Sequence[Paper]) -> sparse.csr_matrix:
        counts = self.vocabulary.count([paper_text(p) for p in papers])
        return sparse.csr_matrix(self.weights.transform(counts, copy=False))

    def usual_of(self, rows: sparse.csr_matrix) -> np.ndarray:
        """Each row's likeness to the archive's usual paper: the same for every profile, so computed once."""
        return np.asarray((rows @ self.centroid.T).todense()).ravel()


def paper_text(paper: Paper) -> str:
    # The title twice: a word in the title says more about a paper than one in its abstract.
    return f"{paper.title}. {paper.title}. {paper.abstract}"


def fit_space(background: Sequence[Paper], liked: Sequence[Paper] = ()) -> Space:
    """The space of the archive sample; liked papers join its vocabulary so their words count."""
    vocabulary, counts = counting.fit(counted_as(), [paper_text(p) for p in (*background, *liked)])
    # scikit-learn's TfidfVectorizer is these counts and this transformer: its rows, to the bit.
    weights = TfidfTransformer(sublinear_tf=True).fit(counts)
    fitted = sparse.csr_matrix(weights.transform(counts, copy=False))
    rows = fitted[: len(background)]
    centroid = sparse.csr_matrix(rows.mean(axis=0))
    usual = np.asarray((rows @ centroid.T).todense()).ravel()
    boost = np.where(vocabulary.bigrams(), 1.5, 1.0)
    known = {paper.id: number for number, paper in reversed(list(enumerate((*background, *liked))))}
    return Space(vocabulary, weights, vocabulary.terms(), rows, centroid, usual, boost, known, fitted)


def counted_as() -> CountVectorizer:
    """The space's words and bigrams, as scikit-learn would count them (`counting` counts them)."""
    return CountVectorizer(
        ngram_range=(1, 2),
        stop_words="english",
        strip_accents="unicode",
        max_features=MAX_FEATURES,
        dtype=np.float32,
    )
