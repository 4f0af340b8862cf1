"""The ledger's claims (store/claims.py), on SQLite and on PostgreSQL alike: senders that share an
edition get disjoint batches, hand over only what they still hold, and a dead sender's claims
expire into a state the others can trust."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from digest.delivery.dispatcher import Dispatcher
from digest.delivery.transports import Outbox
from digest.models import DeliveryPolicy, Job, Outgoing
from digest.store import Database, Ledger

from .conftest import StateLocation

EDITION = dt.date(2026, 11, 16)
NOW = dt.datetime(2026, 11, 16, 7, 0, tzinfo=dt.UTC)
LEASE = 60.0
ADDRESSES = [f"r{number:03d}@example.org" for number in range(100)]


def queued(db: Database, addresses: list[str] = ADDRESSES) -> None:
    Ledger(db, "queuer").queue(EDITION, list(enumerate(addresses)), NOW, ["deferred"])


def test_queued_recipients_are_pending_and_claimed_in_their_order_once(backend: Database) -> None:
    backwards = list(reversed(ADDRESSES))  # the order of the profiles, not of the addresses
    Ledger(backend, "queuer").queue(EDITION, list(enumerate(backwards)), NOW, ["deferred"])
    queued(backend)  # a second sender queues the same recipients: nothing changes
    first, second = Ledger(backend, "first"), Ledger(backend, "second")

    assert set(first.states(EDITION).values()) == {"pending"}
    assert sorted(first.claim(EDITION, 30, NOW, LEASE)) == sorted(backwards[:30])
    assert sorted(second.claim(EDITION, 30, NOW, LEASE)) == sorted(backwards[30:60])
    assert sorted(first.claim(EDITION, 100, NOW, LEASE)) == sorted(backwards[60:])
    assert second.claim(EDITION, 100, NOW, LEASE) == []


def test_two_connections_claiming_at_once_get_disjoint_batches(
    state_location: StateLocation, backend: Database
) -> None:
    queued(backend)
    start = threading.Barrier(2)
    batches: dict[str, list[list[str]]] = {"a": [], "b": []}

    def claim_all(name: str) -> None:
        with closing(state_location.open()) as db:  # a connection (a session) of its own
            ledger = Ledger(db, name)
            start.wait()
            while batch := ledger.claim(EDITION, 7, NOW, LEASE):
                batches[name].append(batch)

    threads = [threading.Thread(target=claim_all, args=(name,)) for name in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    claimed_a = [a for batch in batches["a"] for a in batch]
    claimed_b = [a for batch in batches["b"] for a in batch]
    assert not set(claimed_a) & set(claimed_b)
    assert sorted(claimed_a + claimed_b) == ADDRESSES


def test_a_message_begins_only_while_its_claim_is_ours(backend: Database) -> None:
    queued(backend, ADDRESSES[:2])
    slow, other = Ledger(backend, "slow"), Ledger(backend, "other")
    assert sorted(slow.claim(EDITION, 2, NOW, LEASE)) == ADDRESSES[:2]
    later = NOW + dt.timedelta(seconds=LEASE + 1)  # the slow sender's claim ran out...
    assert other.claim(EDITION, 1, later, LEASE) == ADDRESSES[:1]  # ...and the first was taken over

    begun = slow.begin(EDITION, [(a, f"<{a}>") for a in ADDRESSES[:2]], later, LEASE)

    assert begun == {ADDRESSES[1]}  # the other one is the other sender's to send
    assert other.begin(EDITION, [(ADDRESSES[0], "<0>")], later, LEASE) == {ADDRESSES[0]}
    assert other.begin(EDITION, [(ADDRESSES[0], "<0>")], later, LEASE) == set()  # begun already
    states = slow.states(EDITION)
    assert states == {ADDRESSES[0]: "sending", ADDRESSES[1]: "sending"}


def test_an_expired_claim_becomes_uncertain_and_a_live_one_does_not(backend: Database) -> None:
    queued(backend, ADDRESSES[:2])
    dead, live = Ledger(backend, "dead"), Ledger(backend, "live")
    dead.claim(EDITION, 1, NOW, 10)
    live.claim(EDITION, 1, NOW, 100)
    dead.begin(EDITION, [(ADDRESSES[0], "<0>")], NOW, 10)
    live.begin(EDITION, [(ADDRESSES[1], "<1>")], NOW, 100)
    watcher = Ledger(backend, "watcher")
    later = NOW + dt.timedelta(seconds=50)

    assert watcher.held_by_others(EDITION, later)  # the live claim
    assert watcher.settle_expired(EDITION, later) == [ADDRESSES[0]]
    assert watcher.states(EDITION) == {ADDRESSES[0]: "uncertain", ADDRESSES[1]: "sending"}
    live.mark_sent(ADDRESSES[1], EDITION, "<1>", ())
    assert not watcher.held_by_others(EDITION, later)  # an outcome is held by nobody
    assert watcher.settle_expired(EDITION, later + dt.timedelta(seconds=100)) == []


def test_a_pending_claim_that_expired_is_claimed_again_and_a_released_one_at_once(backend: Database) -> None:
    queued(backend, ADDRESSES[:3])
    dead, stopping, other = Ledger(backend, "dead"), Ledger(backend, "stopping"), Ledger(backend, "other")
    dead.claim(EDITION, 1, NOW, 10)
    stopping.claim(EDITION, 1, NOW, 10)
    stopping.release(EDITION)  # a clean stop: its claim is given up at once

    assert sorted(other.claim(EDITION, 3, NOW, LEASE)) == ADDRESSES[1:3]
    assert other.held_by_others(EDITION, NOW)  # the dead sender's claim, until it expires
    assert other.claim(EDITION, 3, NOW + dt.timedelta(seconds=11), LEASE) == ADDRESSES[:1]


def test_deferred_and_resent_uncertain_rows_are_queued_again_but_sent_ones_never(backend: Database) -> None:
    ledger = Ledger(backend, "earlier")
    for address, state in zip(ADDRESSES[:4], ("sent", "failed", "deferred", "uncertain"), strict=True):
        ledger.mark(address, EDITION, state, f"<{address}>")

    Ledger(backend, "resender").queue(EDITION, list(enumerate(ADDRESSES[:4])), NOW, ["deferred", "uncertain"])

    assert sorted(Ledger(backend, "later").claim(EDITION, 10, NOW, LEASE)) == ADDRESSES[2:4]
    assert [ledger.states(EDITION)[a] for a in ADDRESSES[:2]] == ["sent", "failed"]


def test_a_recipient_with_no_message_leaves_no_row(backend: Database) -> None:
    queued(backend, ADDRESSES[:2])
    ledger = Ledger(backend, "sender")
    ledger.claim(EDITION, 2, NOW, LEASE)

    ledger.drop(EDITION, ADDRESSES[:1])
    Ledger(backend, "another").drop(EDITION, ADDRESSES[1:2])  # not its claim: kept

    assert ledger.states(EDITION) == {ADDRESSES[1]: "pending"}


def test_a_dead_senders_claim_that_runs_out_mid_run_ends_uncertain_and_reported(
    backend: Database, tmp_path: Path
) -> None:
    """Its claim still live when this sender begins, expired by the time this one has nothing
    left to claim: the row it left `sending` is settled then, not left `sending`."""
    queued(backend, ADDRESSES[:3])
    dead = Ledger(backend, "dead")
    dead.claim(EDITION, 1, NOW, 10)
    dead.begin(EDITION, [(ADDRESSES[0], "<0>")], NOW, 10)  # it died handing this one over
    now = [NOW + dt.timedelta(seconds=5)]

    class SlowOutbox(Outbox):  # the dead sender's claim runs out while these are handed over
        def send(self, message: Outgoing, recipient: str) -> None:
            now[0] = NOW + dt.timedelta(seconds=30)
            super().send(message, recipient)

    def compose(todo: Iterator[tuple[int, str]]) -> Iterator[Job]:
        for _, address in todo:
            yield Job(address, Outgoing(f"<{address}>", "d@example.org", b"Subject: hi\r\n\r\nhi\r\n"), ())

    policy = DeliveryPolicy(retries=0, retry_delay=0, claim_lease=LEASE)
    outbox = SlowOutbox(tmp_path, EDITION.isoformat())
    survivor = Dispatcher(
        Ledger(backend, "survivor"), outbox, policy, EDITION, sole_sender=False, clock=lambda: now[0]
    )
    tally = survivor.run(ADDRESSES[:3], compose, None)

    assert dead.states(EDITION) == {ADDRESSES[0]: "uncertain", ADDRESSES[1]: "sent", ADDRESSES[2]: "sent"}
    assert [line.split(":")[0] for line in tally.uncertain] == [ADDRESSES[0]]


def test_a_sender_that_stops_counts_as_left_only_what_no_live_claim_holds(
    backend: Database, tmp_path: Path
) -> None:
    """Another sender holds a batch of the edition: when this one stops after 5 messages, the
    rest of its own and the unclaimed rows are left, not the other's."""
    queued(backend)
    Ledger(backend, "other").claim(EDITION, 32, NOW, LEASE)  # alive: it is handing these over
    checks = iter(range(len(ADDRESSES)))

    def compose(todo: Iterator[tuple[int, str]]) -> Iterator[Job]:
        for _, address in todo:
            yield Job(address, Outgoing(f"<{address}>", "d@example.org", b"Subject: hi\r\n\r\nhi\r\n"), ())

    policy = DeliveryPolicy(retries=0, retry_delay=0, claim_lease=LEASE)
    stopping = Dispatcher(
        Ledger(backend, "stopping"), Outbox(tmp_path, EDITION.isoformat()), policy, EDITION,
        should_stop=lambda: next(checks) >= 5, sole_sender=False, clock=lambda: NOW,
    )  # fmt: skip
    tally = stopping.run(ADDRESSES, compose, None)

    assert tally.stopped and tally.sent == 5
    assert tally.not_attempted == len(ADDRESSES) - 32 - 5
