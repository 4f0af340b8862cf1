"""One process at a time per edition: a lock file in the state dir, held while it sends."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import EditionLocked


@contextmanager
def edition_lock(state_dir: Path, edition: dt.date) -> Iterator[None]:
    """Hold the edition's lock, or raise EditionLocked naming the process that holds it.

    The kernel releases a flock when its holder dies, so a killed run never leaves a stale lock.
    """
    path = state_dir / "locks" / f"{edition.isoformat()}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise EditionLocked(
                f"edition {edition} is being sent by {holder}", "wait for that run to finish, then run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        handle.write(f"process {os.getpid()} on {os.uname().nodename}, since {started}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
