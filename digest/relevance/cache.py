"""Spaces and tastes kept in the state dir, named by the hash of what they were trained on.

The space outlives the archive sample it was fitted on: an edition adds new papers to the
archive every day, and refitting the vocabulary and its weights for each would make every daily
edition pay for a first run. A space is fitted anew only when it is older than REFIT_DAYS or the
archive sample has grown to GROWTH times the papers it was fitted on (a young site); in between,
new papers are put into the existing space, and each profile's taste, keyed by the space and its
own inputs, is trained once.

The state dir is the operator's own storage (the SQLite database lives there too), which is
why its pickles are trusted. A cache that cannot be read or written is only slower, never wrong.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import pickle
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sklearn.exceptions import InconsistentVersionWarning

from ..models import Paper
from .space import Space
from .taste import Taste

CACHE_FILE = "likes-model.pickle"  # in the state dir
FORMAT = 4  # raise when Space or Taste change shape
REFIT_DAYS = 7  # a space older than this is fitted anew on the archive sample of the day
GROWTH = 1.5  # ... and so is one whose archive sample has grown to this many times its own


def fingerprint(*parts: Any) -> str:
    """A hash of the inputs: papers count by id and text, so a corrected abstract trains anew."""
    text = json.dumps([_plain(p) for p in parts], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# json.dumps(..., ensure_ascii=False) builds an encoder at every call; its output is this one's.
_KEY_ENCODER = json.JSONEncoder(ensure_ascii=False)


def taste_key(space_key: str, liked: list[str], disliked: list[str], similarity: str | None) -> str:
    """`fingerprint(space_key, liked, disliked, similarity)` of paper stamps, the same hash, made
    without walking the parts: one per profile, so tens of thousands an edition."""
    text = _KEY_ENCODER.encode([space_key, liked, disliked, similarity])
    return hashlib.sha256(text.encode()).hexdigest()


def paper_stamp(paper: Paper) -> str:
    """A paper's id and a hash of its text: a profile's model is trained anew when either changes."""
    text = f"{paper.title}\n{paper.abstract}".encode()
    return f"{paper.id}:{hashlib.sha256(text).hexdigest()[:16]}"


def _plain(part: Any) -> Any:
    if isinstance(part, Paper):
        return [part.id, part.title, part.abstract]
    if isinstance(part, list | tuple):
        return [_plain(p) for p in part]
    return part


class ModelCache:
    """The space of the latest archive sample and every taste trained in it."""

    def __init__(self, state_dir: Path | None) -> None:
        self.file = state_dir / CACHE_FILE if state_dir else None
        self.space_key: str = ""
        self.space: Space | None = None
        self.fitted_on = dt.date.min  # the day the space was fitted
        self.refitted = False  # whether this run fitted the space
        self.tastes: dict[str, Taste] = {}
        self.trained = 0  # tastes trained in this run (the others came from the cache)
        self.changed = False
        self._load()

    def space_for(
        self, sample_size: int, read_sample: Callable[[], Sequence[Paper]],
        fit: Callable[[Sequence[Paper]], Space], today: dt.date,
    ) -> Space:  # fmt: skip
        """The cached space, unless it is too old or too small for an archive sample of
        `sample_size` papers: then `fit` on the sample. Only then is the sample read."""
        if self.space is None or self._stale(self.space, sample_size, today):
            background = read_sample()
            self.space_key, self.space = fingerprint(FORMAT, list(background)), fit(background)
            self.tastes = {}
            self.fitted_on, self.refitted, self.changed = today, True, True
        return self.space

    def _stale(self, space: Space, sample: int, today: dt.date) -> bool:
        too_old = (today - self.fitted_on).days > REFIT_DAYS or today < self.fitted_on
        return too_old or sample >= GROWTH * space.background.shape[0]

    def tastes_for(self, keys: Sequence[str], train: Callable[[list[int]], list[Taste]]) -> list[Taste]:
        """The taste under each key: from the cache, or trained (those missing, all at once)."""
        missing = [n for n, key in enumerate(keys) if key not in self.tastes]
        if missing:
            for n, taste in zip(missing, train(missing), strict=True):
                self.tastes[keys[n]] = taste
            self.trained, self.changed = self.trained + len(missing), True
        return [self.tastes[key] for key in keys]

    def save(self) -> None:
        if self.file is None or not self.changed:
            return
        data = pickle.dumps((FORMAT, self.space_key, self.fitted_on, self.space, self.tastes))
        with contextlib.suppress(OSError):
            self.file.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.file.parent, prefix=".likes-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, self.file)

    def _load(self) -> None:
        if self.file is None or not self.file.is_file():
            return
        # An old or damaged cache is retrained, not an error; so is one that another version of
        # scikit-learn wrote: its objects may not mean the same here, and reading them warns.
        with contextlib.suppress(Exception), warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            version, key, fitted_on, space, tastes = pickle.loads(self.file.read_bytes())
            if version == FORMAT:
                self.space_key, self.fitted_on, self.space, self.tastes = key, fitted_on, space, tastes
