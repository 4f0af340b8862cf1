"""The page behind every "More like this" and "Less like this" link of a digest."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response

from ..errors import FormError, ProfileNotSaved, SubscriptionError, TokenError
from ..pipeline import feedback
from ..pipeline.feedback import Ballot
from ..tokens import MANAGE_LINK_LIFETIME, sign
from .forms import sentence, text_fields
from .site_tools import SiteTools

ASKED = {"like": "More like this?", "dislike": "Less like this?"}
BUTTON = {"like": "Add to the papers I like", "dislike": "Add to the papers I dislike", "none": "Undo"}
STATE = {
    "like": "It is among the papers you like.",
    "dislike": "It is among the papers you dislike.",
    "none": "You have not voted on it.",
}
EXPLAIN = (
    "Your digests rank papers like the ones you like higher, and those like the ones you dislike "
    "lower; each pick says which liked paper it resembles."
)


async def vote_page(site: SiteTools, request: Request) -> Response:
    token = request.path_params["token"]
    try:
        if request.method == "GET":
            ballot = await site.work(lambda db: feedback.ballot(site.settings, db, site.secret, token))
            return _asking(site, ballot, request.query_params.get("vote", ""))
        choice = (await text_fields(request, ("vote",)))["vote"]
        before = await site.work(lambda db: feedback.cast(site.settings, db, site.secret, token, choice))
    except TokenError as error:
        return site.token_error(error)
    except ProfileNotSaved as error:  # the link stays usable: nothing was used up
        return site.notice("Not saved yet", sentence(error), error.hint, status=503)
    except (SubscriptionError, FormError) as error:
        return site.notice("Not a vote", sentence(error), error.hint, status=400)
    site.event("vote", before.address, f"{choice} (was {before.current})")
    return _answer(site, before, choice)


def _asking(site: SiteTools, ballot: Ballot, asked: str) -> Response:
    """One button for what the link asked (both when it asked neither); a vote already cast says so."""
    choices = [asked] if asked in ASKED else list(ASKED)
    if ballot.current in choices:
        choices = [c for c in choices if c != ballot.current] or ["none"]
    heading = ASKED.get(asked, "Your vote on this paper")
    buttons = [(c, BUTTON[c]) for c in choices]
    return _page(site, ballot, heading, STATE[ballot.current], buttons)


def _answer(site: SiteTools, before: Ballot, choice: str) -> Response:
    """What the vote changed, with a button that puts back what was there before."""
    if choice == before.current:
        return _page(site, before, "Nothing to change", STATE[choice], [], done=True)
    done = {"like": "Added to the papers you like", "dislike": "Added to the papers you dislike",
            "none": "Your vote is taken back"}[choice]  # fmt: skip
    return _page(site, before, done, STATE[choice], [(before.current, "Undo")], done=True)


def _page(
    site: SiteTools,
    ballot: Ballot,
    heading: str,
    message: str,
    buttons: list[tuple[str, str]],
    done: bool = False,
) -> Response:
    now = dt.datetime.now(dt.UTC)
    manage = sign(site.secret, "manage", ballot.address, now + MANAGE_LINK_LIFETIME, issued=now)
    return site.page(
        "vote", heading=heading, message=message, ballot=ballot, buttons=buttons, done=done, action="",
        explain=EXPLAIN, manage=f"{site.settings.base_url}/manage/{manage}",
    )  # fmt: skip
