"""The LMTP listener of `digest serve` (aiosmtpd): a mail server hands it bounces, complaints
and mailed unsubscribes, and each goes down the same path as `digest inbound`.

LMTP rather than SMTP: it is meant for the last hop inside one site, and it answers once per
recipient after the message was handled, so the mail server keeps anything not yet recorded.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import hmac
import logging
import re
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from ..errors import DigestError
from ..inbound import MAX_MESSAGE_BYTES
from ..models import Settings
from ..pipeline.inbound import handle_message
from ..tokens import site_secret

log = logging.getLogger("digest.inbound")
# Larger messages are refused at once (552); a bounce is never this large.
DATA_LIMIT = 4 * MAX_MESSAGE_BYTES
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


class InboundHandler:
    """aiosmtpd's hooks: each message is handled in a worker thread, then answered."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secret = site_secret(settings.secret, settings.state_dir)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        recipients = tuple(envelope.rcpt_tos)
        loop = asyncio.get_running_loop()
        try:
            handled = await loop.run_in_executor(None, handle_message, self.settings, data, recipients)
        except Exception as error:  # the state cannot be written now: the mail server keeps it
            log.warning("inbound message not handled, the mail server will try again: %s", error)
            reply = "451 4.3.0 Cannot record this message now; try again later"
        else:
            log.info("%s", hidden_addresses(handled.line, self.secret))
            reply = "250 2.0.0 Handled"
        for _ in recipients[1:]:  # LMTP answers once for each recipient
            await server.push(reply)
        return reply


def hidden_addresses(line: str, secret: str) -> str:
    """Each address in a log line as a keyed tag and its domain, as the web events write them:
    one person's lines can be followed, but a leaked log cannot be read back into addresses."""

    def hide(found: re.Match[str]) -> str:
        address = found.group(0).lower()
        tag = hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:10]
        return f"{tag} ({address.rpartition('@')[2]})"

    return ADDRESS.sub(hide, line)


class LmtpController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


class LmtpListener:
    """Listens on `inbound.lmtp` in a thread of its own until stopped."""

    def __init__(self, settings: Settings, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.controller = LmtpController(
            InboundHandler(settings), hostname=self.host, port=self.port, data_size_limit=DATA_LIMIT,
            server_hostname="digest",
        )  # fmt: skip

    def start(self) -> None:
        try:
            self.controller.start()
        except OSError as error:
            busy = error.errno == errno.EADDRINUSE
            why = "address already in use" if busy else str(error.strerror or error)
            raise DigestError(
                f"cannot listen for LMTP on {self.host}:{self.port}: {why}",
                "change inbound.lmtp in the config, or stop what holds that port",
            ) from error
        log.info("listening for inbound mail (LMTP) on %s:%s", self.host, self.port)

    def stop(self, *_: Any) -> None:
        self.controller.stop()
