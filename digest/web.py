"""The web endpoints: subscribe, confirm, unsubscribe (RFC 8058 one-click), manage, view, health.

Starlette keeps this small; the work happens in `subscriptions` and `store`, run in a thread
so a slow SMTP relay never stalls the event loop. Every GET is harmless, because mail
scanners follow links: only a POST subscribes, confirms, unsubscribes or saves.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, closing
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from . import subscriptions
from .models import Settings
from .pages import Pages
from .profiles import profile_for, save_subscription
from .schedule import Service
from .store import PaperArchive, connect
from .subscriptions import SubscriptionError
from .tokens import TokenError, TokenGone, verify

T = TypeVar("T")

# Tokens travel in URLs: no referrer may carry them away, and nothing may frame or script these pages.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response


def create_app(settings: Settings, service: Service | None = None) -> Starlette:
    """The web application for one site; with a service, it also sends the scheduled editions."""
    site = Site(settings, service)
    routes = [
        Route("/", site.subscribe, methods=["GET", "POST"]),
        Route("/subscribe", site.subscribe, methods=["GET", "POST"]),
        Route("/confirm/{token}", site.confirm, methods=["GET", "POST"]),
        Route("/unsubscribe/{token}", site.unsubscribe, methods=["GET", "POST"]),
        Route("/manage/{token}", site.manage, methods=["GET", "POST"]),
        Route("/digest/{edition}/{token}", site.view, methods=["GET"]),
        Route("/healthz", site.healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=site.lifespan)


class Site:
    """The handlers, sharing the settings and the page templates."""

    def __init__(self, settings: Settings, service: Service | None = None) -> None:
        self.settings = settings
        self.service = service
        self.pages = Pages(settings.title, settings.base_url, settings.templates_dir)
        self.path = settings.state_dir / "digest.sqlite3"
        self.secret = subscriptions.secret(settings)  # read once, not on every request

    async def subscribe(self, request: Request) -> Response:
        if request.method == "GET":
            return self._page("subscribe", email="", keywords="", name="")
        form = await request.form()
        fields = {key: str(form.get(key) or "") for key in ("email", "keywords", "name")}
        try:
            await self._work(
                lambda db: subscriptions.request_subscription(
                    self.settings, db, fields["email"], [fields["keywords"]], fields["name"]
                )
            )
        except SubscriptionError as error:
            status = 429 if isinstance(error, subscriptions.TooManySignUps) else 400
            return self._page("subscribe", status=status, error=_sentence(error), **fields)
        message = f"We sent a link to {fields['email'].strip()}. Open it to start your subscription."
        valid = f"The link works for {subscriptions.CONFIRM_DAYS} days. No email? Look in spam."
        return self._notice("Check your inbox", message, valid)

    async def confirm(self, request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "GET":
            return self._action("Confirm your subscription", "One more step: press the button.", "Confirm")
        try:
            await self._work(lambda db: subscriptions.confirm_subscription(self.settings, db, token))
        except TokenError as error:
            return self._token_error(error)
        return self._notice("You are subscribed", "Your first digest arrives with the next edition.")

    async def unsubscribe(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            address = verify(self.secret, "unsubscribe", token).address
        except TokenError as error:
            return self._token_error(error)
        if request.method == "GET":
            return self._action("Unsubscribe", f"Stop all digests to {address}?", "Unsubscribe")
        # RFC 8058 one-click: a POST with List-Unsubscribe=One-Click; no cookie, login or redirect.
        await self._work(lambda db: subscriptions.unsubscribe(db, address, "link"))
        return self._notice("You are unsubscribed", f"No more digests will be sent to {address}.")

    async def manage(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            address = verify(self.secret, "manage", token).address
        except TokenError as error:
            return self._token_error(error)
        profile = await run_in_threadpool(profile_for, self.settings.profiles_dir, address)
        keywords = list(profile.keywords) if profile else []
        context: dict[str, Any] = {"address": address, "keywords": keywords, "saved": False}
        if request.method == "POST":
            form = await request.form()
            try:
                keywords = subscriptions.clean_keywords([str(form.get("keywords") or "")])
            except SubscriptionError as error:
                return self._manage_page(token, context, status=400, error=_sentence(error))
            await run_in_threadpool(save_subscription, self.settings.profiles_dir, address, keywords)
            context.update(keywords=keywords, saved=True)
        return self._manage_page(token, context)

    async def view(self, request: Request) -> Response:
        edition, token = request.path_params["edition"], request.path_params["token"]
        try:
            address = verify(self.secret, f"view:{edition}", token).address
        except TokenError as error:
            return self._token_error(error)
        papers = await self._work(lambda db: PaperArchive(db).edition_papers(address, edition))
        return self._page("digest", edition=edition, address=address, papers=papers)

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Start the scheduler with the server; on SIGTERM or SIGINT, stop it cleanly first."""
        if self.service is not None:
            await run_in_threadpool(self.service.start)
        try:
            yield
        finally:
            if self.service is not None:
                await run_in_threadpool(self.service.stop)

    async def healthz(self, request: Request) -> Response:
        scheduler = self.service.state if self.service is not None else "off"
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return JSONResponse({"status": "ok", "scheduler": scheduler, "time": now})

    async def _work(self, function: Callable[[sqlite3.Connection], T]) -> T:
        """Run blocking work (SQLite, SMTP) in a thread, with its own database connection."""

        def work() -> T:
            with closing(connect(self.path)) as db:
                return function(db)

        return await run_in_threadpool(work)

    def _manage_page(
        self, token: str, context: dict[str, Any], status: int = 200, error: str | None = None
    ) -> Response:
        base = self.settings.base_url
        unsubscribe = (
            f"{base}/unsubscribe/{subscriptions.unsubscribe_token(self.settings, context['address'])}"
        )
        return self._page("manage", status=status, error=error, action=f"/manage/{token}",
                          unsubscribe=unsubscribe, **context)  # fmt: skip

    def _action(self, heading: str, message: str, button: str) -> Response:
        return self._page("action", heading=heading, message=message, button=button, action="")

    def _notice(self, heading: str, message: str, hint: str | None = None, status: int = 200) -> Response:
        return HTMLResponse(
            self.pages.notice(heading, message, hint, error=status >= 400), status_code=status
        )

    def _token_error(self, error: TokenError) -> Response:
        status = 410 if isinstance(error, TokenGone) else 400
        return self._notice("This link does not work", _sentence(error), error.hint, status=status)

    def _page(self, template: str, status: int = 200, **context: Any) -> Response:
        return HTMLResponse(self.pages.page(template, **context), status_code=status)


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
