"""The state database: the only package that touches SQLite.

One file in the state dir holds the delivery ledger and the schedule log (ledger.py), the HTTP
cache, the paper archive and each source's last listing (listings.py), and the subscribers'
sign-ups and unsubscribes (subscribers.py). Unsubscribes are also kept in a file beside it
(departures.py), and a marker says a database was created, so a lost one is noticed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
from pathlib import Path

from ..errors import StateError
from .departures import departed, departures_file, keep_departures, restore_departures

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
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
);
CREATE TABLE IF NOT EXISTS sent_papers (
    address   TEXT NOT NULL,
    paper_id  TEXT NOT NULL,
    edition   TEXT NOT NULL,
    PRIMARY KEY (address, paper_id)
);
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
"""


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


SCHEMA_VERSION = 2
TABLES = frozenset(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))
RESTORE_HINT = (
    "restore it from a backup; or start afresh with `digest init-state` (editions are then sent "
    "again, unsubscribes are kept from unsubscribes.jsonl)"
)
BROKEN_HINT = "check the file and its folder's permissions and free space, or restore it from a backup"


def connect(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """The state database, brought up to the current schema.

    It is created on first use, but not where the state dir shows it existed before (its
    creation marker, the unsubscribes file, or the outbox): a database recreated there would
    resend editions and forget who left. `create` makes a new one anyway (`digest init-state`).
    A database that cannot be opened or updated is a StateError, one line, never a traceback.
    """
    new = not path.exists() or path.stat().st_size == 0
    if new and not create:
        _refuse_if_used_before(path)
    try:
        db = _opened(path)
    except sqlite3.DatabaseError as exc:
        raise StateError(f"state database {path}: {exc}", BROKEN_HINT) from exc
    if new:
        restore_departures(db, path.parent)
    keep_departures(db, path.parent)
    if not _marker(path).exists():
        with contextlib.suppress(OSError):  # a read-only state dir can still be read
            _marker(path).touch()
    return db


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".created")


def _refuse_if_used_before(path: Path) -> None:
    state_dir = path.parent
    sent = next(state_dir.glob("outbox/*/*.eml"), None)  # one is enough; there may be thousands
    signs = [
        (_marker(path), "a database was created here before"),
        (departures_file(state_dir), "unsubscribes were recorded here before"),
        (sent, "editions were sent here before"),
    ]
    for sign, meaning in signs:
        if sign is not None and sign.is_file():
            state = "empty" if path.exists() else "missing"
            raise StateError(
                f"state database {path} is {state}, but {sign.name} shows {meaning}", RESTORE_HINT
            )


def _opened(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=30)  # explicit transactions below
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL: every commit survives the process being killed at any point (what the
        # exactly-once guarantee rests on); only a power cut can lose the last few, which the next
        # run then sends again. FULL would add a disk flush to every message's two commits.
        db.execute("PRAGMA synchronous=NORMAL")
        if not _up_to_date(db):  # no write otherwise: a read-only database can still be read
            with db:
                db.execute("BEGIN IMMEDIATE")
                _migrate(db)
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.close()
        raise
    return db


def _up_to_date(db: sqlite3.Connection) -> bool:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return version == SCHEMA_VERSION and tables >= TABLES


def _migrate(db: sqlite3.Connection) -> None:
    """Version 1 allowed only three delivery states; copy its rows into the wider table."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'deliveries'").fetchone()
    if exists and version < 2:
        db.execute("ALTER TABLE deliveries RENAME TO deliveries_v1")
        db.execute(SCHEMA.split(";")[0])
        db.execute(
            """INSERT INTO deliveries
                 (address, edition, state, message_id, papers, error, created_at, updated_at)
               SELECT address, edition, state, message_id, papers, error, updated_at, updated_at
               FROM deliveries_v1"""
        )
        db.execute("DROP TABLE deliveries_v1")


from .ledger import Ledger, ScheduleLog  # noqa: E402 - they build on connect() above
from .listings import HttpCache, PaperArchive, SourceHistory  # noqa: E402
from .subscribers import Subscriptions  # noqa: E402

__all__ = [
    "HttpCache", "Ledger", "PaperArchive", "ScheduleLog", "SourceHistory", "Subscriptions",
    "connect", "departed", "now_text",
]  # fmt: skip
