"""Unsubscribes kept twice: in the database, and in an append-only file beside it.

An unsubscribe must outlive the database: a database deleted, emptied or restored from an old
backup would otherwise mail everyone who left. Every row added to or removed from the
`unsubscribes` table, by whatever code, is appended to `unsubscribes.jsonl` by a trigger on
each connection, and the file is read back when a database is created and before every run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path

from .database import SQLiteDatabase

FILE_NAME = "unsubscribes.jsonl"

log = logging.getLogger("digest.store")

# Temporary triggers live with one connection, so every connection adds them (connect does).
TRIGGERS = """
CREATE TEMP TRIGGER IF NOT EXISTS unsubscribe_kept AFTER INSERT ON main.unsubscribes
BEGIN SELECT keep_departure(NEW.address, 1, NEW.via, NEW.at); END;
CREATE TEMP TRIGGER IF NOT EXISTS resubscribe_kept AFTER DELETE ON main.unsubscribes
BEGIN SELECT keep_departure(OLD.address, 0, 'resubscribed', NULL); END;
"""


def departures_file(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def record_departure(state_dir: Path, address: str, left: bool, via: str, at: str | None = None) -> None:
    """Append one unsubscribe (left) or resubscribe (not left), flushed to disk."""
    at = at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    line = json.dumps({"address": address, "left": left, "via": via, "at": at}) + "\n"
    descriptor = os.open(departures_file(state_dir), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)  # rare and precious: worth a disk flush
    finally:
        os.close(descriptor)


def departures(state_dir: Path) -> dict[str, tuple[str, str]]:
    """Every address whose latest line says it left, with how and when."""
    try:
        lines = departures_file(state_dir).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    left: dict[str, tuple[str, str]] = {}
    for line in lines:
        try:
            entry = json.loads(line)
            address, gone = str(entry["address"]), bool(entry["left"])
        except (ValueError, KeyError, TypeError):
            continue  # a line torn by a crash mid-write: the database has that one
        if gone:
            left[address] = (str(entry.get("via") or "file"), str(entry.get("at") or ""))
        else:
            left.pop(address, None)
    return left


def departed(state_dir: Path) -> frozenset[str]:
    return frozenset(departures(state_dir))


def keep_departures(db: SQLiteDatabase, state_dir: Path) -> None:
    """From now on, every change to this connection's unsubscribes is also written to the file."""

    def keep(address: str, left: int, via: str, at: str | None) -> None:
        try:
            record_departure(state_dir, address, bool(left), via, at)
        except OSError as exc:  # the database has it; an unsubscribe must never fail for this
            log.warning("could not add %s to %s: %s", address, departures_file(state_dir), exc)

    db.create_function("keep_departure", 4, keep)
    db.executescript(TRIGGERS)


def restore_departures(db: SQLiteDatabase, state_dir: Path) -> int:
    """Copy the file's unsubscribes into a new database; how many were restored."""
    rows = [(address, via, at) for address, (via, at) in departures(state_dir).items()]
    with db.transaction():
        db.executemany(
            "INSERT INTO unsubscribes (address, via, at) VALUES (?, ?, ?) ON CONFLICT (address) DO NOTHING",
            rows,
        )
    return len(rows)
