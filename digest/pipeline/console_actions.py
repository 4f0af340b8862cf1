"""What an operator may do from the console: the same steps as the commands, never a second way.

Changing who is mailed waits for no edition: it is refused while one is being sent (the sending
lock), so an edition never goes half to the old list and half to the new.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from ..config.addresses import normalize_address
from ..config.profile_cache import CACHE_FILE
from ..config.profiles import profile_for
from ..errors import SubscriptionError
from ..models import Profile, Settings
from ..store import Database, Ledger, Subscribers
from ..store.lock import no_edition_sending
from ..store.overview import latest_pending
from . import subscriptions
from .run import RunOptions, RunReport, run_due


def unsubscribe(settings: Settings, db: Database, address: str) -> bool:
    """As `digest unsubscribe`; False when the address had already left."""
    with no_edition_sending(settings.state_dir, f"unsubscribe {address}"):
        return subscriptions.unsubscribe(db, address, "operator")


def clear_suppression(settings: Settings, db: Database, address: str) -> bool:
    """As `digest suppressions --clear`; False when the address was not suppressed."""
    with no_edition_sending(settings.state_dir, f"clear the suppression of {address}"):
        return Ledger(db).unsuppress(address)


def resend_confirmation(settings: Settings, db: Database, address: str) -> bool:
    """Mail a new confirmation link for an address's waiting sign-up; False when one went out
    within the hour (the same limit as the sign-up form's)."""
    waiting = latest_pending(db, address)
    if waiting is None:
        raise SubscriptionError(f"{address} has no sign-up waiting for its confirmation")
    keywords, name = json.loads(waiting[0]), waiting[1]
    if keywords:
        return subscriptions.request_subscription(settings, db, address, keywords, name)
    signup = subscriptions.reserve_return(settings, db, address)
    if signup is None:
        return False
    try:
        subscriptions.send_confirmation(settings, signup)
    except SubscriptionError:
        Subscribers(db).release(signup.nonce)
        raise
    return True


def resend_uncertain(settings: Settings, edition: dt.date) -> RunReport:
    """`digest run --date EDITION --resend-uncertain`: the edition lock keeps it to one at a time."""
    return run_due(settings, RunOptions(edition=edition, resend_uncertain=True))


def profile_of(
    settings: Settings, address: str, profiles: Sequence[Profile] | None = None
) -> tuple[Path, str] | None:
    """The profile file listing `address` (among `profiles`, if read already) and its text, as written."""
    try:
        address = normalize_address(address)
    except ValueError:
        return None
    if profiles is None:
        profile = profile_for(settings.profiles_dir, address, settings.state_dir / CACHE_FILE)
    else:
        profile = next((p for p in profiles if address in p.emails), None)
    if profile is None:
        return None
    return profile.path, profile.path.read_text(encoding="utf-8", errors="replace")
