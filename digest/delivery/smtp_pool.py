"""SMTP over several connections at once, each pipelining its commands where the relay offers it.

One connection waits for the relay four times per message (MAIL, RCPT, DATA, the end of the
data), so a relay a few milliseconds away caps an edition at a few hundred messages a second.
Two things cut the waits, both keeping every recipient's outcome exact:

- PIPELINING (RFC 2920): MAIL, RCPT and DATA go out in one write and their three replies are
  read after it; each reply is still its own command's, so a refused recipient is refused alone.
  Two waits per message instead of four.
- `delivery.connections` connections side by side, one thread each (a thread waits on its
  socket without holding the GIL). The dispatcher keeps the ledger on its own thread: a message
  is `sending` on disk before its thread takes it, and its outcome is written when it is back.

smtplib has no pipelining, and an asyncio client (aiosmtplib) would put an event loop under a
dispatcher that is plain code: the few lines below extend the smtplib client in use instead.
Commands are pipelined only after the relay's EHLO offers it, as RFC 2920 asks; a relay that
does not offer it gets one command at a time, as before.
"""

from __future__ import annotations

import smtplib
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ..errors import DeliveryError
from ..models import Job, Outgoing, SmtpConfig
from .dkim import DkimSigner
from .transports import Smtp, _refusal

DEFAULT_CONNECTIONS = 4  # what common relays allow one client at once without throttling it


class PipelinedSmtp(Smtp):
    """One connection, as `Smtp`, sending MAIL, RCPT and DATA in one write when it may."""

    def _open_data(self, connection: smtplib.SMTP, sender: str, recipient: str) -> tuple[int, bytes]:
        connection.ehlo_or_helo_if_needed()
        if not connection.has_extn("pipelining"):
            return super()._open_data(connection, sender, recipient)
        mail_from, rcpt_to = smtplib.quoteaddr(sender), smtplib.quoteaddr(recipient)
        connection.send(f"MAIL FROM:{mail_from}\r\nRCPT TO:{rcpt_to}\r\nDATA\r\n")
        mail, rcpt, data = connection.getreply(), connection.getreply(), connection.getreply()
        if mail[0] < 400 and rcpt[0] < 400:
            return data  # 354, or DATA's refusal, which the caller handles as without pipelining
        if data[0] == 354:  # the relay opened the data despite the refusal: end it empty (RFC 2920)
            connection.send(".\r\n")
            connection.getreply()
        self._reset(connection)
        code, reply = mail if mail[0] >= 400 else rcpt
        raise _refusal(code, reply, "MAIL" if mail[0] >= 400 else "RCPT")


class SmtpPool:
    """`connections` SMTP connections, each on a thread of its own; `submit` hands a message over
    without waiting for its outcome, which the future holds (None, or the transport's error)."""

    def __init__(
        self, config: SmtpConfig, connections: int = DEFAULT_CONNECTIONS, signer: DkimSigner | None = None
    ) -> None:
        self.config = config
        self.connections = connections
        self.signer = signer  # signs here, on the caller's thread, once a message's headers are final
        self._threads = ThreadPoolExecutor(connections, thread_name_prefix="smtp")
        self._own = threading.local()  # each thread's connection
        self._opened: list[PipelinedSmtp] = []
        self._lock = threading.Lock()

    def submit(self, message: Outgoing, recipient: str) -> Future[None]:
        if self.signer is not None:
            message = self.signer.signed(message)
        return self._threads.submit(self._send_here, message, recipient)

    def send(self, message: Outgoing, recipient: str) -> None:
        self.submit(message, recipient).result()  # the transport's error, raised here

    def close(self) -> None:
        self._threads.shutdown(wait=True)  # every message handed over is finished first
        for connection in self._opened:
            connection.close()

    def _send_here(self, message: Outgoing, recipient: str) -> None:
        connection: PipelinedSmtp | None = getattr(self._own, "connection", None)
        if connection is None:
            connection = self._own.connection = PipelinedSmtp(self.config)
            with self._lock:
                self._opened.append(connection)
        connection.send(message, recipient)


class InFlight:
    """The messages handed to a pool and not yet answered: at most `room` at once."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.futures: dict[Future[None], Job] = {}

    def add(self, job: Job, future: Future[None]) -> None:
        self.futures[future] = job

    def answered(self, room_for_one: bool) -> list[tuple[Job, DeliveryError | None]]:
        """Each answered message and its outcome (None: sent), waiting until there is room for one
        more (`room_for_one`) or until every message is answered."""
        keep = self.room - 1 if room_for_one else 0
        answered = []
        while len(self.futures) > keep or any(f.done() for f in self.futures):
            done, _ = wait(self.futures, return_when=FIRST_COMPLETED)
            for future in done:
                error = future.exception()
                if error is not None and not isinstance(error, DeliveryError):
                    raise error  # a bug, not an outcome: as loud as when sending on one connection
                answered.append((self.futures.pop(future), error))
        return answered
