"""A scheduled edition sent by a process of its own, so that it composes on every core.

`digest serve` runs its web server and its scheduler as threads, and a process with threads
must not fork (a lock another thread holds at the fork stays locked for good in the copy), so
an edition sent there could not fork compose workers as `digest run` does. Each due edition is
therefore sent by a child forked from a fork server: a process started fresh (a new interpreter,
no threads) that has imported the pipeline once, so each edition's child starts at once rather
than after seconds of imports, and forks its workers like any `digest run`. `warm_up` starts
the fork server with the scheduler, before any edition is due.

The parent keeps what is the service's: the scheduler's lease and the schedule log. It hands the
child plain data (`EditionOrder`: no callables cross), hears its progress on a pipe, and asks it
to stop through an event; the child stops between two messages, each recorded in the ledger,
and sends its report back. A child that dies without one (killed, out of memory) is a failed
edition: the next run finds its in-flight `sending` rows and marks them uncertain, as after any
crash.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.config
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Any

from ..errors import DigestError, EditionProcessDied
from ..models import Listing, Settings
from ..pipeline.run import RunOptions, RunReport, run_once
from .slots import Slot, in_slot
from .web_server import log_config

log = logging.getLogger("digest.schedule")

POLL_SECONDS = 0.2  # how often the parent looks whether it was asked to stop while it waits
PROGRESS_SECONDS = 0.5  # the child tells its progress at most this often

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EditionOrder:
    """Everything the child needs to send one slot's edition, as plain data."""

    settings: Settings
    slot: Slot
    edition: dt.date
    now: dt.datetime
    since: dt.datetime | None = None  # weekly slots: every paper archived since then
    listing: Listing | None = None  # already fetched for this edition by an earlier slot
    configure_logging: bool = True  # log like `digest serve`, into the same stream


def _context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # what every edition's child needs, imported once
    return context


def warm_up() -> None:
    """Start the fork server now, so the first edition's process does not wait for it."""
    _context()
    multiprocessing.forkserver.ensure_running()


def send_in_child(order: EditionOrder, should_stop: Callable[[], bool], progress: Progress) -> RunReport:
    """Send the edition from a new process and wait for its report; `should_stop` is asked
    while waiting, and passed on to the child when it says yes.

    Raises the child's DigestError (as a DigestError with its message), or EditionProcessDied.
    """
    context = _context()
    reader, writer = context.Pipe(duplex=False)
    stop = context.Event()
    child = context.Process(target=_child_main, args=(order, writer, stop), name=f"edition {order.edition}")
    child.start()
    writer.close()  # the child holds the only writing end: its death is an end of file here
    log.info("edition %s for %s: sending from process %d", order.edition, order.slot.key, child.pid)
    try:
        answer = _await(reader, stop, should_stop, progress)
    finally:
        reader.close()
        child.join()
    if answer is None:
        raise EditionProcessDied(f"the process sending it ended without a report ({_how(child.exitcode)})")
    kind, value = answer
    if kind == "error":
        raise DigestError(value)
    report: RunReport = value
    return report


def _await(reader: Connection, stop: Event, should_stop: Callable[[], bool], progress: Progress) -> Any:
    """The child's last message ("report" or "error"), or None when it died without one."""
    while True:
        if should_stop():
            stop.set()  # the child finishes the message in flight, records it, and reports
        if not reader.poll(POLL_SECONDS):
            continue
        try:
            message = reader.recv()
        except EOFError:
            return None
        if message[0] == "progress":
            progress(*message[1:])
        else:
            return message


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit status {exitcode}"


def _child_main(order: EditionOrder, writer: Connection, stop: Event) -> None:
    """In the child: send the edition, telling the parent how far it got, then the report."""
    # Ctrl-C reaches the whole process group: the parent decides when this child stops. A
    # SIGTERM meant for it alone is a clean stop too, between two messages.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if order.configure_logging:
        logging.config.dictConfig(log_config())
    parent = os.getppid()  # the fork server, which ends when the service does
    options = RunOptions(
        edition=order.edition,
        only=in_slot(order.settings, order.slot),
        listing=order.listing,
        since=order.since,
        should_stop=lambda: stop.is_set() or os.getppid() != parent,  # an orphan stops too
    )
    try:
        report = run_once(order.settings, options, now=order.now, progress=_Teller(writer))
    except DigestError as error:
        writer.send(("error", str(error)))
        return
    # The parent needs neither the profiles nor a listing it handed over itself.
    writer.send(("report", replace(report, profiles=(), listing=None if order.listing else report.listing)))


class _Teller:
    """The dispatcher's progress, passed to the parent now and then (a pipe write is cheap, but
    not free, and the parent needs no more than a line for /healthz)."""

    def __init__(self, writer: Connection) -> None:
        self.writer = writer
        self.last = float("-inf")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - self.last >= PROGRESS_SECONDS:
            self.last = now
            self.writer.send(("progress", done, total))
