"""Messages and their hand-over: what render makes, delivery sends and the ledger records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from .papers import Digest


@dataclass(frozen=True)
class Outgoing:
    """A message ready for a transport: its id, the envelope sender, and its bytes on the wire."""

    message_id: str
    sender: str
    data: bytes  # CRLF line ends, as SMTP carries it and an .eml file keeps it
    # A file holding the bytes instead (data is then empty), written ahead by a worker process:
    # the outbox hands such a message over by renaming it into place (see Outbox.stage).
    staged: str = ""


@dataclass(frozen=True)
class Links:
    """The per-recipient links a digest carries."""

    unsubscribe: str
    manage: str
    unsubscribe_mailto: str
    web: str  # this edition in a browser, with every matched paper
    feed: str = ""  # the subscriber's personal Atom feed ("" where there is none, as in a preview)
    archive: str = ""  # the subscriber's past editions
    # Per paper id, the page where the reader says "more like this" or "less like this"
    # (`?vote=like` or `?vote=dislike`); a paper without one has no vote links.
    votes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str
    digest: Digest  # what was rendered: past the budget, fewer papers than were matched
    # Pieces of html and of text, in order, that recur in other emails of the edition (paper
    # blocks): their MIME encoding can be made once.
    recurring_html: tuple[str, ...] = ()
    recurring_text: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    address: str
    message: Outgoing
    paper_ids: tuple[str, ...]

    @property
    def message_id(self) -> str:
        return self.message.message_id


@dataclass(frozen=True)
class Uncomposed:
    """A recipient whose message could not be built (say, an operator's template that fails
    for their profile): reported, and tried again by the next run, while the others go on."""

    address: str
    reason: str


class Todo(Protocol):
    """(recipient number, address) pairs to compose, taken once, in order; a list is one. Its
    length is what is expected (claimed from a shared ledger, it may come to fewer)."""

    def __iter__(self) -> Iterator[tuple[int, str]]: ...

    def __len__(self) -> int: ...


# (recipient number, address) pairs → their jobs in the same order, None where nothing matched.
Compose = Callable[[Todo], Iterator[Job | Uncomposed | None]]


# A ledger row's state: pending → sending → sent, or deferred (tried again), failed (refused for
# good) or uncertain (the connection broke after the hand-over: it may have arrived).
DeliveryState = Literal["pending", "sending", "sent", "deferred", "failed", "uncertain"]
# What one hand-over came to.
SendOutcome = Literal["sent", "deferred", "uncertain", "failed"]


class DeliveryLedger(Protocol):
    """What delivery needs of the ledger; the store's Ledger is one. Declared here so that
    delivery and the store, two stages, share a type instead of importing each other."""

    def states(self, edition: dt.date) -> dict[str, DeliveryState]: ...

    def settle_interrupted(self, edition: dt.date) -> list[str]: ...

    def mark(
        self,
        address: str,
        edition: dt.date,
        state: DeliveryState,
        message_id: str = "",
        error: str | None = None,
    ) -> None: ...

    def mark_sent(
        self, address: str, edition: dt.date, message_id: str, paper_ids: Iterable[str]
    ) -> None: ...

    def mark_group(
        self, edition: dt.date, state: DeliveryState, messages: list[tuple[str, str]],
        error: str | None = None,
    ) -> None: ...  # fmt: skip

    def mark_sent_group(self, edition: dt.date, sent: list[tuple[str, str, tuple[str, ...]]]) -> None: ...

    def consecutive_failures(self, address: str) -> int: ...

    # Several senders on one edition (store/claims.py): rows queued, claimed, and begun only
    # while the claim is still this sender's.
    def queue(
        self, edition: dt.date, todo: Sequence[tuple[int, str]], now: dt.datetime, again: Sequence[str]
    ) -> None: ...

    def claim(self, edition: dt.date, count: int, now: dt.datetime, lease: float) -> list[str]: ...

    def begin(
        self, edition: dt.date, messages: Sequence[tuple[str, str]], now: dt.datetime, lease: float
    ) -> set[str]: ...

    def drop(self, edition: dt.date, addresses: Sequence[str]) -> None: ...

    def release(self, edition: dt.date, every: bool = False) -> None: ...

    def settle_expired(self, edition: dt.date, now: dt.datetime, every: bool = False) -> list[str]: ...

    def left_unclaimed(self, edition: dt.date, now: dt.datetime) -> int: ...

    def held_by_others(self, edition: dt.date, now: dt.datetime) -> bool: ...

    def is_suppressed(self, address: str) -> bool: ...

    def suppress(self, address: str, reason: str) -> None: ...
