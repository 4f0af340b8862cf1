"""Forked worker processes, for the work of a run that keeps a core busy.

fork is what makes workers cheap: they start with everything this process has built (the
paper index, the templates) instead of receiving it. It is only safe in a process with no other
threads, as a `digest run` is and `digest serve` (whose scheduler and web server are threads)
is not; there, and on one core, the work is done in this process.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from ..store.lock import forget_inherited_locks

log = logging.getLogger("digest.workers")

PARENT_CHECK = 0.5  # seconds between a worker's checks that its parent is alive
P = ParamSpec("P")
T = TypeVar("T")


def cores() -> int:
    return min(os.cpu_count() or 1, 4)


def can_fork() -> bool:
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def fork_pool(workers: int, doing: str) -> Iterator[ProcessPoolExecutor]:
    """Worker processes forked from this one, `doing` something (for the log).

    What this process holds is frozen out of the garbage collector's reach while they live: a
    collection writes into every object it examines, and in a worker each write copies the
    page the object stands on, so a worker's first full collections made private copies of
    all it inherited (the index, the profiles), and cost it a pass over them each."""
    context = multiprocessing.get_context("fork")
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(doing,)
        ) as pool:
            yield pool
    finally:
        gc.unfreeze()


def _start_worker(doing: str) -> None:
    """In a new worker: let go of the parent's locks, and end when the parent ends. A worker
    waits for work on a pipe whose writing end it holds a copy of itself, so it would wait
    forever after its parent was killed."""
    forget_inherited_locks()
    parent = os.getppid()
    # Shown where INFO lines are (digest serve's log): which process works on how many cores.
    log.info("worker process %d %s for process %d", os.getpid(), doing, parent)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@contextmanager
def in_background(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Iterator[Callable[[], T]]:
    """`work(*args)` started in a forked process, where that is possible and there is a core
    for it, while the caller goes on; inside, calling what this yields waits for its result.

    `work` must be a module-level function, its arguments and result picklable."""
    if cores() < 2 or not can_fork():
        yield lambda: work(*args, **kwargs)
        return
    with fork_pool(1, f"running {work.__name__}") as pool:
        future = pool.submit(work, *args, **kwargs)
        yield future.result
