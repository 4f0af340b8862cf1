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

    def rows(self, papers: Sequence[Paper]) -> sparse.csr_matrix:
        """The papers as L2-normalized TF-IDF rows."""
        return sparse.csr_matrix(self.vectorizer.transform([paper_text(p) for p in papers]))


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
    vectorizer.fit([paper_text(p) for p in (*background, *liked)])
    rows = sparse.csr_matrix(vectorizer.transform([paper_text(p) for p in background]))
    centroid = sparse.csr_matrix(rows.mean(axis=0))
    return Space(vectorizer, vectorizer.get_feature_names_out(), rows, centroid)
