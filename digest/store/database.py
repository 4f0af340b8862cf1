"""The one connection type above the store: SQLite or PostgreSQL behind the same few methods.

Everything outside digest/store/ holds a `Database` and never sees SQL or a driver. The store
writes its SQL once, in the subset both engines speak (`?` placeholders, `ON CONFLICT`), and
`transaction()` is its only way to group statements. SQLite's connection *is* the Database (a
subclass adding `dialect` and `transaction`), so its statements pay nothing for the wrapper;
PostgreSQL's (psycopg 3, autocommit) translates the placeholders, once per statement text.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..errors import StateError

if TYPE_CHECKING:
    import psycopg

Dialect = Literal["sqlite", "postgresql"]
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# The key of the advisory lock a PostgreSQL transaction takes first (any constant will do; this
# one spells "digest"): like SQLite's BEGIN IMMEDIATE, one writing transaction at a time, so
# check-then-write steps (a sign-up's rate limit, the ledger's settle) cannot interleave.
WRITE_LOCK = 0x646967657374
# What a statement may raise besides StateError (a full disk, a file changed under us): SQLite's
# errors pass through as they are, so its statements pay for no try block; PostgreSQL's
# become StateError in PostgresDatabase.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError,)


class Cursor(Protocol):
    """What a statement gives back: its rows, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...
    @property
    def description(self) -> Any: ...  # a sequence of columns, each with its name first
    def fetchone(self) -> Any: ...
    def fetchmany(self, size: int = ..., /) -> list[Any]: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """A connection to the state database, whichever engine holds it."""

    @property
    def dialect(self) -> Dialect: ...
    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Cursor: ...
    def transaction(self, exclusive: bool = True) -> AbstractContextManager[None]:
        """Statements that commit together, or not at all.

        `exclusive` (the default) takes the database's write lock first, so a check and the write
        it decides cannot interleave with another writer's. Without it, writers serialize only on
        the rows they touch: what claiming work with `SELECT … FOR UPDATE SKIP LOCKED` on
        PostgreSQL needs (SQLite then begins DEFERRED, and still has one writer at a time)."""
        ...

    def close(self) -> None: ...


class SQLiteDatabase(sqlite3.Connection):
    """sqlite3's own connection (made with `factory=`): execute stays the C method."""

    @property
    def dialect(self) -> Dialect:
        return "sqlite"

    @contextmanager
    def transaction(self, exclusive: bool = True) -> Iterator[None]:
        """BEGIN IMMEDIATE (or DEFERRED); committed on leaving, rolled back on an exception."""
        with self:
            self.execute("BEGIN IMMEDIATE" if exclusive else "BEGIN DEFERRED")
            yield


class PostgresDatabase:
    """A psycopg 3 connection in autocommit mode: each statement its own transaction, except
    inside `transaction()`, as on SQLite. Driver errors become StateError (one line at the CLI)."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection
        self.process = os.getpid()

    @property
    def dialect(self) -> Dialect:
        return "postgresql"

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        with _driver_errors():
            return self.connection.execute(_pyformat(sql) if parameters else sql, parameters or None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Cursor:
        cursor = self.connection.cursor()
        with _driver_errors():
            cursor.executemany(_pyformat(sql), list(rows))
        return cursor

    @contextmanager
    def transaction(self, exclusive: bool = True) -> Iterator[None]:
        with _driver_errors(), self.connection.transaction():
            if exclusive:
                self.connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield

    def close(self) -> None:
        self.connection.close()

    def __del__(self) -> None:
        # A web worker thread's connection lives as long as its thread (serve/thread_states.py)
        # and is dropped with it, as SQLite's are; closed here, so the server's session ends too.
        # Never in a forked worker: closing its copy would end the parent's session.
        if os.getpid() == self.process and not self.connection.closed:
            self.connection.close()


def is_postgres_url(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


def open_postgres(url: str) -> PostgresDatabase:
    """A connection to the PostgreSQL state at `url`; a StateError when there is none."""
    import psycopg  # only sites with a PostgreSQL state pay for importing the driver

    try:
        return PostgresDatabase(psycopg.connect(url, autocommit=True, connect_timeout=10))
    except psycopg.Error as error:
        raise StateError(f"state database {redacted(url)}: {_first_line(error)}", POSTGRES_HINT) from error


POSTGRES_HINT = (
    "check state_url (host, port, database, user; the password in ${VARIABLE}) and that the server runs"
)


def redacted(url: str) -> str:
    """The URL without its password, fit for an error message."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}@{host}"


@contextmanager
def _driver_errors() -> Iterator[None]:
    import psycopg

    try:
        yield
    except psycopg.Error as error:
        raise StateError(f"state database: {_first_line(error)}") from error


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@functools.lru_cache(maxsize=1024)
def _pyformat(sql: str) -> str:
    """`?` placeholders (outside quoted text) as psycopg's `%s`, and every literal `%` doubled."""
    parts = sql.replace("%", "%%").split("'")
    for index in range(0, len(parts), 2):  # the even parts are outside quotes
        parts[index] = parts[index].replace("?", "%s")
    return "'".join(parts)
