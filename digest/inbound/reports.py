"""The machine-readable reports in a multipart/report: DSNs (RFC 3464) and ARF (RFC 5965)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
# A VERP address of ours anywhere in a header: <local>+<YYYYMMDD>-<20 hex>@<domain>.
RETURN_PATH_TOKEN = re.compile(r"[A-Za-z0-9._-]+\+(\d{8}-[0-9a-fA-F]{20})@", re.ASCII)


@dataclass(frozen=True)
class Failure:
    """One recipient of a DSN."""

    address: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # 5.1.1
    diagnostic: str


def report_type(message: Message) -> str:
    if message.get_content_type() != "multipart/report":
        return ""
    return str(message.get_param("report-type", "") or "").lower()


def delivery_status(message: Message) -> list[Failure]:
    """Every per-recipient block of the message/delivery-status part."""
    part = _part(message, "message/delivery-status")
    if part is None:
        return []
    blocks = _field_blocks(_text_of(part))
    return [_failure(block) for block in blocks[1:] if "final-recipient" in block or "status" in block]


def _failure(block: dict[str, str]) -> Failure:
    recipient = block.get("final-recipient") or block.get("original-recipient") or ""
    status = STATUS.search(block.get("status", ""))
    return Failure(
        _typed_address(recipient),
        block.get("action", "").strip().lower(),
        status.group(0) if status else "",
        " ".join(block.get("diagnostic-code", "").split())[:200],
    )


def feedback_report(message: Message) -> dict[str, str]:
    """The fields of the message/feedback-report part (lower-case names)."""
    part = _part(message, "message/feedback-report")
    if part is None:
        return {}
    blocks = _field_blocks(_text_of(part))
    return blocks[0] if blocks else {}


def quoted_headers(message: Message) -> Message | None:
    """The headers of our message as a report quotes it (message/rfc822 or text/rfc822-headers)."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/rfc822-headers", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind in ("text/rfc822-headers", "message/global-headers"):
            return HeaderParser().parsestr(_text_of(part))
    return None


def tokens_in_headers(message: Message) -> Iterator[str]:
    for value in message.values():
        yield from RETURN_PATH_TOKEN.findall(str(value))


def _part(message: Message, kind: str) -> Message | None:
    return next((part for part in message.walk() if part.get_content_type() == kind), None)


def _text_of(part: Message) -> str:
    """A part's text, whichever way the email package holds it."""
    payload = part.get_payload() if part.is_multipart() else part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    if isinstance(payload, list):  # message/delivery-status parses into header blocks
        return "\n\n".join(str(block) for block in payload)
    return str(payload or "")


def _field_blocks(text: str) -> list[dict[str, str]]:
    """`Name: value` blocks separated by blank lines, continuation lines joined."""
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text.strip()):
        fields: dict[str, str] = {}
        name = ""
        for line in chunk.splitlines():
            if line[:1] in (" ", "\t") and name:
                fields[name] += " " + line.strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                fields[name] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks


def _typed_address(value: str) -> str:
    """`alice@example.org` of `rfc822; alice@example.org`."""
    address = value.partition(";")[2] if ";" in value else value
    found = getaddresses([address.strip()])
    return found[0][1].lower() if found and found[0][1] else ""
