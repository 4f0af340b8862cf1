"""The HTTP server for `digest serve`: uvicorn, with a deadline for a request's headers.

uvicorn bounds the idle time between requests, but not how long a request line and its
headers may take to trickle in: a client sending a byte a second would hold a connection for
good, and a few hundred such clients the whole server. Bodies are bounded in `web_guard`.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import DigestError

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
    app: Any, host: str, port: int, request_seconds: float = REQUEST_SECONDS, log_level: str = "info"
) -> uvicorn.Config:
    """How `digest serve` runs the app; tests serve it the same way on loopback."""
    protocol = type("HeadersDeadline", (HeadersDeadline,), {"header_seconds": request_seconds})
    return uvicorn.Config(
        app, host=host, port=port, http=protocol, timeout_keep_alive=5, proxy_headers=True,
        log_level=log_level,
    )  # fmt: skip


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
