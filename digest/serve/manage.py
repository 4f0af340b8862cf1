"""The manage page: what a subscriber may change of the profile that mails them, their votes,
their way back after leaving, and "Replace my links"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ProfileNotSaved, SubscriptionError, TokenError, TooManySignUps
from ..pipeline import feedback, subscriptions
from ..pipeline.composing import digest_links
from .forms import MANAGE_FIELDS, present_fields, sentence, typed
from .site_tools import SiteTools


class ManagePage:
    """GET and POST /manage/<token>; one per site."""

    def __init__(self, site: SiteTools) -> None:
        self.site = site

    async def page(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            address = await self.site.link_address("manage", token)
        except TokenError as error:
            return self.site.token_error(error)
        found = await run_in_threadpool(subscriptions.current_settings, self.site.settings, address)
        left = await self.site.work(lambda db: subscriptions.has_left(db, address))
        *shown, profile = found
        context: dict[str, Any] = dict(zip(("chosen", "sharing", "broken"), shown, strict=True))
        votes = await self.site.work(lambda db: feedback.listed_votes(db, profile))
        context |= {"address": address, "left": left, "votes": votes}
        if request.method == "GET":
            return self._render(token, context)
        try:
            return await self._post(request, token, context)
        except ProfileNotSaved as error:
            return self._render(token, context, 503, "Not saved. " + sentence(error), error.hint)
        except SubscriptionError as error:
            status = 429 if isinstance(error, TooManySignUps) else 400
            context["error_field"] = error.field  # the page shows the error beneath that field
            return self._render(token, context, status=status, error=sentence(error), hint=error.hint)

    async def _post(self, request: Request, token: str, context: dict[str, Any]) -> Response:
        """One of the manage page's buttons; `context` takes what was typed, to show it again if refused."""
        address, current = context["address"], context["chosen"]
        fields = await present_fields(request, (*MANAGE_FIELDS, "action", "paper"))
        action = fields.get("action", "save")
        if action == "rotate":
            return await self._rotate(address)
        if action == "forget":
            return await self._forget(token, context, fields.get("paper", ""))
        if context["left"]:  # settings of an address that left change nothing: the way back comes first
            return await self._return(address) if action == "resubscribe" else self._render(token, context)
        if action == "own":
            await run_in_threadpool(subscriptions.give_own_profile, self.site.settings, address)
            self.site.event("manage", address, "given a profile of its own")
            return self._render(token, {**context, "sharing": 1, "saved": "own"})
        context["chosen"] = typed(fields, current)
        if action == "preview":  # nothing saved: the page again, as typed, with the preview
            found = await self.site.preview(request, fields.get("keywords", ""))
            status, error = found.pop("status", 200), found.pop("error", None)
            return self._render(token, {**context, **found}, status, error)
        chosen = subscriptions.chosen_settings(fields, current, bool(context["votes"]["like"]))
        await run_in_threadpool(subscriptions.save_settings, self.site.settings, address, chosen)
        self.site.event("manage", address, f"saved {len(chosen.keywords)} keyword(s)")
        return self._render(token, {**context, "chosen": chosen, "saved": "settings"})

    async def _forget(self, token: str, context: dict[str, Any], paper_id: str) -> Response:
        """Take a liked or disliked paper off the profile (the manage page's Remove)."""
        address = context["address"]
        profile = await run_in_threadpool(feedback.forget, self.site.settings, address, paper_id)
        self.site.event("manage", address, "a vote taken back")
        votes = await self.site.work(lambda db: feedback.listed_votes(db, profile))
        return self._render(token, {**context, "votes": votes, "saved": "votes"})

    async def _return(self, address: str) -> Response:
        """Mail a confirmation that brings back an address that left, with its profile as it is."""
        signup = await self.site.work(
            lambda db: subscriptions.reserve_return(self.site.settings, db, address)
        )
        if signup is not None:  # None: one went out within the hour, and the answer is the same
            self.site.mailer.submit(signup)
        message = f"We sent a link to {address}. Open it to start your digests again."
        return self.site.notice(
            "Check your inbox", message, f"The link works for {subscriptions.CONFIRM_DAYS} days."
        )

    async def _rotate(self, address: str) -> Response:
        await self.site.work(lambda db: subscriptions.rotate_links(db, address))
        self.site.event("manage", address, "links replaced")
        message = "Every link sent to you so far, this one included, no longer works."
        return self.site.notice("Your links are replaced", message, "Your next digest brings new ones.")

    def _render(
        self, token: str, context: dict[str, Any], status: int = 200, error: str | None = None,
        hint: str | None = None,
    ) -> Response:  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        links = digest_links(self.site.settings, self.site.secret, context["address"], now.date(), now)
        return self.site.page("manage", status=status, error=error, hint=hint, action=f"/manage/{token}",
                          unsubscribe=links.unsubscribe, links=links,
                          **{"saved": None, **context})  # fmt: skip
