"""What every answer of the web app gets, whatever happened inside: security headers, a designed
page for errors (500 included), and limits on how big and how slow a request body may be.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware: it sees every answer, also
the one written when a handler crashed, which Starlette's error middleware otherwise writes
outside every user middleware, without these headers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger(__name__)

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Message, Receive, Send], Awaitable[None]]
ErrorPage = Callable[[int, str], str]  # status, sentence → HTML

# Tokens travel in URLs: no referrer may carry them away, and nothing may frame or script these pages.
SECURITY_HEADERS = {
    # Scripts only from this site (the keyword preview's preview.js, which asks /preview.json).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_ENCODED_HEADERS = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

MAX_BODY = 64 * 1024  # a sign-up or a keyword list; nothing here takes more
BODY_SECONDS = 10.0  # the whole body, however it is dripped


class RequestRefused(Exception):
    """A request body too large or too slow: answered with `status`, never passed on."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status = status


class Guard:
    """Wraps the app: headers on every answer, a designed page for every failure."""

    def __init__(
        self, app: App, error_page: ErrorPage, max_body: int = MAX_BODY, body_seconds: float = BODY_SECONDS
    ) -> None:
        self.app, self.error_page = app, error_page
        self.max_body, self.body_seconds = max_body, body_seconds

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                own = message.get("headers", [])
                named = {name.lower() for name, _ in own}  # a page's own caching (the feed's) is kept
                message["headers"] = [*own, *(h for h in _ENCODED_HEADERS if h[0] not in named)]
            await send(message)

        try:
            await self.app(scope, self._limited(receive), send_with_headers)
        except RequestRefused as refused:
            if not started:
                await self._answer(send_with_headers, refused.status, str(refused))
        except Exception:
            if started:
                raise
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            await self._answer(send_with_headers, 500, "Something went wrong on our side.")

    def _limited(self, receive: Receive) -> Receive:
        """`receive`, refusing a body past the size limit or not complete within the time limit."""
        loop = asyncio.get_running_loop()
        deadline, received, complete = loop.time() + self.body_seconds, 0, False

        async def limited() -> Message:
            nonlocal received, complete
            if complete:  # past the body, the app waits for a disconnect: not for us to time
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except TimeoutError:
                raise RequestRefused(408, "The request took too long to arrive.") from None
            received += len(message.get("body", b""))
            complete = not message.get("more_body", False)
            if received > self.max_body:
                raise RequestRefused(413, "The request is too large.")
            return message

        return limited

    async def _answer(self, send: Send, status: int, sentence: str) -> None:
        body = self.error_page(status, sentence).encode()
        length = str(len(body)).encode()
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", length)]
        if status in (408, 413):
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
