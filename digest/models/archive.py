"""A subscriber's past editions as the archive pages and the Atom feed show them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .papers import Match


@dataclass(frozen=True)
class SentEdition:
    """One edition that reached an address: when, and how many papers it matched and sent."""

    edition: str  # YYYY-MM-DD
    sent_at: dt.datetime
    matched: int
    sent: int


@dataclass(frozen=True)
class SentPaper:
    """A paper an edition sent to an address, with why it was picked: one feed entry."""

    match: Match
    edition: str
    sent_at: dt.datetime
