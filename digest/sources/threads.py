"""Fetching sources side by side, with the calls that must stay on the calling thread kept there.

The HTTP cache is a SQLite connection, which belongs to the thread that opened it: a fetch
thread hands its cache reads and writes to the calling thread (`on_calling_thread`), which
serves them while it waits for the fetches to finish.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_worker = threading.local()  # in a fetch thread: the inbox of the thread that started it


@dataclass(frozen=True)
class _Call:
    """A call a fetch thread asks the calling thread to make, and where its outcome goes."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    outcome: Future[Any] = field(default_factory=Future)

    def run(self) -> None:
        try:
            self.outcome.set_result(self.function(*self.args))
        except BaseException as error:  # handed back to the fetch thread, which raises it
            self.outcome.set_exception(error)


@dataclass(frozen=True)
class _Done(Generic[T]):
    """A job that finished: its position, and its result or what it raised."""

    index: int
    result: T | None = None
    error: BaseException | None = None


def on_calling_thread(function: Callable[..., T], *args: Any) -> T:
    """function(*args), made by the thread that started the fetches (directly, outside them)."""
    inbox = getattr(_worker, "inbox", None)
    if inbox is None:
        return function(*args)
    call = _Call(function, args)
    inbox.put(call)
    result: T = call.outcome.result()
    return result


def run_side_by_side(
    jobs: Sequence[Callable[[], T]], workers: int, on_result: Callable[[T], None] | None = None
) -> list[T]:
    """Each job's result, in the jobs' order; on_result sees each as it finishes."""
    inbox: queue.SimpleQueue[_Call | _Done[T]] = queue.SimpleQueue()
    results: list[T | None] = [None] * len(jobs)
    errors: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs))), thread_name_prefix="fetch") as pool:
        for index, job in enumerate(jobs):
            pool.submit(_work, inbox, index, job)
        for done in _finished(inbox, len(jobs)):
            if done.error is not None:
                errors.append(done.error)
                continue
            results[done.index] = done.result
            if on_result is not None and not errors:
                try:
                    on_result(done.result)  # type: ignore[arg-type]
                except BaseException as error:  # still serve the fetch threads, or they wait forever
                    errors.append(error)
    if errors:
        raise errors[0]  # a job raises only on a bug or MemoryError: the others were let finish
    return results  # type: ignore[return-value]


def _finished(inbox: queue.SimpleQueue[_Call | _Done[T]], count: int) -> Iterator[_Done[T]]:
    """Each finished job as it comes, serving the calls fetch threads hand over meanwhile."""
    while count:
        message = inbox.get()
        if isinstance(message, _Call):
            message.run()
            continue
        count -= 1
        yield message


def _work(inbox: queue.SimpleQueue[_Call | _Done[T]], index: int, job: Callable[[], T]) -> None:
    _worker.inbox = inbox
    try:
        inbox.put(_Done(index, job()))
    except BaseException as error:  # reported to the calling thread, which must not wait forever
        inbox.put(_Done(index, error=error))
    finally:
        _worker.inbox = None
