"""Acting on inbound mail: one code path for `digest inbound` and the LMTP listener.

A bounce adds to its address's score (and suppresses it at `inbound.suppress_score`), a
complaint unsubscribes and suppresses at once, a mailed unsubscribe works like the one-click
link, automatic replies are dropped, and everything else is kept in `<state_dir>/inbox/` for a
person. Whom a message is about comes from the return-path token it was sent back to, else from
the Message-ID of ours it quotes, else from a recipient it names that the ledger mailed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..delivery.transports import write_atomically
from ..errors import TokenError
from ..inbound import classify
from ..models import InboundMessage, Settings
from ..store import Bounces, Database, Ledger, State, Subscribers
from ..tokens import return_path_address, return_path_edition
from .subscriptions import link_address

INBOX = "inbox"


@dataclass(frozen=True)
class Handled:
    """What became of one inbound message: its log line, and where it was kept, if it was."""

    line: str
    kept: Path | None = None


def handle_message(
    settings: Settings, data: bytes, recipients: Iterable[str] = (), now: dt.datetime | None = None
) -> Handled:
    """Classify `data` and act on it. Only a state database that cannot be used raises (a
    StateError or a database error): the mail server should then try again later."""
    now = now or dt.datetime.now(dt.UTC)
    found = classify(data, recipients)
    if found.kind in ("other", "unreadable"):
        return _keep(settings, data, now, f"{found.kind}: {found.summary}")
    if found.kind in ("auto_reply", "delay"):
        return Handled(f"ignored {found.summary}")
    with State(settings.state_dir, settings.secret, settings.state_url) as state:
        acted, line = _act(settings, state, found, now)
    return Handled(line) if acted else _keep(settings, data, now, line)


def _act(settings: Settings, state: State, found: InboundMessage, now: dt.datetime) -> tuple[bool, str]:
    """Whether anything was done, and the log line that says what (or why not)."""
    if found.kind == "unsubscribe":
        return _unsubscribe(state, found.unsubscribe_token or "")
    target = _target(state, found, now.date())
    if isinstance(target, str):
        return False, f"{found.kind} ({found.summary}) not acted on: {target}"
    if found.kind == "complaint":
        return True, _complaint(state.db, target[0])
    return True, _bounce(settings, state.db, found, target, now)


def _bounce(
    settings: Settings, db: Database, found: InboundMessage, target: tuple[str, dt.date],
    now: dt.datetime,
) -> str:  # fmt: skip
    address, edition = target
    policy = settings.bounces
    weight = 1.0 if found.permanent else policy.soft_weight
    score = Bounces(db).record(address, weight, found.summary, now, policy.decay_days, edition)
    ledger = Ledger(db)
    line = (
        f"bounce ({'hard' if found.permanent else 'soft'}) for {address}, edition {edition}: "
        f"{found.summary}; score {score:g} of {policy.suppress_score:g}"
    )
    if score >= policy.suppress_score and not ledger.is_suppressed(address):
        ledger.suppress(address, f"bounce score {score:g}: {found.summary}")
        line += "; suppressed"
    return line


def _complaint(db: Database, address: str) -> str:
    Subscribers(db).unsubscribe(address, "complaint")
    Ledger(db).suppress(address, "spam complaint")
    return f"complaint from {address}: unsubscribed and suppressed"


def _unsubscribe(state: State, token: str) -> tuple[bool, str]:
    try:
        address = link_address(state.secret, state.db, "unsubscribe", token)
    except TokenError as error:
        return False, f"mailed unsubscribe not acted on: its token does not work: {error}"
    newly = Subscribers(state.db).unsubscribe(address, "mailto")
    return True, f"unsubscribe of {address} by mail" + ("" if newly else " (it already was)")


def _target(state: State, found: InboundMessage, today: dt.date) -> tuple[str, dt.date] | str:
    """(address, edition) the message is about, or why none could be found."""
    bounces, why = Bounces(state.db), []
    for token in found.return_path_tokens:
        try:
            edition = return_path_edition(token, today)
            return return_path_address(state.secret, token, bounces.recipients(edition), edition), edition
        except TokenError as error:
            why.append(str(error))
    for message_id in found.message_ids:
        delivery = bounces.delivery_of(message_id)
        if delivery is not None:
            return delivery
    if why:  # a token was there but does not hold: a forgery must not fall back on an address
        return "; ".join(why)
    for address in found.addresses:
        latest = bounces.latest_edition(address)
        if latest is not None:
            return address, latest
    if found.addresses:
        return f"{', '.join(found.addresses[:3])} was never mailed by this site"
    return "it names no address, token or Message-ID of ours"


def _keep(settings: Settings, data: bytes, now: dt.datetime, line: str) -> Handled:
    """Keep the message, byte for byte, in the inbox for a person to read."""
    name = f"{now:%Y%m%dT%H%M%S}-{hashlib.sha256(data).hexdigest()[:12]}.eml"
    path = settings.state_dir / INBOX / name
    write_atomically(path, data)
    return Handled(f"{line}; kept in {INBOX}/{name}", path)
