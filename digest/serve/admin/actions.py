"""One subscriber and one edition, with what an operator may do to them."""

from __future__ import annotations

import datetime as dt
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...errors import DigestError
from ...pipeline import console, console_actions
from ...store.overview import deliveries_of, uncertain_deliveries
from .gate import Gate
from .pages import DONE, redirect

log = logging.getLogger("digest.admin")
SUBSCRIBER_ACTIONS = {
    "unsubscribe": (console_actions.unsubscribe, "unsubscribed", "already-left"),
    "clear-suppression": (console_actions.clear_suppression, "cleared", "not-suppressed"),
    "resend-confirmation": (console_actions.resend_confirmation, "confirmation-sent", "confirmation-recent"),
}


class Actions:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.settings = gate.settings

    async def subscriber(self, request: Request, session: str, error: str | None = None,
                         status: int = 200) -> Response:  # fmt: skip
        address = request.query_params.get("address", "").strip().lower()
        profiles = await run_in_threadpool(self.gate.snapshot.profiles)
        rows = await self.gate.work(
            lambda db: console.subscribers(self.settings, db, profiles, search=address)
        )
        row = next((r for r in rows if r.address == address), None)
        if row is None:
            message = f"No profile, sign-up, unsubscribe or suppression names {address or 'this address'}."
            return self.gate.page("message", session, status=404, heading="Not found", message=message,
                                  current="subscribers")  # fmt: skip
        profile = await run_in_threadpool(console_actions.profile_of, self.settings, address, profiles)
        history = await self.gate.work(lambda db: deliveries_of(db, address))
        done = DONE.get(request.query_params.get("done", ""))
        return self.gate.page("subscriber", session, status=status, row=row, profile=profile, history=history,
                              done=done, error=error, current="subscribers")  # fmt: skip

    async def subscriber_action(self, request: Request, session: str) -> Response:
        form = await request.form()
        address, action = str(form.get("address", "")).strip().lower(), str(form.get("action", ""))
        if action not in SUBSCRIBER_ACTIONS:
            return self.gate.refused()
        act, changed, unchanged = SUBSCRIBER_ACTIONS[action]
        try:
            done = await self.gate.work(lambda db: act(self.settings, db, address))
        except DigestError as error:
            request.scope["query_string"] = f"address={address}".encode()
            return await self.subscriber(request, session, error=_sentence(error), status=409)
        log.info("console: %s %s: %s", action, address.rpartition("@")[2], changed if done else unchanged)
        return redirect("/admin/subscriber", address=address, done=changed if done else unchanged)

    async def edition(self, request: Request, session: str, error: str | None = None,
                      status: int = 200) -> Response:  # fmt: skip
        edition = request.path_params["edition"]
        found = await self.gate.work(lambda db: console.edition_history(db, 1, _after(edition)))
        if not found or found[0].edition != edition:
            message = f"The ledger has no edition {edition}."
            return self.gate.page(
                "message", session, status=404, heading="Not found", message=message, current="editions"
            )
        uncertain = await self.gate.work(lambda db: uncertain_deliveries(db, edition))
        resent = request.query_params.get("resent")
        return self.gate.page("edition", session, status=status, counts=found[0], uncertain=uncertain,
                              resent=resent, error=error, current="editions")  # fmt: skip

    async def resend_uncertain(self, request: Request, session: str) -> Response:
        """What `digest run --date EDITION --resend-uncertain` does, under the same edition lock."""
        edition = request.path_params["edition"]
        try:
            report = await run_in_threadpool(
                console_actions.resend_uncertain, self.settings, dt.date.fromisoformat(edition)
            )
        except (DigestError, ValueError) as error:
            return await self.edition(request, session, error=_sentence(error), status=409)
        log.info("console: resent the uncertain deliveries of %s: %d sent", edition, report.tally.sent)
        return redirect(f"/admin/edition/{edition}", resent=str(report.tally.sent))


def _after(edition: str) -> str:
    """The smallest text after `edition`, so 'editions before it' starts with it."""
    return edition + "\0"


def _sentence(error: Exception) -> str:
    """An error as the page says it: a sentence, then its hint."""
    parts = [str(error), getattr(error, "hint", None) or ""]
    return " ".join(f"{p[:1].upper()}{p[1:].rstrip('.')}." for p in parts if p)
