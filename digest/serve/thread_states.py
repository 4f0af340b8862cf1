"""Blocking work of a web request (SQLite, SMTP) in a worker thread, on that thread's own state
database connection, opened by its first request: a SQLite connection cannot change threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from ..models import Settings
from ..store import Database, State

T = TypeVar("T")


class ThreadStates:
    """One `State`, so one connection, per worker thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.local = threading.local()

    async def work(self, function: Callable[[Database], T]) -> T:
        def on_this_thread() -> T:
            state: State | None = getattr(self.local, "state", None)
            if state is None:
                state = self.local.state = State(
                    self.settings.state_dir, self.settings.secret, self.settings.state_url
                )
            return function(state.db)

        return await run_in_threadpool(on_this_thread)
