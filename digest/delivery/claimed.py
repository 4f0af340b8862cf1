"""The recipients one sender hands over: claimed from the shared ledger a batch at a time.

Several `digest run` processes (on several machines, with a PostgreSQL state) share an edition
this way: each queues the same recipients, then claims batches until none is left (see
store/claims.py). A dry run claims nothing: it takes its list as it is.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterator

from ..models import DeliveryLedger

CLAIM_BATCH = 32  # recipients per claim: one commit for many, and small shares at an edition's end
Clock = Callable[[], dt.datetime]


class Work:
    """(number, address) pairs as compose takes them; `taken` keeps them in order until the
    dispatcher pairs each with its job (a job of None, nothing matched, names no address)."""

    def __init__(self, pairs: Iterator[tuple[int, str]], expected: int) -> None:
        self.pairs = pairs
        self.expected = expected
        self.taken: deque[tuple[int, str]] = deque()

    def __len__(self) -> int:
        return self.expected

    def __iter__(self) -> Iterator[tuple[int, str]]:
        for pair in self.pairs:
            self.taken.append(pair)
            yield pair

    def next_taken(self) -> tuple[int, str]:
        return self.taken.popleft()


def listed(todo: list[tuple[int, str]]) -> Work:
    return Work(iter(todo), len(todo))


def claimed(
    ledger: DeliveryLedger, edition: dt.date, numbers: dict[str, int], lease: float, clock: Clock
) -> Work:
    """Batches claimed from the ledger until it has no unclaimed pending row for this edition."""
    return Work(_claiming(ledger, edition, numbers, lease, clock), len(numbers))


def _claiming(
    ledger: DeliveryLedger, edition: dt.date, numbers: dict[str, int], lease: float, clock: Clock
) -> Iterator[tuple[int, str]]:
    while batch := ledger.claim(edition, CLAIM_BATCH, clock(), lease):
        # A pending row this sender has no recipient for: queued by an earlier run for an address
        # that left, or is suppressed since. Nobody is to mail it in this edition.
        strays = [address for address in batch if address not in numbers]
        if strays:
            ledger.drop(edition, strays)
        yield from sorted((numbers[address], address) for address in batch if address in numbers)
