"""Hand-overs to the outbox in groups: one commit marks a group `sending` before any of its
messages leaves, one more records their outcomes after; a run that dies mid-group leaves
the group uncertain, never sent twice, and the rest for the next run."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from digest.delivery.dispatcher import HANDOVER_GROUP, Dispatcher
from digest.delivery.transports import Outbox
from digest.models import DeliveryPolicy, Job, Outgoing
from digest.store import Ledger
from digest.store.connection import connect

EDITION = dt.date(2026, 11, 16)
ADDRESSES = [f"r{n:03}@example.org" for n in range(HANDOVER_GROUP * 2 + 5)]


def compose(todo: list[tuple[int, str]]):  # type: ignore[no-untyped-def]
    for _, address in todo:
        yield Job(address, Outgoing(f"<{address}>", "d@example.org", b"Subject: hi\r\n\r\nhi\r\n"), ("p1",))


class WatchedOutbox(Outbox):
    """The real outbox; before each write it reads, over a connection of its own, what the
    ledger on disk says of every recipient (what a run killed at that moment would leave)."""

    def __init__(self, folder: Path, database: Path) -> None:
        super().__init__(folder, EDITION.isoformat())
        self.watcher = sqlite3.connect(database)
        self.seen: list[dict[str, str]] = []

    def send(self, message: Outgoing, recipient: str) -> None:
        self.seen.append(dict(self.watcher.execute("SELECT address, state FROM deliveries")))
        super().send(message, recipient)

    def close(self) -> None:
        self.watcher.close()


def test_a_group_is_sending_on_disk_before_its_first_message_leaves_and_sent_after(tmp_path: Path) -> None:
    database = tmp_path / "state" / "digest.sqlite3"
    db = connect(database, create=True)
    outbox = WatchedOutbox(tmp_path / "outbox", database)
    policy = DeliveryPolicy(retries=0, retry_delay=0)

    tally = Dispatcher(Ledger(db), outbox, policy, EDITION).run(ADDRESSES, compose, None)
    outbox.close()

    assert tally.sent == len(ADDRESSES)
    for number, seen in enumerate(outbox.seen):
        group = number // HANDOVER_GROUP
        members = ADDRESSES[group * HANDOVER_GROUP : (group + 1) * HANDOVER_GROUP]
        assert {seen[a] for a in members} == {"sending"}  # all of them, before this one leaves
        assert {seen[a] for a in ADDRESSES[: group * HANDOVER_GROUP]} <= {"sent"}  # earlier groups
        later = ADDRESSES[(group + 1) * HANDOVER_GROUP :]
        assert {seen[a] for a in later} <= {"pending"}  # later ones: queued, nothing left for them
    assert set(Ledger(db).states(EDITION).values()) == {"sent"}
    assert len(list((tmp_path / "outbox" / EDITION.isoformat()).iterdir())) == len(ADDRESSES)


DIES_MID_GROUP = """
import datetime as dt, os, sys
from pathlib import Path
from digest.delivery.dispatcher import Dispatcher
from digest.delivery.transports import Outbox
from digest.models import DeliveryPolicy
from digest.store import Ledger
from digest.store.connection import connect
from tests.test_handover_groups import ADDRESSES, EDITION, compose

class Dying(Outbox):
    written = 0

    def send(self, message, recipient):
        if self.written == int(sys.argv[2]):
            os._exit(9)  # the process dies at once, as under SIGKILL: nothing more is recorded
        super().send(message, recipient)
        self.written += 1

db = connect(Path(sys.argv[1]) / "state" / "digest.sqlite3", create=True)
outbox = Dying(Path(sys.argv[1]) / "outbox", EDITION.isoformat())
policy = DeliveryPolicy(retries=0, retry_delay=0)
Dispatcher(Ledger(db), outbox, policy, EDITION).run(ADDRESSES, compose, None)
"""


def test_a_run_dying_mid_group_leaves_that_group_uncertain_and_the_next_run_sends_the_rest(
    tmp_path: Path,
) -> None:
    dies_after = HANDOVER_GROUP + 3  # the fourth message of the second group
    script = textwrap.dedent(DIES_MID_GROUP)
    root = Path(__file__).parent.parent
    died = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(dies_after)], cwd=root)
    assert died.returncode == 9

    db = connect(tmp_path / "state" / "digest.sqlite3")
    policy = DeliveryPolicy(retries=0, retry_delay=0)
    outbox = Outbox(tmp_path / "outbox", EDITION.isoformat())
    tally = Dispatcher(Ledger(db), outbox, policy, EDITION).run(ADDRESSES, compose, None)

    second_group = ADDRESSES[HANDOVER_GROUP : 2 * HANDOVER_GROUP]
    assert tally.skipped == HANDOVER_GROUP  # the first group was recorded sent
    assert sorted(entry.split(":")[0] for entry in tally.uncertain) == second_group  # not resent
    assert tally.sent == len(ADDRESSES) - 2 * HANDOVER_GROUP
    states = Ledger(db).states(EDITION)
    assert {states[a] for a in second_group} == {"uncertain"}
    assert all(states[a] == "sent" for a in ADDRESSES if a not in second_group)


def test_a_stop_mid_group_comes_between_two_messages_and_leaves_the_rest_pending(tmp_path: Path) -> None:
    db = connect(tmp_path / "state" / "digest.sqlite3", create=True)
    outbox = Outbox(tmp_path / "outbox", EDITION.isoformat())
    checks = iter(range(len(ADDRESSES)))
    policy = DeliveryPolicy(retries=0, retry_delay=0)
    stopping = Dispatcher(Ledger(db), outbox, policy, EDITION, should_stop=lambda: next(checks) >= 5)

    tally = stopping.run(ADDRESSES, compose, None)

    assert tally.stopped and tally.sent == 5 and tally.not_attempted == len(ADDRESSES) - 5
    states = Ledger(db).states(EDITION)
    assert [states.get(a) for a in ADDRESSES[:5]] == ["sent"] * 5
    assert {states.get(a) for a in ADDRESSES[5:HANDOVER_GROUP]} == {"pending"}  # never left: not uncertain
    assert len(list((tmp_path / "outbox" / EDITION.isoformat()).iterdir())) == 5
