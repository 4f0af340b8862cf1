"""Classify one inbound message: bounce, complaint, mailed unsubscribe, automatic reply or other.

Reports come first (a DSN or an ARF report says exactly what it is), then bounces in a mail
server's own words (flufl.bounce knows the formats of many), then automatic replies (RFC 3834),
then the mailto unsubscribe. Whatever is left is for a person.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterable
from email import policy
from email.message import Message

from flufl.bounce import all_failures

from ..models import InboundMessage
from .reports import (
    RETURN_PATH_TOKEN,
    STATUS,
    delivery_status,
    feedback_report,
    quoted_headers,
    report_type,
    tokens_in_headers,
)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # a bounce is small; a larger message is kept, not read
# Headers a mail server adds to name the address a message was delivered to.
DELIVERED_TO = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
UNSUBSCRIBE_SUBJECT = re.compile(r"^\s*(?:(?:re|aw|sv|fwd?)\s*:\s*)*unsubscribe\s+(\S+)\s*$", re.IGNORECASE)
AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit|vacation|auto:)",
    re.IGNORECASE,
)


def classify(data: bytes, recipients: Iterable[str] = ()) -> InboundMessage:
    """What `data` is, and every clue it holds to whom it is about; never raises for bad input."""
    if len(data) > MAX_MESSAGE_BYTES:
        return InboundMessage("unreadable", f"{len(data) // 1024 // 1024} MB, larger than a bounce")
    try:
        message = email.message_from_bytes(data, policy=policy.compat32)
        if not message.keys():
            return InboundMessage("unreadable", "no headers: not an email message")
        return _classified(message, _own_tokens(message, recipients))
    except Exception as exc:  # malformed MIME the email package chokes on: kept for a person
        return InboundMessage("unreadable", f"cannot be parsed: {type(exc).__name__}")


def _own_tokens(message: Message, recipients: Iterable[str]) -> tuple[str, ...]:
    """Return-path tokens of the addresses the message was delivered to."""
    places = [*recipients, *(str(v) for name in DELIVERED_TO for v in message.get_all(name, []))]
    return _unique(token for place in places for token in RETURN_PATH_TOKEN.findall(place))


def _classified(message: Message, tokens: tuple[str, ...]) -> InboundMessage:
    kind = report_type(message)
    if kind == "feedback-report":
        return _complaint(message, tokens)
    if kind == "delivery-status":
        return _dsn(message, tokens)
    bounce = _other_bounce(message, tokens)
    if bounce is not None:
        return bounce
    if _is_automatic(message):
        return InboundMessage("auto_reply", "automatic reply: " + _subject(message)[:60])
    unsubscribe = UNSUBSCRIBE_SUBJECT.match(_subject(message))
    if unsubscribe:
        return InboundMessage("unsubscribe", "mailed unsubscribe", unsubscribe_token=unsubscribe.group(1))
    return InboundMessage("other", f"from {_header(message, 'From')[:60]}: {_subject(message)[:60]}")


def _complaint(message: Message, tokens: tuple[str, ...]) -> InboundMessage:
    report = feedback_report(message)
    quoted = quoted_headers(message)
    quoted_tokens = tuple(tokens_in_headers(quoted)) if quoted is not None else ()
    named = [report.get("original-rcpt-to", ""), report.get("removal-recipient", "")]
    addresses = _unique(_address(value) for value in named if "@" in value)
    feedback = report.get("feedback-type", "abuse")[:40]
    return InboundMessage(
        "complaint", f"feedback type {feedback}", _unique([*tokens, *quoted_tokens]),
        _message_ids(quoted), addresses,
    )  # fmt: skip


def _dsn(message: Message, tokens: tuple[str, ...]) -> InboundMessage:
    failures = [f for f in delivery_status(message) if f.action in ("failed", "delayed", "")]
    quoted = quoted_headers(message)
    quoted_tokens = tuple(tokens_in_headers(quoted)) if quoted is not None else ()
    failed = [f for f in failures if f.action != "delayed"]
    if not failed:
        if failures:
            return InboundMessage("delay", "delay notice: the server is still trying")
        return InboundMessage("other", "a delivery report that names no failed recipient")
    permanent = any(f.status.startswith("5") for f in failed) or not any(f.status for f in failed)
    first = failed[0]
    summary = f"{first.status or 'no status'} {first.diagnostic or first.action}".strip()
    return InboundMessage(
        "bounce", summary[:200], _unique([*tokens, *quoted_tokens]), _message_ids(quoted),
        _unique(f.address for f in failed if f.address), permanent,
    )  # fmt: skip


def _other_bounce(message: Message, tokens: tuple[str, ...]) -> InboundMessage | None:
    """A bounce in a mail server's own format (Exim, qmail, Postfix's older one, ...)."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector that trips over odd input: not a bounce it can read
        return None
    if not (temporary or permanent):
        return None
    addresses = _unique(a.decode("ascii", "replace").lower() for a in [*permanent, *temporary])
    body = _body_text(message)
    status = STATUS.search(body)
    code = status.group(0) if status else ("5.0.0" if permanent else "4.0.0")
    quoted = quoted_headers(message)
    quoted_tokens = tuple(tokens_in_headers(quoted)) if quoted is not None else ()
    ids = _message_ids(quoted) or _unique(re.findall(r"^Message-ID:\s*(<[^>\s]+>)", body, re.I | re.M))
    all_tokens = _unique([*tokens, *quoted_tokens, *RETURN_PATH_TOKEN.findall(body)])
    return InboundMessage(
        "bounce", f"{code} {_subject(message)[:80]}", all_tokens, ids, addresses, bool(permanent)
    )


def _is_automatic(message: Message) -> bool:
    """An automatic reply (RFC 3834 Auto-Submitted, or the headers vacation programs add)."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if any(message.get(name) for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")):
        return True
    if _header(message, "Precedence").lower() in ("auto_reply", "bulk", "junk"):
        return True
    return bool(AUTO_SUBJECT.match(_subject(message)))


def _message_ids(headers: Message | None) -> tuple[str, ...]:
    if headers is None:
        return ()
    return _unique(re.findall(r"<[^<>\s]+>", _header(headers, "Message-ID")))


def _body_text(message: Message) -> str:
    """The first text/plain part, decoded leniently; at most 64 KB of it is looked at."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload[:65536].decode("utf-8", errors="replace")
    return ""


def _subject(message: Message) -> str:
    return _header(message, "Subject")


def _header(message: Message, name: str) -> str:
    """A header as text, RFC 2047 words decoded, undecodable bytes replaced."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        text = str(email.header.make_header(email.header.decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError):
        text = str(value)
    return " ".join(text.split())


def _address(value: str) -> str:
    return email.utils.parseaddr(value)[1].lower()


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))
