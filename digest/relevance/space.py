"""One TF-IDF feature space: words and bigrams of title and abstract, fitted on the archive sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from ..models import Paper

# Fewer papers than this cannot tell a reader's taste from the site's usual papers.
MIN_BACKGROUND = 50
# Enough for the bigrams of a few thousand abstracts; more only costs memory.
MAX_FEATURES = 1 << 17


@dataclass
class Space:
    """A fitted vectorizer, the archive sample's rows in it, and their mean (what is usual here)."""

    vectorizer: TfidfVectorizer
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
            return sparse.csr_matrix(self.vectorizer.transform([paper_text(p) for p in papers]))
        stacked = self.fitted
        if new:
            fresh = sparse.csr_matrix(self.vectorizer.transform([paper_text(p) for p in new]))
            stacked = sparse.vstack([self.fitted, fresh], format="csr")
        numbers = iter(range(self.fitted.shape[0], stacked.shape[0]))
        return stacked[[self.known[p.id] if p.id in self.known else next(numbers) for p in papers]]

    def usual_of(self, rows: sparse.csr_matrix) -> np.ndarray:
        """Each row's likeness to the archive's usual paper: the same for every profile, so computed once."""
        return np.asarray((rows @ self.centroid.T).todense()).ravel()


def paper_text(paper: Paper) -> str:
    # The title twice: a word in the title says more about a paper than one in its abstract.
    return f"{paper.title}. {paper.title}. {paper.abstract}"


def fit_space(background: Sequence[Paper], liked: Sequence[Paper] = ()) -> Space:
    """The space of the archive sample; liked papers join its vocabulary so their words count."""
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        stop_words="english",
        strip_accents="unicode",
        max_features=MAX_FEATURES,
        dtype=np.float32,
    )
    fitted = sparse.csr_matrix(vectorizer.fit_transform([paper_text(p) for p in (*background, *liked)]))
    rows = fitted[: len(background)]
    centroid = sparse.csr_matrix(rows.mean(axis=0))
    usual = np.asarray((rows @ centroid.T).todense()).ravel()
    terms = vectorizer.get_feature_names_out()
    boost = np.where(np.char.find(terms.astype(str), " ") >= 0, 1.5, 1.0)
    known = {paper.id: number for number, paper in reversed(list(enumerate((*background, *liked))))}
    return Space(vectorizer, terms, rows, centroid, usual, boost, known, fitted)
