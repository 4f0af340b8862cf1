"""The state database's tables, and the numbered steps that bring any older file up to them.

`PRAGMA user_version` (on PostgreSQL: the one row of `schema_version`) says which steps a
database has had; a database opened at the current version is not written at all (a read-only
one can still be read). Each step runs once, in order, inside one transaction with the others,
so a crash mid-way leaves the old version. The same steps build a PostgreSQL state: the DDL is
written once, in SQLite's words, and the few that differ are swapped in (`_in_dialect`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import StateError
from .database import Database

# Version 1 (before the schema had a number, so such files say 0): three delivery states.
DELIVERIES_V1 = """CREATE TABLE IF NOT EXISTS deliveries (
    address     TEXT NOT NULL,
    edition     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    message_id  TEXT NOT NULL,
    papers      TEXT NOT NULL DEFAULT '[]',
    error       TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (address, edition)
)"""

SENT_PAPERS = """CREATE TABLE IF NOT EXISTS sent_papers (
    address   TEXT NOT NULL,
    paper_id  TEXT NOT NULL,
    edition   TEXT NOT NULL,
    PRIMARY KEY (address, paper_id)
)"""

# Version 2: six delivery states, and when each row was created.
DELIVERIES = """CREATE TABLE deliveries (
    address     TEXT NOT NULL,
    edition     TEXT NOT NULL,
    state       TEXT NOT NULL
                CHECK (state IN ('pending', 'sending', 'sent', 'deferred', 'failed', 'uncertain')),
    message_id  TEXT NOT NULL,
    papers      TEXT NOT NULL DEFAULT '[]',
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (address, edition)
)"""

# Version 3: the tables that arrived while the number stayed at 2 (so a file at 2 may lack
# some of them: hence IF NOT EXISTS), and the sign-in link rotations.
LATER_TABLES = """
CREATE TABLE IF NOT EXISTS http_cache (
    url            TEXT PRIMARY KEY,
    body           BLOB NOT NULL,
    etag           TEXT,
    last_modified  TEXT,
    fetched_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suppressions (
    address  TEXT PRIMARY KEY,
    reason   TEXT NOT NULL,
    since    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_subscriptions (
    nonce       TEXT PRIMARY KEY,
    address     TEXT NOT NULL,
    keywords    TEXT NOT NULL,
    name        TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS confirmations_sent (
    address  TEXT NOT NULL,
    sent_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS unsubscribes (
    address  TEXT PRIMARY KEY,
    via      TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS edition_papers (
    address    TEXT NOT NULL,
    edition    TEXT NOT NULL,
    paper_ids  TEXT NOT NULL,
    PRIMARY KEY (address, edition)
);
CREATE TABLE IF NOT EXISTS source_fetches (
    location  TEXT PRIMARY KEY,
    ids_hash  TEXT NOT NULL,
    day       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_runs (
    slot     TEXT NOT NULL,
    edition  TEXT NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('done', 'tried')),
    at       TEXT NOT NULL,
    detail   TEXT,
    PRIMARY KEY (slot, edition)
);
CREATE TABLE IF NOT EXISTS papers (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS link_rotations (
    address  TEXT PRIMARY KEY,
    since    INTEGER NOT NULL
)
"""


# Bounce scores per address, and the bounce a
# delivery received, so an edition's report can count them.
BOUNCES = """
CREATE TABLE IF NOT EXISTS bounces (
    address      TEXT PRIMARY KEY,
    score        REAL NOT NULL,
    count        INTEGER NOT NULL,
    last_bounce  TEXT NOT NULL,
    reason       TEXT NOT NULL
);
ALTER TABLE deliveries ADD COLUMN bounce TEXT
"""
# What the operator's console reads and keeps: every fetch of every source (its
# health over time), the console's sign-ins (so a sign-out revokes its cookie), and the number
# of deliveries per edition and state, kept by triggers (100,000 subscribers × 30 editions are
# 3 million ledger rows: too many to count for every page).
CONSOLE_TABLES = """
CREATE TABLE IF NOT EXISTS source_checks (
    source    TEXT NOT NULL,
    location  TEXT NOT NULL,
    at        TEXT NOT NULL,
    day       TEXT NOT NULL,
    papers    INTEGER NOT NULL,
    new       INTEGER NOT NULL,
    error     TEXT
);
CREATE INDEX IF NOT EXISTS source_checks_by_day ON source_checks (day);
CREATE TABLE IF NOT EXISTS admin_sessions (
    id          TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    ended_at    TEXT
);
CREATE TABLE IF NOT EXISTS edition_tally (
    edition  TEXT NOT NULL,
    state    TEXT NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (edition, state)
);
INSERT INTO edition_tally (edition, state, count)
    SELECT edition, state, COUNT(*) FROM deliveries WHERE true GROUP BY edition, state
"""
# One statement each (a trigger's body has semicolons of its own). A ledger upsert that finds its
# row fires the update trigger, not the insert one; nothing deletes or REPLACEs ledger rows.
TALLY_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS tally_added AFTER INSERT ON deliveries BEGIN
         INSERT INTO edition_tally (edition, state, count) VALUES (NEW.edition, NEW.state, 1)
         ON CONFLICT (edition, state) DO UPDATE SET count = count + 1;
       END""",
    """CREATE TRIGGER IF NOT EXISTS tally_changed AFTER UPDATE OF edition, state ON deliveries
       WHEN OLD.edition IS NOT NEW.edition OR OLD.state IS NOT NEW.state BEGIN
         UPDATE edition_tally SET count = count - 1 WHERE edition = OLD.edition AND state = OLD.state;
         INSERT INTO edition_tally (edition, state, count) VALUES (NEW.edition, NEW.state, 1)
         ON CONFLICT (edition, state) DO UPDATE SET count = count + 1;
       END""",
    """CREATE TRIGGER IF NOT EXISTS tally_removed AFTER DELETE ON deliveries BEGIN
         UPDATE edition_tally SET count = count - 1 WHERE edition = OLD.edition AND state = OLD.state;
       END""",
)


# PostgreSQL has no SQLite-style trigger bodies: one function does what the three triggers do.
POSTGRES_TALLY = (
    """CREATE OR REPLACE FUNCTION edition_tally_kept() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP IN ('UPDATE', 'DELETE') THEN
           UPDATE edition_tally SET count = count - 1 WHERE edition = OLD.edition AND state = OLD.state;
         END IF;
         IF TG_OP IN ('INSERT', 'UPDATE') THEN
           INSERT INTO edition_tally (edition, state, count) VALUES (NEW.edition, NEW.state, 1)
           ON CONFLICT (edition, state) DO UPDATE SET count = edition_tally.count + 1;
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER tally_added AFTER INSERT OR DELETE ON deliveries
       FOR EACH ROW EXECUTE FUNCTION edition_tally_kept()""",
    """CREATE TRIGGER tally_changed AFTER UPDATE OF edition, state ON deliveries FOR EACH ROW
       WHEN (OLD.edition IS DISTINCT FROM NEW.edition OR OLD.state IS DISTINCT FROM NEW.state)
       EXECUTE FUNCTION edition_tally_kept()""",
)
# SQLite's column types that PostgreSQL names otherwise (REAL would be only 4 bytes there).
POSTGRES_TYPES = {"BLOB": "BYTEA", "REAL": "DOUBLE PRECISION"}


def _first_tables(db: Database) -> None:
    _run(db, DELIVERIES_V1 + ";" + SENT_PAPERS)


def _six_delivery_states(db: Database) -> None:
    """Copy version 1's rows into the wider table; each row was created when last updated."""
    db.execute("ALTER TABLE deliveries RENAME TO deliveries_v1")
    if db.dialect == "postgresql":  # its key's index keeps its name, which the new table needs
        db.execute("ALTER TABLE deliveries_v1 RENAME CONSTRAINT deliveries_pkey TO deliveries_v1_pkey")
    db.execute(DELIVERIES)
    db.execute(
        """INSERT INTO deliveries
             (address, edition, state, message_id, papers, error, created_at, updated_at)
           SELECT address, edition, state, message_id, papers, error, updated_at, updated_at
           FROM deliveries_v1"""
    )
    db.execute("DROP TABLE deliveries_v1")


def _later_tables(db: Database) -> None:
    _run(db, LATER_TABLES)


def _bounces(db: Database) -> None:
    _run(db, BOUNCES)


def _edition_reasons(db: Database) -> None:
    """Why each paper of an edition was matched ({paper id: [reason]}), for the archive and feed."""
    db.execute("ALTER TABLE edition_papers ADD COLUMN reasons TEXT NOT NULL DEFAULT '{}'")


def _console_tables(db: Database) -> None:
    _run(db, CONSOLE_TABLES)
    for trigger in POSTGRES_TALLY if db.dialect == "postgresql" else TALLY_TRIGGERS:
        db.execute(trigger)


def _rowid_as_columns(db: Database) -> None:
    """What SQLite's rowid did, in columns PostgreSQL has too: which sign-up a confirmation sent
    was for (a failed one is released by its nonce), and the order of the source checks."""
    db.execute("ALTER TABLE confirmations_sent ADD COLUMN nonce TEXT")
    db.execute("ALTER TABLE source_checks ADD COLUMN seq INTEGER")
    if db.dialect == "sqlite":  # a new PostgreSQL state has no rows yet
        db.execute("UPDATE source_checks SET seq = rowid")


def _scheduler_lease(db: Database) -> None:
    """Which `digest serve` schedules the site, until when (lease.py): a row every machine sees."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS scheduler_lease (
            name        TEXT PRIMARY KEY,
            holder      TEXT NOT NULL,
            expires_at  TEXT NOT NULL
        )"""
    )


def _delivery_claims(db: Database) -> None:
    """Which sender holds a ledger row, until when, and its place in the edition's order
    (claims.py): several senders share an edition. The index serves their claims."""
    db.execute("ALTER TABLE deliveries ADD COLUMN claimer TEXT")
    db.execute("ALTER TABLE deliveries ADD COLUMN lease_until TEXT")
    db.execute("ALTER TABLE deliveries ADD COLUMN place INTEGER")
    db.execute("CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (edition, state, place)")


# Step n takes a database from version n - 1 to version n. Append; never edit a step.
MIGRATIONS: tuple[Callable[[Database], None], ...] = (
    _first_tables,
    _six_delivery_states,
    _later_tables,
    _bounces,
    _edition_reasons,
    _console_tables,
    _rowid_as_columns,
    _scheduler_lease,
    _delivery_claims,
)
SCHEMA_VERSION = len(MIGRATIONS)


def version(db: Database) -> int:
    if db.dialect == "postgresql":
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = db.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _set_version(db: Database, number: int) -> None:
    if db.dialect == "postgresql":
        db.execute("DELETE FROM schema_version")
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    else:
        db.execute(f"PRAGMA user_version = {number}")


def migrate(db: Database, label: object) -> None:
    """Bring `db` (an autocommit connection) to SCHEMA_VERSION; no write when it is there."""
    if version(db) == SCHEMA_VERSION:
        return
    with db.transaction():
        found = version(db)  # again, now that no other process can be migrating it
        if found > SCHEMA_VERSION:
            raise StateError(
                f"state database {label} is at schema version {found}, newer than this digest's "
                f"{SCHEMA_VERSION}",
                "run the digest version that last used it, or restore a backup",
            )
        for step in MIGRATIONS[found:]:
            step(db)
        _set_version(db, SCHEMA_VERSION)


def _run(db: Database, statements: str) -> None:
    for statement in statements.split(";"):
        if statement.strip():
            db.execute(_in_dialect(db, statement))


def _in_dialect(db: Database, statement: str) -> str:
    if db.dialect != "postgresql":
        return statement
    return re.sub(r"\b(BLOB|REAL)\b", lambda word: POSTGRES_TYPES[str(word[0])], statement)
