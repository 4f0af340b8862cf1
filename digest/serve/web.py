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
import sqlite3
import threading
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
from ..pipeline import feedback, subscriptions
from ..render.pages import Pages
from ..store import PaperArchive, State
from ..tokens import verify
from .confirmation_queue import ConfirmationQueue
from .feedback import vote_page
from .forms import MANAGE_FIELDS, present_fields, sentence, text_fields, typed
from .scheduler import Service
from .web_guard import BODY_SECONDS, Guard

log = logging.getLogger("digest.web")
T = TypeVar("T")


def create_app(
    settings: Settings, service: Service | None = None, request_seconds: float = BODY_SECONDS
) -> Starlette:
    """The web application for one site; with a service, it also sends the scheduled editions.

    A request body must be complete within `request_seconds` (the server bounds the headers)."""
    site = Site(settings, service)
    guard = Middleware(Guard, error_page=site.error_page, body_seconds=request_seconds)
    routes = [
        Route("/", site.subscribe, methods=["GET", "POST"]),
        Route("/subscribe", site.subscribe, methods=["GET", "POST"]),
        Route("/confirm/{token}", site.confirm, methods=["GET", "POST"]),
        Route("/unsubscribe/{token}", site.unsubscribe, methods=["GET", "POST"]),
        Route("/manage/{token}", site.manage, methods=["GET", "POST"]),
        Route("/digest/{edition}/{token}", site.edition_page, methods=["GET"]),
        Route("/feedback/{token}", functools.partial(vote_page, site), methods=["GET", "POST"]),
        Route("/healthz", site.healthz, methods=["GET"]),
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
        self.states = threading.local()  # one State, so one connection, per worker thread
        self.mailer = ConfirmationQueue(settings, self.path)

    async def subscribe(self, request: Request) -> Response:
        if request.method == "GET":
            return self._page("subscribe", email="", keywords="", name="")
        blank = dict.fromkeys(("email", "keywords", "name"), "")
        try:
            fields = await text_fields(request, tuple(blank))
        except FormError as error:
            return self._page("subscribe", status=400, error=sentence(error), **(blank | error.fields))
        try:
            signup = await self._work(
                lambda db: subscriptions.reserve_signup(
                    self.settings, db, fields["email"], [fields["keywords"]], fields["name"]
                )
            )
        except SubscriptionError as error:
            status = 429 if isinstance(error, TooManySignUps) else 400
            return self._page("subscribe", status=status, error=sentence(error), **fields)
        if signup is not None:  # sent from the queue: the answer is the same, and as quick, either way
            self.mailer.submit(signup)
        self._event("subscribe", fields["email"], "link queued" if signup else "link sent within the hour")
        message = f"We sent a link to {fields['email'].strip()}. Open it to start your subscription."
        valid = f"The link works for {subscriptions.CONFIRM_DAYS} days. No email? Look in spam."
        return self._notice("Check your inbox", message, valid)

    async def confirm(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            if request.method == "GET":  # a used or forged link says so before the button, not after
                pending = subscriptions.pending_confirmation
                _, address, keywords, _ = await self._work(lambda db: pending(self.settings, db, token))
                return self._page("confirm", address=address, keywords=keywords)
            await self._work(lambda db: subscriptions.confirm_subscription(self.settings, db, token))
        except TokenError as error:
            return self._token_error(error)
        except ProfileNotSaved as error:
            return self._notice("Not saved yet", sentence(error), error.hint, status=503)
        self._event("confirm", self._claimed("confirm", token), "subscribed")
        return self._notice("You are subscribed", "Your first digest arrives with the next edition.")

    async def unsubscribe(self, request: Request) -> Response:
        try:
            address = await self._address("unsubscribe", request.path_params["token"])
        except TokenError as error:
            return self._token_error(error)
        if request.method == "GET":
            return self._action("Unsubscribe", f"Stop all digests to {address}?", "Unsubscribe")
        # RFC 8058 one-click: a POST with List-Unsubscribe=One-Click; no cookie, login or redirect.
        await self._work(lambda db: subscriptions.unsubscribe(db, address, "link"))
        self._event("unsubscribe", address, "unsubscribed by link")
        return self._notice("You are unsubscribed", f"No more digests will be sent to {address}.")

    async def manage(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            address = await self._address("manage", token)
        except TokenError as error:
            return self._token_error(error)
        found = await run_in_threadpool(subscriptions.current_settings, self.settings, address)
        left = await self._work(lambda db: subscriptions.has_left(db, address))
        *shown, profile = found
        context: dict[str, Any] = dict(zip(("chosen", "sharing", "broken"), shown, strict=True))
        votes = await self._work(lambda db: feedback.listed_votes(db, profile))
        context |= {"address": address, "left": left, "votes": votes}
        if request.method == "GET":
            return self._manage_page(token, context)
        try:
            return await self._manage_post(request, token, context)
        except ProfileNotSaved as error:
            return self._manage_page(token, context, 503, "Not saved. " + sentence(error), error.hint)
        except SubscriptionError as error:
            status = 429 if isinstance(error, TooManySignUps) else 400
            return self._manage_page(token, context, status=status, error=sentence(error), hint=error.hint)

    async def _manage_post(self, request: Request, token: str, context: dict[str, Any]) -> Response:
        """One of the manage page's buttons; `context` takes what was typed, to show it again if refused."""
        address, current = context["address"], context["chosen"]
        fields = await present_fields(request, (*MANAGE_FIELDS, "action", "paper"))
        action = fields.get("action", "save")
        if action == "rotate":
            return await self._rotate(address)
        if action == "forget":
            return await self._forget(token, context, fields.get("paper", ""))
        if context["left"]:  # settings of an address that left change nothing: the way back comes first
            return (
                await self._return(address) if action == "resubscribe" else self._manage_page(token, context)
            )
        if action == "own":
            await run_in_threadpool(subscriptions.give_own_profile, self.settings, address)
            self._event("manage", address, "given a profile of its own")
            return self._manage_page(token, {**context, "sharing": 1, "saved": "own"})
        context["chosen"] = typed(fields, current)
        chosen = subscriptions.chosen_settings(fields, current, bool(context["votes"]["like"]))
        await run_in_threadpool(subscriptions.save_settings, self.settings, address, chosen)
        self._event("manage", address, f"saved {len(chosen.keywords)} keyword(s)")
        return self._manage_page(token, {**context, "chosen": chosen, "saved": "settings"})

    async def _forget(self, token: str, context: dict[str, Any], paper_id: str) -> Response:
        """Take a liked or disliked paper off the profile (the manage page's Remove)."""
        address = context["address"]
        profile = await run_in_threadpool(feedback.forget, self.settings, address, paper_id)
        self._event("manage", address, "a vote taken back")
        votes = await self._work(lambda db: feedback.listed_votes(db, profile))
        return self._manage_page(token, {**context, "votes": votes, "saved": "votes"})

    async def _return(self, address: str) -> Response:
        """Mail a confirmation that brings back an address that left, with its profile as it is."""
        signup = await self._work(lambda db: subscriptions.reserve_return(self.settings, db, address))
        if signup is not None:  # None: one went out within the hour, and the answer is the same
            self.mailer.submit(signup)
        message = f"We sent a link to {address}. Open it to start your digests again."
        return self._notice(
            "Check your inbox", message, f"The link works for {subscriptions.CONFIRM_DAYS} days."
        )

    async def _rotate(self, address: str) -> Response:
        await self._work(lambda db: subscriptions.rotate_links(db, address))
        self._event("manage", address, "links replaced")
        message = "Every link sent to you so far, this one included, no longer works."
        return self._notice("Your links are replaced", message, "Your next digest brings new ones.")

    async def edition_page(self, request: Request) -> Response:
        edition, token = request.path_params["edition"], request.path_params["token"]
        try:
            address = await self._address(f"view:{edition}", token)
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
            await run_in_threadpool(self.mailer.close)  # confirmations already asked for still go
            if self.service is not None:
                await run_in_threadpool(self.service.stop)

    async def healthz(self, request: Request) -> Response:
        """ok, or degraded with the reasons when the last edition had trouble. Either way 200:
        the process serves and sends, so a container must not be restarted for a failed feed."""
        scheduler = self.service.state if self.service is not None else "off"
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        body: dict[str, Any] = {"status": "ok", "scheduler": scheduler, "time": now}
        health = self.service.health if self.service is not None else None
        if self.service is not None and self.service.sending:
            body["sending"] = self.service.sending  # the edition under way and how far it got
        if health is not None:
            body["edition"] = ", ".join(e.isoformat() for e in health.editions)
            if health.reasons:
                body |= {"status": "degraded", "reasons": list(health.reasons)}
        return JSONResponse(body)

    def _event(self, action: str, address: str, outcome: str) -> None:
        """One log line for what a subscriber did. The address is not in it, only its domain
        (a provider's trouble shows) and a tag keyed with the site secret: the lines of one
        person can be followed, but a log that leaks cannot be read back into addresses, as
        an unkeyed hash could by hashing a list of guesses."""
        address = address.strip().lower()
        tag = hmac.new(self.secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:10]
        log.info("%s: %s for %s (%s)", action, outcome, tag, address.rpartition("@")[2])

    def _claimed(self, purpose: str, token: str) -> str:
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
        return self._notice(
            heading, message, f"The site's front page: {self.settings.base_url}/", status=status
        )

    def error_page(self, status: int, sentence: str) -> str:
        hint = "Try again in a while; if it keeps happening, tell the site's operator."
        return self.pages.notice("Sorry", sentence, hint if status >= 500 else None, error=True)

    async def _address(self, purpose: str, token: str) -> str:
        """The address of a link that still works (TokenError when forged, expired or replaced)."""
        return await self._work(lambda db: subscriptions.link_address(self.secret, db, purpose, token))

    async def _work(self, function: Callable[[sqlite3.Connection], T]) -> T:
        """Run blocking work (SQLite, SMTP) in a worker thread, on that thread's connection,
        opened by its first request (a connection cannot move between threads)."""

        def work() -> T:
            state: State | None = getattr(self.states, "state", None)
            if state is None:
                state = self.states.state = State(self.settings.state_dir, self.settings.secret)
            return function(state.db)

        return await run_in_threadpool(work)

    def _manage_page(
        self, token: str, context: dict[str, Any], status: int = 200, error: str | None = None,
        hint: str | None = None,
    ) -> Response:  # fmt: skip
        base, address = self.settings.base_url, context["address"]
        unsubscribe = f"{base}/unsubscribe/{subscriptions.unsubscribe_token(self.settings, address)}"
        return self._page("manage", status=status, error=error, hint=hint, action=f"/manage/{token}",
                          unsubscribe=unsubscribe, **{"saved": None, **context})  # fmt: skip

    def _action(self, heading: str, message: str, button: str) -> Response:
        return self._page("action", heading=heading, message=message, button=button, action="")

    def _notice(self, heading: str, message: str, hint: str | None = None, status: int = 200) -> Response:
        return HTMLResponse(
            self.pages.notice(heading, message, hint, error=status >= 400), status_code=status
        )

    def _token_error(self, error: TokenError) -> Response:
        status = 410 if isinstance(error, TokenGone) else 400
        return self._notice("This link does not work", sentence(error), error.hint, status=status)

    def _page(self, template: str, status: int = 200, **context: Any) -> Response:
        return HTMLResponse(self.pages.page(template, **context), status_code=status)
