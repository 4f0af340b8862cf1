"""Memos that forget: what recurs between the emails of an edition is made once, while memory
stays bounded however many subscribers the edition has."""

from __future__ import annotations

import itertools
from typing import Any

# Paper blocks, one per paper and set of terms it matched: about 10 KB each with their views
# and encodings. 15,000 hold most variants of a day's few thousand papers in about 150 MB.
VARIANTS = 15_000


def make_room(memo: dict[Any, Any], limit: int = VARIANTS) -> None:
    """Forget the older half of `memo` once it holds `limit` entries: what recurs is made again,
    and what only one email holds (a subscriber's own links) cannot pile up."""
    if len(memo) >= limit:
        for key in list(itertools.islice(memo, limit // 2)):  # dicts keep their insertion order
            del memo[key]
