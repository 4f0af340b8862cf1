"""Words and bigrams counted as scikit-learn's CountVectorizer counts them, with numpy.

CountVectorizer joins every bigram into a string and counts each feature in a Python dict: most
of the time of fitting the space and of putting a listing into it. Here each text is still
lowercased, stripped of accents and split into words by the vectorizer's own functions (so they
cannot drift from it), but every word of the batch becomes a number in one pass of dict look-ups
in C, and the features are numbers too, counted by sorting.

A feature's key is `word × (words + 1)` for a word and `first × (words + 1) + 1 + second` for a
bigram, words numbered in sorted order. A space sorts below every character a word can hold, so
the keys sort as the vectorizer sorts its terms ("data" < "data mixture" < "database"): a
column is a key's place among the sorted keys of the vocabulary, as in the vectorizer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, repeat

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

STOP = -2  # a stop word's number: dropped before the bigrams are formed, as the vectorizer does
UNKNOWN = -1  # a word not met at fit: it forms no feature, and no bigram across it either
WORD = r"(?u)\b\w\w+\b"  # the vectorizer's words: two or more word characters, none below a space


class Vocabulary:
    """The words and bigrams fitted: each column's key, and the numbers of the words they are made of."""

    def __init__(self, settings: CountVectorizer, words: list[str], keys: np.ndarray) -> None:
        self.settings, self.words, self.keys = settings, words, keys  # keys: sorted, one per column
        self.numbers = _numbering(settings, words)
        # A word's column is looked up directly, a bigram's among the bigrams' keys only.
        is_word = self.keys % (len(words) + 1) == 0
        self.word_column = np.full(len(words), -1, dtype=np.int64)
        self.word_column[self.keys[is_word] // (len(words) + 1)] = np.flatnonzero(is_word)
        self.bigram_keys, self.bigram_columns = self.keys[~is_word], np.flatnonzero(~is_word)

    def terms(self) -> np.ndarray:
        """Column → its word or bigram: the vectorizer's feature names."""
        first, second = np.divmod(self.keys, len(self.words) + 1)
        words = self.words
        pairs = zip(first.tolist(), second.tolist(), strict=True)
        return np.array([f"{words[a]} {words[b - 1]}" if b else words[a] for a, b in pairs], dtype=object)

    def bigrams(self) -> np.ndarray:
        """Column → whether it is a bigram."""
        bigram: np.ndarray = self.keys % (len(self.words) + 1) != 0
        return bigram

    def count(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The texts' counts: what the fitted vectorizer's `transform` gives, indices sorted."""
        numbers, lengths = _numbers(self.settings, texts, self.numbers)
        words, bigrams, documents = _features(numbers, lengths, len(self.words))
        bigram_columns = _look_up(self.bigram_keys, self.bigram_columns, bigrams)
        columns = np.concatenate([self.word_column[words // (len(self.words) + 1)], bigram_columns])
        counted = columns >= 0
        return _counted(documents[counted], columns[counted], len(texts), len(self.keys), self.settings.dtype)


def fit(settings: CountVectorizer, texts: Sequence[str]) -> tuple[Vocabulary, sparse.csr_matrix]:
    """The texts' vocabulary and counts: what the vectorizer's `fit_transform` gives, the same
    columns and, within each row, the same order (the order in which its fit met the terms, which
    the L2 norm of each row is summed in, so the TF-IDF rows are the same to the bit)."""
    _check(settings)
    tokens, lengths = _tokens(settings, texts)
    words = sorted(set(tokens).difference(settings.get_stop_words() or ()))
    numbers = np.fromiter(map(_numbering(settings, words).__getitem__, tokens), np.int64, len(tokens))
    word_keys, bigram_keys, documents = _features(numbers, lengths, len(words))
    if not len(documents):
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    # The vectorizer meets a text's words, then its bigrams, text after text: a stable sort of two
    # runs already in text order.
    kinds = np.repeat(np.array([0, 1]), [len(word_keys), len(bigram_keys)])
    met_order = np.argsort(documents * 2 + kinds, kind="stable")
    keys, documents = np.concatenate([word_keys, bigram_keys])[met_order], documents[met_order]
    features, feature_of, met = _distinct(keys)
    kept = _most_frequent(feature_of, len(features), settings.max_features, settings.dtype)
    counted = kept[feature_of]
    by_met = _counted(documents[counted], met[feature_of[counted]], len(texts), len(features), settings.dtype)
    column = np.empty(len(features), dtype=np.int64)  # the vectorizer's number → the column kept
    column[met] = np.cumsum(kept) - 1
    indices = column[by_met.indices].astype(by_met.indices.dtype)
    matrix = sparse.csr_matrix((by_met.data, indices, by_met.indptr), shape=(len(texts), int(kept.sum())))
    return Vocabulary(settings, words, features[kept]), matrix


def _check(settings: CountVectorizer) -> None:
    """What this module counts as the vectorizer does: words (of the pattern that makes the keys
    sort as the terms) and bigrams, without document limits."""
    counted_here = (
        (settings.analyzer, settings.tokenizer, settings.token_pattern) == ("word", None, WORD)
        and settings.ngram_range == (1, 2)
        and (settings.max_df, settings.min_df, settings.binary, settings.vocabulary) == (1.0, 1, False, None)
        and (type(settings.max_df), type(settings.min_df)) == (float, int)  # 1 document, or all of them
    )
    if not counted_here:
        raise ValueError("only words and bigrams without document limits are counted here")


def _numbering(settings: CountVectorizer, words: list[str]) -> dict[str, int]:
    numbers = dict.fromkeys(settings.get_stop_words() or (), STOP)
    numbers.update(zip(words, range(len(words)), strict=True))
    return numbers


def _tokens(settings: CountVectorizer, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Every word of every text in order (the vectorizer's own preprocessing and tokenizer), and
    how many each text has."""
    preprocess, tokenize = settings.build_preprocessor(), settings.build_tokenizer()
    split = [tokenize(preprocess(text)) for text in texts]
    return list(chain.from_iterable(split)), np.fromiter(map(len, split), np.int64, len(split))


def _numbers(
    settings: CountVectorizer, texts: Sequence[str], numbers: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Each word's number (UNKNOWN for a word not numbered), and how many words each text has."""
    tokens, lengths = _tokens(settings, texts)
    return np.fromiter(map(numbers.get, tokens, repeat(UNKNOWN)), np.int64, len(tokens)), lengths


def _features(
    numbers: np.ndarray, lengths: np.ndarray, words: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The keys of the texts' words and of their bigrams, each in text order, and the text of
    each (those of the words, then those of the bigrams)."""
    documents = np.repeat(np.arange(len(lengths)), lengths)
    not_stop = numbers != STOP
    numbers, documents = numbers[not_stop], documents[not_stop]
    paired = (documents[1:] == documents[:-1]) & (numbers[1:] >= 0) & (numbers[:-1] >= 0)
    bigrams = numbers[:-1][paired] * (words + 1) + 1 + numbers[1:][paired]
    known = numbers >= 0
    return numbers[known] * (words + 1), bigrams, np.concatenate([documents[known], documents[1:][paired]])


def _counted(
    documents: np.ndarray, columns: np.ndarray, rows: int, width: int, dtype: np.dtype
) -> sparse.csr_matrix:
    """How often each (text, column) pair occurs, columns sorted in each row."""
    ones: np.ndarray = np.ones(len(documents), dtype=dtype)
    counted = sparse.csr_matrix((ones, (documents, columns)), shape=(rows, width))
    counted.sum_duplicates()  # the canonical format: pairs summed, columns sorted (scipy's made so)
    return counted


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct keys, sorted; each key's place among them; and each distinct key's number in
    the order they were first met (the order of `keys`), found by one stable sort."""
    order = _stable_order(keys)
    starts = np.concatenate([[True], np.diff(keys[order]) != 0])
    place = np.empty(len(keys), dtype=np.int64)
    place[order] = np.cumsum(starts) - 1
    first = order[starts]  # stable: where each distinct key was first met
    met = np.empty(len(first), dtype=np.int64)
    met[np.argsort(first)] = np.arange(len(first))
    return keys[first], place, met


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """A stable argsort of keys from 0 up: a radix sort, 16 bits a pass (numpy sorts 16-bit
    numbers stably by radix; it would sort these keys by comparisons, several times slower)."""
    order = np.arange(len(keys))
    top, shift = int(keys.max(initial=0)), 0
    while top >> shift:
        digits = ((keys[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digits, kind="stable")]
        shift += 16
    return order


def _look_up(keys: np.ndarray, columns: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The column of each wanted key among the sorted keys, -1 where it is not one of them."""
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    found = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[found] == wanted, columns[found], -1)


def _most_frequent(feature_of: np.ndarray, features: int, limit: int | None, dtype: np.dtype) -> np.ndarray:
    """Which features the vectorizer keeps: the `limit` counted most often. Its ties are broken
    as the vectorizer breaks them: the same numpy call on the same array (the column sums of its
    counts, in their dtype)."""
    kept = np.ones(features, dtype=bool)
    if limit is not None and features > limit:
        totals = np.bincount(feature_of, minlength=features).astype(dtype)
        kept[:] = False
        kept[(-totals).argsort()[:limit]] = True
    return kept
