"""Forked worker processes, for the work of a run that keeps a core busy.

fork is what makes workers cheap: they start with everything this process has built (the
paper index, the templates) instead of receiving it. It is only safe in a process with no other
threads, as a `digest run` is and `digest serve` (whose scheduler and web server are threads)
is not; there, and on one core, the work is done in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from .lock import forget_inherited_locks

P = ParamSpec("P")
T = TypeVar("T")


def cores() -> int:
    return min(os.cpu_count() or 1, 4)


def can_fork() -> bool:
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def fork_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes forked from this one; they let go of its locks when they start."""
    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=forget_inherited_locks)


@contextmanager
def in_background(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Iterator[Callable[[], T]]:
    """`work(*args)` started in a forked process, where that is possible and there is a core
    for it, while the caller goes on; inside, calling what this yields waits for its result.

    `work` must be a module-level function, its arguments and result picklable."""
    if cores() < 2 or not can_fork():
        yield lambda: work(*args, **kwargs)
        return
    with fork_pool(1) as pool:
        future = pool.submit(work, *args, **kwargs)
        yield future.result
