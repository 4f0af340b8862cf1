"""Joining and leaving: double opt-in through signed, expiring, single-use links, and
unsubscribes kept in the state database, where they win over any profile file."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .addresses import normalize_address
from .deliver import open_transport
from .errors import DeliveryError, DigestError
from .mail import build_notice
from .models import Settings
from .pages import Pages
from .profiles import save_subscription
from .store import Subscriptions
from .tokens import TokenGone, new_nonce, sign, site_secret, verify

CONFIRM_DAYS = 7
RESEND_AFTER = dt.timedelta(hours=1)  # one confirmation per address per hour, however often asked
MAX_KEYWORDS = 50


class SubscriptionError(DigestError):
    """A sign-up that cannot go ahead: a bad address or keywords, or too many requests."""


class TooManySignUps(SubscriptionError):
    """More sign-ups for one address than the hourly limit allows."""


def clean_keywords(keywords: Iterable[str]) -> list[str]:
    """Keywords from a form or the command line: one per line or comma, trimmed, each once."""
    found = [k.strip() for text in keywords for k in re.split(r"[\n,]", text) if k.strip()]
    found = list(dict.fromkeys(found))
    if not found:
        raise SubscriptionError("at least one keyword is needed", "for example: pretraining")
    if len(found) > MAX_KEYWORDS or any(len(k) > 100 for k in found):
        raise SubscriptionError(f"at most {MAX_KEYWORDS} keywords of up to 100 characters each")
    for keyword in found:
        if not re.search(r"[^\W_]", keyword):
            raise SubscriptionError(f"'{keyword}' has no letters or digits to match")
    return found


def checked_address(text: str) -> str:
    try:
        return normalize_address(text)
    except ValueError as exc:
        raise SubscriptionError(f"'{text.strip()}' is not a valid email address: {exc}") from exc


def request_subscription(
    settings: Settings, db: sqlite3.Connection, address: str, keywords: Iterable[str],
    name: str | None = None, now: dt.datetime | None = None,
) -> bool:  # fmt: skip
    """Record a pending sign-up and mail its confirmation link; False when one went out recently.

    Both outcomes look the same to whoever asked, so the form cannot tell who subscribes.
    """
    now = now or dt.datetime.now(dt.UTC)
    address, keywords = checked_address(address), clean_keywords(keywords)
    name = " ".join(name.split())[:100] if name else None
    subscriptions = Subscriptions(db)
    if subscriptions.confirmations_since(now - RESEND_AFTER, address):
        return False
    if subscriptions.confirmations_since(now - dt.timedelta(hours=1)) >= settings.max_signups_per_hour:
        raise TooManySignUps("too many sign-ups in the last hour", "try again later")
    nonce = new_nonce()
    subscriptions.add_pending(nonce, address, keywords, name)
    _send_confirmation(settings, address, keywords, name, nonce, now)
    subscriptions.record_confirmation(address, now)
    return True


def confirm_subscription(
    settings: Settings, db: sqlite3.Connection, token: str, now: dt.datetime | None = None
) -> Path:
    """Turn a confirmation link into a profile file; the link works once."""
    claims = verify(secret(settings), "confirm", token, now)
    pending = Subscriptions(db).take_pending(claims.nonce or "")
    if pending is None or pending[0] != claims.address:
        raise TokenGone("this link has already been used", "if you are not subscribed yet, sign up again")
    address, keywords, name = pending
    path = save_subscription(settings.profiles_dir, address, keywords, name)
    Subscriptions(db).resubscribe(address)  # a new confirmed subscription is the only way back
    return path


def unsubscribe(db: sqlite3.Connection, address: str, via: str) -> bool:
    """Stop every digest to `address`; False when it had already left."""
    return Subscriptions(db).unsubscribe(checked_address(address), via)


def secret(settings: Settings) -> str:
    return site_secret(settings.secret, settings.state_dir)


def unsubscribe_token(settings: Settings, address: str) -> str:
    return sign(secret(settings), "unsubscribe", address)


def _send_confirmation(
    settings: Settings, address: str, keywords: list[str], name: str | None, nonce: str,
    now: dt.datetime,
) -> None:  # fmt: skip
    token = sign(secret(settings), "confirm", address, now + dt.timedelta(days=CONFIRM_DAYS), nonce)
    pages = Pages(settings.title, settings.base_url, settings.templates_dir)
    text = pages.confirmation_text(
        address=address, keywords=keywords, name=name, valid_days=CONFIRM_DAYS,
        confirm_url=f"{settings.base_url}/confirm/{token}",
    )  # fmt: skip
    subject = f"Confirm your subscription to {settings.title}"
    message = build_notice(sender=settings.sender, recipient=address, subject=subject, text=text, now=now)
    outbox = settings.state_dir / "outbox"
    transport = open_transport(settings.transport, settings.smtp, outbox, "confirmations")
    try:
        transport.send(message, address)
    except DeliveryError as error:
        raise SubscriptionError(
            f"the confirmation email could not be sent: {error}", "try again later"
        ) from error
    finally:
        transport.close()
