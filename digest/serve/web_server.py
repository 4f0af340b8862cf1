"""The HTTP server for `digest serve`: uvicorn, with a deadline for a request's headers, the
socket bound before anything starts, and one log format for the app and uvicorn.

uvicorn bounds the idle time between requests, but not how long a request line and its
headers may take to trickle in: a client sending a byte a second would hold a connection for
good, and a few hundred such clients the whole server. Bodies are bounded in `web_guard`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import DigestError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_TIME = "%Y-%m-%d %H:%M:%S%z"  # with the offset: a log read elsewhere is not an hour off
# Every segment after these holds a signed token, and a token carries its subscriber's address.
TOKEN_PATH = re.compile(r"(/(?:confirm|unsubscribe|manage|archive|feed|feedback)/|/digest/[^/?]+/)[^?]*")
REQUEST_SECONDS = 10.0  # headers, then the body: each must be in within this
LISTEN_HINTS = {
    errno.EADDRINUSE: "another process listens there (a digest serve already running?): stop it, "
    "or choose another --port",
    errno.EACCES: "ports below 1024 need privileges: choose a --port above 1024 and let a reverse proxy "
    "listen on 80/443",
    errno.EADDRNOTAVAIL: "this machine has no such address: use --host 127.0.0.1, or 0.0.0.0 for every "
    "interface",
}


class HeadersDeadline(H11Protocol):
    """uvicorn's HTTP/1.1, closing a connection whose next request's headers are late."""

    header_seconds = REQUEST_SECONDS
    deadline: asyncio.TimerHandle | None = None
    awaited: object = None  # the request cycle current when the deadline was set

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.deadline is not None and self.cycle is not self.awaited:  # a new request began
            self.deadline.cancel()
            self.deadline = None

    def on_response_complete(self) -> None:
        self._arm()  # first: the next request may already be buffered, and start in the call below
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.awaited = self.cycle  # the headers are in once a new cycle replaces this one
        self.deadline = self.loop.call_later(self.header_seconds, self._late)

    def _late(self) -> None:
        self.deadline = None
        if self.cycle is self.awaited and not self.transport.is_closing():
            self.transport.close()


def server_config(
    app: Any, host: str, port: int, request_seconds: float = REQUEST_SECONDS, log_level: str = "info",
    log_config: dict[str, Any] | None = None,
) -> uvicorn.Config:  # fmt: skip
    """How `digest serve` runs the app; tests serve it the same way on loopback (with uvicorn's
    own logging unless given `log_config`: the process-wide one would replace pytest's)."""
    protocol = type("HeadersDeadline", (HeadersDeadline,), {"header_seconds": request_seconds})
    return uvicorn.Config(
        app, host=host, port=port, http=protocol, timeout_keep_alive=5, proxy_headers=True,
        log_level=log_level, log_config=log_config or uvicorn.config.LOGGING_CONFIG,
    )  # fmt: skip


def log_config() -> dict[str, Any]:
    """The logging of `digest serve`: every line, the app's and uvicorn's, timestamped in one
    format on stderr, with the tokens of request paths hidden."""
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    quiet = {"handlers": [], "propagate": True}  # through the root's one handler, not uvicorn's
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"digest": {"format": LOG_FORMAT, "datefmt": LOG_TIME}},
        "filters": {"tokens": {"()": HiddenTokens}},
        "handlers": {"stderr": handler | {"formatter": "digest", "filters": ["tokens"]}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": quiet, "uvicorn.error": quiet, "uvicorn.access": quiet,
            "apscheduler": {"level": "WARNING"},  # our own lines say what ran
            "mail.log": {"level": "WARNING"},  # aiosmtpd's LMTP sessions: digest.inbound says what came
        },
    }  # fmt: skip


class HiddenTokens(logging.Filter):
    """Replaces the token in a logged request path with "…": a token carries its subscriber's
    address and works as their link, so a log must not. The query goes too (it may hold either)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(hide_tokens(a) if isinstance(a, str) else a for a in record.args)
        return True


def hide_tokens(text: str) -> str:
    """A request path with what follows /confirm/, /manage/, /digest/<edition>/… as "…"."""
    if not text.startswith("/"):
        return text
    path, question, _ = text.partition("?")
    return TOKEN_PATH.sub(r"\1…", path, count=1) + ("?…" if question else "")


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything else starts, so a busy port is one clear error
    rather than a scheduler that sends an edition and a server that then cannot listen."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bound = socket.socket(family, socket.SOCK_STREAM)
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart need not wait
    try:
        bound.bind((host, port))
    except OSError as error:
        bound.close()
        where = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
        why = os.strerror(error.errno).lower() if error.errno else str(error)
        raise DigestError(f"cannot listen on {where}: {why}", LISTEN_HINTS.get(error.errno or 0)) from error
    return bound
