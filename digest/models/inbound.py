"""What an inbound message is: the inbound stage reads it, the pipeline acts on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# bounce: a delivery status notification or a bounce in a mail server's own words;
# complaint: a spam report (ARF); unsubscribe: a reply to the List-Unsubscribe mailto;
# delay: a DSN that says the server is still trying; auto_reply: a vacation message or
# another automatic answer; other: for a person to read;
# unreadable: not a message at all (too large, no headers).
InboundKind = Literal["bounce", "complaint", "unsubscribe", "delay", "auto_reply", "other", "unreadable"]


@dataclass(frozen=True)
class InboundMessage:
    """One inbound message as classified: what it is, and every clue to whom it is about."""

    kind: InboundKind
    summary: str  # a few words for the log line: "5.1.1 user unknown", "ARF abuse"
    return_path_tokens: tuple[str, ...] = ()  # from the VERP addresses it was sent to
    message_ids: tuple[str, ...] = ()  # of our messages it quotes (a DSN's headers, an ARF report)
    addresses: tuple[str, ...] = ()  # recipients it names (failed recipients, a complaint's)
    permanent: bool = False  # a bounce: 5.x.x (hard) rather than 4.x.x (soft)
    unsubscribe_token: str | None = None  # the mailto unsubscribe's token


@dataclass(frozen=True)
class BounceScore:
    """An address's bounce record, as `digest suppressions` and the admin console show it."""

    address: str
    score: float  # 0 once `decay_days` passed without a bounce
    bounces: int  # counted since the score last started over
    last_bounce: str  # ISO 8601, UTC
    reason: str  # of the last bounce
    suppressed: bool


@dataclass(frozen=True)
class MailCheck:
    """One line of `digest doctor`: what was checked, whether it passed, and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
