"""The web endpoints: subscribe, confirm, unsubscribe (RFC 8058 one-click), manage, view, vote, health.

Starlette keeps this small; the work happens in `subscriptions` and `store`, run in a thread
so a slow SMTP relay never stalls the event loop. Every GET is harmless, because mail
scanners follow links: only a POST subscribes, confirms, unsubscribes or saves.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..errors import FormError, ProfileNotSaved, SubscriptionError, TokenError, TokenGone, TooManySignUps
from ..models import Settings
from ..pipeline import subscriptions
from ..render.pages import Pages
from ..store import Database
from ..tokens import verify
from .admin import admin_routes
from .archive import ArchivePages
from .confirmation_queue import ConfirmationQueue
from .feed import FeedEndpoint
from .feedback import vote_page
from .forms import sentence, text_fields
from .live_preview import LivePreview, TooManyPreviews
from .manage import ManagePage
from .scheduler import Service
from .thread_states import ThreadStates
from .web_guard import BODY_SECONDS, Guard

log = logging.getLogger("digest.web")
T = TypeVar("T")


def create_app(
    settings: Settings, service: Service | None = None, request_seconds: float = BODY_SECONDS
) -> Starlette:
    """The web application for one site; with a service, it also sends the scheduled editions.

    A request body must be complete within `request_seconds` (the server bounds the headers)."""
    site = Site(settings, service)
    archive = ArchivePages(site)
    guard = Middleware(Guard, error_page=site.error_page, body_seconds=request_seconds)
    routes = [
        Route("/", site.subscribe, methods=["GET", "POST"]),
        Route("/subscribe", site.subscribe, methods=["GET", "POST"]),
        Route("/confirm/{token}", site.confirm, methods=["GET", "POST"]),
        Route("/unsubscribe/{token}", site.unsubscribe, methods=["GET", "POST"]),
        Route("/manage/{token}", ManagePage(site).page, methods=["GET", "POST"]),
        Route("/digest/{edition}/{token}", archive.edition, methods=["GET"]),
        Route("/archive/{token}", archive.listing, methods=["GET"]),
        Route("/feedback/{token}", functools.partial(vote_page, site), methods=["GET", "POST"]),
        Route("/healthz", site.healthz, methods=["GET"]),
        Route("/feed/{token}.atom", FeedEndpoint(site).page, methods=["GET"]),
        Route("/preview.json", site.live.json, methods=["GET"]),
        Route("/preview.js", site.live.script, methods=["GET"]),
        *admin_routes(settings),  # the operator's console (serve/admin)
    ]
    missing = {404: site.not_found, 405: site.not_found}  # designed pages, not Starlette's plain text
    app = Starlette(routes=routes, middleware=[guard], exception_handlers=missing, lifespan=site.lifespan)
    app.state.site = site  # what tests and the service reach: the confirmation queue
    return app


class Site:
    """The handlers, sharing the settings and the page templates."""

    def __init__(self, settings: Settings, service: Service | None = None) -> None:
        self.settings = settings
        self.service = service
        self.pages = Pages(settings.title, settings.base_url, settings.templates_dir)
        self.path = settings.state_dir / "digest.sqlite3"
        self.secret = subscriptions.secret(settings)  # read once, not on every request
        self.states = ThreadStates(settings)  # one State, so one connection, per worker thread
        self.mailer = ConfirmationQueue(settings, self.path)
        self.live = LivePreview(self)  # the keyword preview of the subscribe and manage pages

    async def subscribe(self, request: Request) -> Response:
        if request.method == "GET":
            return self.page("subscribe", email="", keywords="", name="")
        blank = dict.fromkeys(("email", "keywords", "name"), "")
        try:
            fields = await text_fields(request, (*blank, "action"))
        except FormError as error:
            return self.page("subscribe", status=400, error=sentence(error), **(blank | error.fields))
        if fields.pop("action") == "preview":  # the no-JavaScript preview: the page again, with it
            found = await self.preview(request, fields["keywords"])
            return self.page("subscribe", found.pop("status", 200), **fields, **found)
        try:
            signup = await self.work(
                lambda db: subscriptions.reserve_signup(
                    self.settings, db, fields["email"], [fields["keywords"]], fields["name"]
                )
            )
        except SubscriptionError as error:
            status = 429 if isinstance(error, TooManySignUps) else 400
            return self.page(
                "subscribe", status=status, error=sentence(error), error_field=error.field, **fields
            )
        if signup is not None:  # sent from the queue: the answer is the same, and as quick, either way
            self.mailer.submit(signup)
        self.event("subscribe", fields["email"], "link queued" if signup else "link sent within the hour")
        message = f"We sent a link to {fields['email'].strip()}. Open it to start your subscription."
        valid = f"The link works for {subscriptions.CONFIRM_DAYS} days. No email? Look in spam."
        return self.notice("Check your inbox", message, valid)

    async def confirm(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            if request.method == "GET":  # a used or forged link says so before the button, not after
                pending = subscriptions.pending_confirmation
                _, address, keywords, _ = await self.work(lambda db: pending(self.settings, db, token))
                return self.page("confirm", address=address, keywords=keywords)
            await self.work(lambda db: subscriptions.confirm_subscription(self.settings, db, token))
        except TokenError as error:
            return self.token_error(error)
        except ProfileNotSaved as error:
            return self.notice("Not saved yet", sentence(error), error.hint, status=503)
        self.event("confirm", self.claimed("confirm", token), "subscribed")
        return self.notice(
            "You are subscribed",
            "Your first digest arrives with the next edition.",
            "Each digest has a link to change your keywords and a one-click link to unsubscribe.",
        )

    async def unsubscribe(self, request: Request) -> Response:
        try:
            address = await self.link_address("unsubscribe", request.path_params["token"])
        except TokenError as error:
            return self.token_error(error)
        if request.method == "GET":
            return self.action("Unsubscribe", f"Stop all digests to {address}?", "Unsubscribe")
        # RFC 8058 one-click: a POST with List-Unsubscribe=One-Click; no cookie, login or redirect.
        await self.work(lambda db: subscriptions.unsubscribe(db, address, "link"))
        self.event("unsubscribe", address, "unsubscribed by link")
        return self.notice(
            "You are unsubscribed",
            f"No more digests will be sent to {address}.",
            "Changed your mind? Your settings are kept: "
            "the manage link of any digest you received subscribes you again.",
        )

    async def preview(self, request: Request, keywords: str) -> dict[str, Any]:
        """What a form page shows of its keywords' preview: `preview`, or an `error` and 429."""
        try:
            return {"preview": await self.live.preview(request, keywords)}
        except TooManyPreviews:
            return {"error": "Too many previews in a minute. Wait a moment, then try again.", "status": 429}

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Start the scheduler with the server; on SIGTERM or SIGINT, stop it cleanly first."""
        if self.service is not None:
            await run_in_threadpool(self.service.start)
        try:
            yield
        finally:
            await run_in_threadpool(self.mailer.close)  # confirmations already asked for still go
            if self.service is not None:
                await run_in_threadpool(self.service.stop)

    async def healthz(self, request: Request) -> Response:
        """ok, or degraded with the reasons when the last edition had trouble. Either way 200:
        the process serves and sends, so a container must not be restarted for a failed feed."""
        scheduler = self.service.state if self.service is not None else "off"
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        body: dict[str, Any] = {"status": "ok", "scheduler": scheduler, "time": now}
        body |= self.service.role() if self.service is not None else {"role": "off", "leader": None}
        health = self.service.health if self.service is not None else None
        if self.service is not None and self.service.sending:
            body["sending"] = self.service.sending  # the edition under way and how far it got
        if health is not None:
            body["edition"] = ", ".join(e.isoformat() for e in health.editions)
            if health.reasons:
                body |= {"status": "degraded", "reasons": list(health.reasons)}
        return JSONResponse(body)

    def event(self, action: str, address: str, outcome: str) -> None:
        """One log line for what a subscriber did. The address is not in it, only its domain
        (a provider's trouble shows) and a tag keyed with the site secret: the lines of one
        person can be followed, but a log that leaks cannot be read back into addresses, as
        an unkeyed hash could by hashing a list of guesses."""
        address = address.strip().lower()
        tag = hmac.new(self.secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:10]
        log.info("%s: %s for %s (%s)", action, outcome, tag, address.rpartition("@")[2])

    def claimed(self, purpose: str, token: str) -> str:
        """The address a token was signed for ("" once it no longer verifies)."""
        try:
            return verify(self.secret, purpose, token).address
        except TokenError:
            return ""

    async def not_found(self, request: Request, error: Exception) -> Response:
        """A page that is not here, or a method a page does not take."""
        status = getattr(error, "status_code", 404)
        heading = "No such page" if status == 404 else "Not here"
        message = "This address has no page. Links from a digest work as they came; one cut short does not."
        hint = "Copy the whole link from the email, or sign up again on the front page."
        return self.notice(heading, message, hint, status=status)

    def error_page(self, status: int, sentence: str) -> str:
        hint = "Try again in a while; if it keeps happening, tell the site's operator."
        return self.pages.notice("Sorry", sentence, hint if status >= 500 else None, error=True)

    async def link_address(self, purpose: str, token: str) -> str:
        """The address of a link that still works (TokenError when forged, expired or replaced)."""
        return await self.work(lambda db: subscriptions.link_address(self.secret, db, purpose, token))

    async def work(self, function: Callable[[Database], T]) -> T:
        """Blocking work on this worker thread's state connection (see thread_states)."""
        return await self.states.work(function)

    def action(self, heading: str, message: str, button: str) -> Response:
        return self.page("action", heading=heading, message=message, button=button, action="")

    def notice(self, heading: str, message: str, hint: str | None = None, status: int = 200) -> Response:
        return HTMLResponse(
            self.pages.notice(heading, message, hint, error=status >= 400), status_code=status
        )

    def token_error(self, error: TokenError) -> Response:
        status = 410 if isinstance(error, TokenGone) else 400
        return self.notice("This link does not work", sentence(error), error.hint, status=status)

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        return HTMLResponse(self.pages.page(template, **context), status_code=status)
