"""Copying a whole state from one database to another (`digest migrate-state`), checked by counts.

Both ends are first brought to the current schema, so they have the same tables and columns;
every table is copied, whatever the schema holds by then (a table a later migration adds comes
along without a change here). The copy is one transaction on the target: a failure leaves it as
it was. Rows are streamed in batches, so a ledger of millions of rows never sits in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import StateError
from ..models.console import TableCopy
from .database import Cursor, Database

BATCH = 5_000
# Kept by triggers on `deliveries`: emptied after the ledger is copied, then copied as it was.
TRIGGER_KEPT = ("edition_tally",)
NOT_STATE = ("schema_version",)  # PostgreSQL's record of the schema version, which the target has


def tables(db: Database) -> list[str]:
    """The state's tables, in name order, the trigger-kept ones last."""
    if db.dialect == "postgresql":
        query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
    names = sorted(row[0] for row in db.execute(query) if row[0] not in NOT_STATE)
    return [n for n in names if n not in TRIGGER_KEPT] + [n for n in names if n in TRIGGER_KEPT]


def row_counts(db: Database, names: list[str]) -> dict[str, int]:
    return {name: int(db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]) for name in names}


def copy_state(source: Database, target: Database, replace: bool = False) -> list[TableCopy]:
    """Every row of `source` into `target`, then each table's count in both.

    A target that holds any row is refused (StateError) unless `replace`, which empties it first."""
    names = tables(source)
    missing = sorted(set(names) - set(tables(target)))
    if missing:
        raise StateError(f"the target has no table {', '.join(missing)}", "is it the same digest version?")
    held = {name: count for name, count in row_counts(target, names).items() if count}
    if held and not replace:
        found = ", ".join(f"{name} ({count})" for name, count in sorted(held.items()))
        raise StateError(f"the target state is not empty: {found}", "pass --force to replace its rows")
    with target.transaction():
        for name in names:
            target.execute(f"DELETE FROM {name}")
            _copy_table(source, target, name)
    before, after = row_counts(source, names), row_counts(target, names)
    return [TableCopy(name, before[name], after[name]) for name in names]


def _copy_table(source: Database, target: Database, name: str) -> None:
    cursor = source.execute(f"SELECT * FROM {name}")
    columns = [column[0] for column in cursor.description]
    insert = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    try:
        for batch in _batches(cursor):
            target.executemany(insert, batch)
    except StateError as error:
        raise StateError(f"copying table {name}: {error}", error.hint) from error


def _batches(cursor: Cursor) -> Iterator[list[Any]]:
    while rows := cursor.fetchmany(BATCH):
        yield rows
