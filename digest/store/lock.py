"""Locks between processes: lock files in the state dir, held with flock.

The kernel releases a flock when its holder dies, so a killed process never leaves a stale lock,
and the file says who holds it, so the process that finds it taken can say so.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import EditionLocked

_HELD: set[int] = set()  # descriptors of the locks this process holds


def forget_inherited_locks() -> None:
    """In a forked child: close the parent's lock descriptors without unlocking them.

    A flock lasts until every descriptor of its file is closed, so a child that kept them would
    hold the parent's locks after the parent died. Unlocking here would release them for the
    parent too; closing only drops the child's share.
    """
    for descriptor in list(_HELD):
        os.close(descriptor)
    _HELD.clear()


class LockFile:
    """An exclusive lock on `path`, taken without waiting."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[str] | None = None

    def acquire(self, doing: str = "") -> str | None:
        """Take the lock; None when taken, or the description of the process holding it
        (`doing` first, as its holder wrote it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            return holder
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        handle.write(f"{doing}process {os.getpid()} on {os.uname().nodename}, since {started}")
        handle.flush()
        self.handle = handle
        _HELD.add(handle.fileno())
        return None

    def release(self) -> None:
        if self.handle is not None:
            _HELD.discard(self.handle.fileno())
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


@contextmanager
def edition_lock(state_dir: Path, edition: dt.date) -> Iterator[None]:
    """Hold the site's sending lock for an edition, or raise EditionLocked naming the edition
    and the process that holds it.

    One lock for the whole site, not one per edition: two editions sent at once would each
    find the other's papers not yet recorded as sent, and mail them to everyone twice.
    """
    lock = LockFile(state_dir / "locks" / "sending.lock")
    holder = lock.acquire(f"edition {edition.isoformat()}: ")
    if holder is not None:
        raise _locked(edition, holder)
    try:
        yield
    finally:
        lock.release()


def _locked(edition: dt.date, holder: str) -> EditionLocked:
    hint = "wait for that run to finish, then run again"
    found = re.match(r"edition (\S+): (.*)", holder, re.DOTALL)
    if found is None or found[1] == edition.isoformat():
        who = found[2] if found else holder
        return EditionLocked(f"edition {edition} is being sent by {who}", hint)
    return EditionLocked(
        f"edition {edition} cannot be sent while edition {found[1]} is being sent by {found[2]}",
        hint + " (editions are sent one at a time, so that nobody gets a paper twice)",
    )


@contextmanager
def no_edition_sending(state_dir: Path, doing: str) -> Iterator[None]:
    """Hold the sending lock while an operator changes who is mailed, so that no edition is half
    sent with the old list and half with the new; EditionLocked while one is being sent."""
    lock = LockFile(state_dir / "locks" / "sending.lock")
    holder = lock.acquire(f"{doing}: ")
    if holder is not None:
        raise EditionLocked(f"cannot {doing} now: {holder}", "try again when that edition is sent")
    try:
        yield
    finally:
        lock.release()
