"""Opening the state database: once per run, per scheduled edition, per web worker thread.

A `State` is the state dir as one run sees it: where the database, the outbox and the site's
secret are, and the one connection to the database, opened on first use and shared by every
stage of the run (each open checks the schema, the departures file and the marker).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from ..errors import StateError
from ..tokens import site_secret
from .database import Database, PostgresDatabase, SQLiteDatabase, is_postgres_url, open_postgres, redacted
from .departures import departures_file, keep_departures, restore_departures
from .schema import migrate

DATABASE_NAME = "digest.sqlite3"
RESTORE_HINT = (
    "restore it from a backup; or start afresh with `digest init-state` (editions are then sent "
    "again, unsubscribes are kept from unsubscribes.jsonl)"
)
BROKEN_HINT = "check the file and its folder's permissions and free space, or restore it from a backup"


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def connect(path: Path, *, create: bool = False, url: str | None = None) -> Database:
    """The state database, brought up to the current schema: the PostgreSQL one at `url` when
    the site has a `state_url`, else the SQLite file at `path`.

    It is created on first use, but not where the state dir shows it existed before (its
    creation marker, the unsubscribes file, or the outbox): a database recreated there would
    resend editions and forget who left. `create` makes a new one anyway (`digest init-state`).
    A database that cannot be opened or updated is a StateError, one line, never a traceback.
    """
    if url is not None and is_postgres_url(url):
        return _opened_postgres(url)
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


def _opened_postgres(url: str) -> Database:
    """A server keeps its own backups and has no state dir to read signs of loss from: the
    database is created (migrated from empty) whenever it has no tables yet."""
    db = open_postgres(url)
    try:
        migrate(db, redacted(url))
    except BaseException:
        db.close()
        raise
    return db


def _opened(path: Path) -> SQLiteDatabase:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Explicit transactions (isolation_level=None); the factory adds the store's interface.
    db = sqlite3.connect(path, isolation_level=None, timeout=30, factory=SQLiteDatabase)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL: every commit survives the process being killed at any point (what the
        # exactly-once guarantee rests on); only a power cut can lose the last few, which the next
        # run then sends again. FULL would add a disk flush to every message's two commits.
        db.execute("PRAGMA synchronous=NORMAL")
        migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


class State:
    """The state dir of one run, scheduled edition or web worker thread; close it when done."""

    def __init__(self, state_dir: Path, configured_secret: str | None = None, url: str | None = None) -> None:
        self.dir = state_dir
        self.url = url
        self.database = state_dir / DATABASE_NAME
        self.outbox = state_dir / "outbox"
        self._configured_secret = configured_secret
        self._db: Database | None = None
        self._file: tuple[int, int] | None = None

    @property
    def db(self) -> Database:
        """The connection, opened on first use, and again if the file was replaced or removed
        since (so a lost database is noticed, not written to as a deleted file), or if the
        PostgreSQL server dropped it (a restart, a fail-over: a web worker keeps working)."""
        if self.url is not None:
            if isinstance(self._db, PostgresDatabase) and self._db.connection.broken:
                self.close()
            if self._db is None:
                self._db = connect(self.database, url=self.url)
            return self._db
        if self._db is not None and self._file != _identity(self.database):
            self.close()
        if self._db is None:
            self._db = connect(self.database)
            self._file = _identity(self.database)
        return self._db

    @property
    def secret(self) -> str:
        return site_secret(self._configured_secret, self.dir)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> State:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


@contextmanager
def state_unless_given(
    given: State | None, state_dir: Path, secret: str | None, url: str | None = None
) -> Iterator[State]:
    """The caller's state, left open for the caller; or a state of our own, closed when done."""
    if given is not None:
        yield given
        return
    with State(state_dir, secret, url) as own:
        yield own
