"""A real SMTP server on loopback (aiosmtpd) whose replies are scripted per recipient.

Unscripted recipients are accepted. A script is a list of steps, one used up per transaction
for that recipient; `always` sets a step that never runs out. The handler runs on the
server's thread, so everything a test reads is guarded by a lock.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, NoReturn

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Step:
    """What the server does with one transaction for a recipient, instead of just accepting it."""

    stage: str  # "RCPT" or "DATA": when it answers
    reply: str | None  # None: no reply at all
    hang_up: bool = False  # close the connection right after the reply
    go_away: bool = False  # and refuse every connection after this one


def at_rcpt(reply: str, hang_up: bool = False) -> Step:
    return Step("RCPT", reply, hang_up)


def at_data(reply: str) -> Step:
    return Step("DATA", reply)


ACCEPT_THEN_HANG_UP = Step("DATA", "250 OK", hang_up=True)
HANG_UP_MID_DATA = Step("DATA", None, hang_up=True)  # the whole message arrived; no reply ever does
ACCEPT_THEN_GO_AWAY = Step("DATA", "250 OK", hang_up=True, go_away=True)
TAKE_DATA_NEVER_ANSWER = Step("DATA", None)  # keeps the message and the connection; no reply ever


@dataclass(frozen=True)
class Received:
    """A message the server kept."""

    recipient: str  # from the envelope, not the headers
    sender: str
    message: EmailMessage
    tls: bool
    login: str | None
    data: bytes = b""  # as it arrived: a DKIM signature is checked against these bytes

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass(frozen=True)
class Watch:
    count: int
    reached: threading.Event
    hold: bool
    release: threading.Event | None = None  # with `hold`: answer once this is set


class Relay:
    """An aiosmtpd handler that answers as scripted and keeps every message it accepts."""

    def __init__(self, require_login: bool = False, pipelining: bool = False) -> None:
        self.port = 0
        self.controller: Controller | None = None
        self.require_login = require_login
        self.pipelining = pipelining  # advertised (aiosmtpd reads pipelined commands in order)
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.rcpt_attempts: list[str] = []
        self._peers: set[Any] = set()
        self._script: dict[str, list[Step]] = defaultdict(list)
        self._always: dict[str, Step] = {}
        self._at_data: dict[Envelope, Step] = {}  # the step of a transaction that answers at DATA
        self._watch: Watch | None = None

    # What the tests call.

    def script(self, address: str, *steps: Step) -> None:
        with self.lock:
            self._script[address].extend(steps)

    def always(self, address: str, step: Step | None) -> None:
        """Answer every transaction for `address` with `step`; None accepts again."""
        with self.lock:
            if step is None:
                self._always.pop(address, None)
            else:
                self._always[address] = step

    def when_received(self, count: int, hold: bool = False) -> threading.Event:
        """An event set once `count` messages are kept; with `hold`, the one that makes the
        count is never answered, so the client waits for its reply until it is killed."""
        reached = threading.Event()
        with self.lock:
            self._watch = Watch(count, reached, hold)
        return reached

    def hold_at(self, count: int) -> tuple[threading.Event, threading.Event]:
        """Events (reached, release): the message that makes `count` is kept, and its reply
        waits until the test sets `release`, so a client is held mid-run as long as needed."""
        reached, release = threading.Event(), threading.Event()
        with self.lock:
            self._watch = Watch(count, reached, True, release)
        return reached, release

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.recipient == address]

    @property
    def connections(self) -> int:
        """Connections that said EHLO (STARTTLS keeps the peer, so a TLS connection counts once)."""
        with self.lock:
            return len(self._peers)

    # aiosmtpd hooks, on the server's thread.

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self._peers.add(session.peer)
        session.host_name = hostname
        return [*responses, "250-PIPELINING"] if self.pipelining else responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.require_login and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        step = self._next_step(address)
        if step is not None and step.stage == "RCPT":
            return await self._answer(server, step)
        if step is not None:
            self._at_data[envelope] = step
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        step = self._at_data.pop(envelope, None)
        if step is not None and step.reply is not None and not step.reply.startswith("2"):
            return step.reply  # refused: not kept
        watch = self._keep(server, session, envelope)
        if watch is not None:
            watch.reached.set()
            if watch.hold and watch.release is not None:
                await asyncio.get_running_loop().run_in_executor(None, watch.release.wait)
            elif watch.hold:
                await _forever()
        return "250 OK" if step is None else await self._answer(server, step)

    def _next_step(self, address: str) -> Step | None:
        with self.lock:
            self.rcpt_attempts.append(address)
            steps = self._script.get(address)
            return steps.pop(0) if steps else self._always.get(address)

    def _keep(self, server: SMTP, session: Session, envelope: Envelope) -> Watch | None:
        """Record the message; the watch it completes, if any."""
        assert isinstance(envelope.content, bytes) and envelope.mail_from is not None
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        tls = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        with self.lock:
            for recipient in envelope.rcpt_tos:
                received = Received(recipient, envelope.mail_from, message, tls, login, envelope.content)
                self.received.append(received)
            watch = self._watch
            if watch is None or len(self.received) < watch.count:
                return None
            self._watch = None
            return watch

    async def _answer(self, server: SMTP, step: Step) -> str:
        if step.reply is None and not step.hang_up:
            await _forever()  # the client waits for a reply until its timeout
        if not step.hang_up:
            assert step.reply is not None
            return step.reply
        if step.go_away and self.controller is not None and self.controller.server is not None:
            self.controller.server.close()  # stop listening: reconnecting is refused from now on
        if step.reply is not None:
            await server.push(step.reply)
        assert server.transport is not None
        server.transport.close()
        await _forever()  # closing the connection cancels this handler


async def _forever() -> NoReturn:
    await asyncio.get_running_loop().create_future()
    raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(relay: Relay | None = None, port: int | None = None, **options: Any) -> Iterator[Relay]:
    """Run a relay on 127.0.0.1 until the block ends; `options` go to aiosmtpd's SMTP."""
    relay = relay or Relay()
    relay.port = port or free_port()
    relay.controller = Controller(relay, hostname="127.0.0.1", port=relay.port, **options)
    relay.controller.start()
    try:
        yield relay
    finally:
        relay.controller.stop()


def server_tls(certificate: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context


Authenticator = Callable[[SMTP, Session, Envelope, str, Any], AuthResult]


def password_check(login: str, password: str) -> Authenticator:
    """An aiosmtpd authenticator that knows one account."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if data == LoginPassword(login.encode(), password.encode()):
            return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    return authenticate
