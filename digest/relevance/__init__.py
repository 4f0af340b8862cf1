"""The learned ranker behind `like:` and `dislike:`: "more like these papers", offline.

A stage like matching: it imports only models and errors. The pipeline hands it papers (the
liked ones, the disliked ones, a sample of the archive and the listing) and gets back, per
profile, a `Likeness` that matching uses to select and re-rank.

    space.py    one TF-IDF space (words and bigrams of title and abstract), fitted on an archive sample
    counting.py its words and bigrams counted as scikit-learn counts them, but with numpy: faster
    taste.py    every profile's linear model in that space, its adaptive threshold, what it lifts
    spread.py   the median and median absolute deviation of each model's archive scores, from one sort
    reasons.py  why a lifted paper is like a liked one: the terms both weigh most
    cache.py    the space (fitted anew weekly) and the models (by the hash of their inputs) in the state dir
"""

from .cache import ModelCache, fingerprint, paper_stamp, taste_key
from .space import MIN_BACKGROUND, Space, fit_space
from .taste import THRESHOLDS, ListingLikeness, Taste, Voted, Votes

__all__ = [
    "MIN_BACKGROUND",
    "THRESHOLDS",
    "ListingLikeness",
    "ModelCache",
    "Space",
    "Taste",
    "Voted",
    "Votes",
    "fingerprint",
    "fit_space",
    "paper_stamp",
    "taste_key",
]
