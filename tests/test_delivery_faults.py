"""Faults of the transport that must not lose anyone: a full disk, an outbox it may not write,
a relay that takes the data and never answers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import Site
from .smtp_relay import TAKE_DATA_NEVER_ANSWER, Relay
from .test_delivery import ALICE, BOB, CAROL, Cli, errors, run, states, subscribe, tally, use_smtp

DAVE, ERIN = "dave@example.org", "erin@example.org"


# An outbox that cannot be written: nothing is uncertain, everything waits for the next run.


def test_an_outbox_that_cannot_be_written_stops_the_run_and_the_next_run_sends_all(
    site: Site, cli: Cli
) -> None:
    subscribe(site, "group", BOB, CAROL)
    site.outbox.mkdir(parents=True)
    blocker = site.outbox / "2026-11-16"
    blocker.write_text("not a folder")  # as unwritable as a read-only folder, even for root

    blocked = run(cli, site)

    assert blocked.exit_code == 1
    [error] = errors(blocked)
    assert error.startswith("Error: 3 message(s) left for the next run: cannot write to the outbox ")
    assert "free disk space or fix the folder's permissions" in blocked.stderr
    assert set(states(site).values()) <= {"pending"}  # never 'uncertain': nothing was written
    assert tally(blocked, "sent", "uncertain") == (0, 0)

    blocker.unlink()
    after = run(cli, site)

    assert after.exit_code == 0, after.stderr
    assert tally(after, "sent", "uncertain") == (3, 0)
    assert sorted(p.name for p in blocker.iterdir()) == [f"{a}.eml" for a in (ALICE, BOB, CAROL)]


FULL_DISK = """
import datetime as dt, resource, signal, sqlite3, sys
from pathlib import Path
from digest.delivery.transports import Outbox
from digest.models import Outgoing
from digest.models import DeliveryPolicy
from digest.delivery.dispatcher import Dispatcher
from digest.models import Job
from digest.store import Ledger
from digest.store.schema import migrate
from digest.store import SQLiteDatabase

folder = Path(sys.argv[1])
db = sqlite3.connect(":memory:", isolation_level=None, factory=SQLiteDatabase)
migrate(db, 'memory')
edition = dt.date(2026, 11, 16)
addresses = ["small@example.org", "big@example.org", "later@example.org"]
sizes = {"small@example.org": 100, "big@example.org": 50_000, "later@example.org": 100}
def compose(todo):
    for _, address in todo:
        yield Job(address, Outgoing(f"<{address}>", "d@example.org", b"x" * sizes[address]), ())
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))
policy = DeliveryPolicy(retries=0, retry_delay=0)
outbox = Outbox(folder, edition.isoformat())
tally = Dispatcher(Ledger(db), outbox, policy, edition).run(addresses, compose, None)
print(tally.sent, tally.not_attempted, len(tally.uncertain))
print(tally.transport_error)
print(sorted(Ledger(db).states(edition).items()))
"""


def test_a_full_disk_loses_no_message_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    script = textwrap.dedent(FULL_DISK)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )

    counts, error, rows = done.stdout.splitlines()
    assert counts == "1 2 0"  # the big one and the one after it wait; none is uncertain
    assert error.startswith(f"cannot write to the outbox {tmp_path / '2026-11-16'}: File too large")
    # The group of three was marked sending together; the two that never left are pending again.
    pending = [("big@example.org", "pending"), ("later@example.org", "pending")]
    assert rows == str([*pending, ("small@example.org", "sent")])
    assert [p.name for p in (tmp_path / "2026-11-16").iterdir()] == ["small@example.org.eml"]


# A relay that takes DATA and never answers.


def test_a_relay_that_never_answers_after_data_stops_the_run_after_three(
    site: Site, cli: Cli, relay: Relay
) -> None:
    subscribe(site, "group", BOB, CAROL, DAVE, ERIN)
    use_smtp(site, relay.port, smtp={"timeout": 1})  # short: each silent reply costs one timeout
    for address in (ALICE, BOB, CAROL, DAVE, ERIN):
        relay.always(address, TAKE_DATA_NEVER_ANSWER)

    stalled = run(cli, site)

    assert stalled.exit_code == 1
    assert tally(stalled, "sent", "uncertain", "deferred") == (0, 3, 2)
    [error] = errors(stalled)
    assert error.startswith(
        "Error: 2 message(s) left for the next run: 3 messages in a row were handed over without an answer"
    )
    ledger = states(site)
    # The last two were never handed over: queued still, for the next run.
    assert sorted(ledger.values()) == ["pending"] * 2 + ["uncertain"] * 3

    for address in (ALICE, BOB, CAROL, DAVE, ERIN):
        relay.always(address, None)
    after = run(cli, site)

    assert after.exit_code == 0, after.stderr
    assert tally(after, "sent", "uncertain") == (2, 3)  # the uncertain ones are not resent
    assert sorted(states(site).values()) == ["sent"] * 2 + ["uncertain"] * 3


def test_a_message_that_surely_went_starts_the_count_of_silent_replies_again(
    site: Site, cli: Cli, relay: Relay
) -> None:
    subscribe(site, "group", BOB, CAROL, DAVE, ERIN)
    use_smtp(site, relay.port, smtp={"timeout": 1}, uncertain_limit=2)
    for address in (ALICE, CAROL, ERIN):  # every other one: never two in a row
        relay.always(address, TAKE_DATA_NEVER_ANSWER)

    result = run(cli, site)

    assert errors(result) == []
    assert tally(result, "sent", "uncertain", "deferred") == (2, 3, 0)
