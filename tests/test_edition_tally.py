"""The per-edition counts kept by triggers agree with counting the ledger, whatever writes it."""

from __future__ import annotations

import datetime as dt
import random

from digest.store import Database, Ledger
from digest.store.overview import edition_counts

STATES = ("pending", "sending", "sent", "deferred", "failed", "uncertain")


def counted(db: Database) -> dict[tuple[str, str], int]:
    rows = db.execute("SELECT edition, state, COUNT(*) FROM deliveries GROUP BY edition, state")
    return {(edition, state): count for edition, state, count in rows}


def kept(db: Database) -> dict[tuple[str, str], int]:
    rows = db.execute("SELECT edition, state, count FROM edition_tally WHERE count > 0")
    return {(edition, state): count for edition, state, count in rows}


def test_the_tally_follows_every_kind_of_ledger_write(backend: Database) -> None:
    """On both engines: SQLite's triggers and PostgreSQL's trigger function keep the same counts."""
    rng = random.Random(19)
    editions = [dt.date(2026, 11, day) for day in (14, 15, 16)]
    db = backend
    ledger = Ledger(db)
    for _ in range(400):
        address, edition = f"r{rng.randrange(40)}@example.org", rng.choice(editions)
        choice = rng.random()
        if choice < 0.6:
            ledger.mark(address, edition, rng.choice(STATES))
        elif choice < 0.8:
            ledger.mark_sent(address, edition, "<m@x>", ["2611.00001"])
        elif choice < 0.9:
            ledger.settle_interrupted(edition)
        else:
            db.execute("DELETE FROM deliveries WHERE address = ?", (address,))
    assert kept(db) == counted(db)
    newest = edition_counts(db, 2)
    assert [e.edition for e in newest] == ["2026-11-16", "2026-11-15"]
    totals = {
        e: sum(n for (ed, _), n in counted(db).items() if ed == e) for e in ("2026-11-16", "2026-11-15")
    }
    assert {e.edition: e.total for e in newest} == totals
