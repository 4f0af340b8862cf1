"""The MIME message of a digest: multipart/alternative, UTF-8, list headers per RFC 2369/8058."""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import hashlib
from collections.abc import Iterable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from ..models import Links, Outgoing, RenderedDigest
from .memo import VARIANTS, make_room

# Long URLs in List-Unsubscribe must stay one token: folding at 78 would encode them as
# RFC 2047 words, which mail clients then cannot follow. RFC 5322 allows lines up to 998.
POLICY = SMTP.clone(max_line_length=998)


def sender_domain(sender: str) -> str:
    return mailbox_of(sender).rpartition("@")[2] or "localhost"


@functools.lru_cache(maxsize=16)  # one sender for every message of a run
def mailbox_of(sender: str) -> str:
    """The bare address of a From value such as `Lab Digest <digest@lab.example>`."""
    return parseaddr(sender)[1]


def message_id(recipient: str, edition: dt.date, sender: str) -> str:
    """The same for every render of one (subscriber, edition), so a resend is recognisable."""
    digest = hashlib.sha256(f"{recipient.lower()}|{edition.isoformat()}".encode()).hexdigest()[:24]
    return f"<{edition:%Y%m%d}.{digest}@{sender_domain(sender)}>"


def build_message(
    rendered: RenderedDigest,
    links: Links,
    *,
    sender: str,
    list_title: str,
    now: dt.datetime,
    encoded: dict[str, tuple[int, int, bytes]] | None = None,
) -> Outgoing:
    """A multipart/alternative message, text first: clients show the last part they can display.

    With `encoded`, the encodings of the pieces that recur between emails are kept there and reused.
    """
    digest = rendered.digest
    name = " ".join((digest.profile.name or "").split())  # a name from YAML may hold line breaks
    mid = message_id(digest.recipient, digest.edition, sender)
    # A boundary derived from the message keeps re-renders of one digest byte-identical.
    boundary = "=_" + hashlib.sha256(mid.encode()).hexdigest()[:32]
    headers = [
        ("From", sender),
        ("To", formataddr((name, digest.recipient))),
        ("Subject", rendered.subject),
        ("Date", format_datetime(now)),
        ("Message-ID", mid),
        ("List-Id", f"{' '.join(list_title.split())} <digest.{sender_domain(sender)}>"),
        ("List-Unsubscribe", f"<{links.unsubscribe}>, <{links.unsubscribe_mailto}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    parts = [
        _part("plain", quoted_printable(rendered.text, rendered.recurring_text, encoded)),
        _part("html", quoted_printable(rendered.html, rendered.recurring_html, encoded)),
    ]
    body = b"".join(b"--%s\r\n%s\r\n" % (boundary.encode(), part) for part in parts)
    head = b"".join(_header(name, value) for name, value in headers)
    data = head + b"\r\n" + body + b"--%s--\r\n" % boundary.encode()
    return Outgoing(mid, mailbox_of(sender), data)


def _header(name: str, value: str) -> bytes:
    """One header line; the email package folds and encodes only what needs it (it is slow)."""
    line = f"{name}: {value}\r\n"
    if value.isascii() and len(line) <= 998 and "\r" not in value and "\n" not in value:
        return line.encode("ascii")
    return POLICY.fold_binary(name, value)


def _part(subtype: str, encoded: bytes) -> bytes:
    """A UTF-8 text part, quoted-printable: legible in the raw message, and spam filters prefer it."""
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
    return head.encode() + b"\r\n" + encoded


def quoted_printable(
    text: str, recurring: Iterable[str] = (), known: dict[str, tuple[int, int, bytes]] | None = None
) -> bytes:
    """`text` in UTF-8, quoted-printable, with CRLF line ends.

    The email package's generator encodes a long body line by line in Python; binascii does it
    in C. Even so, encoding is a good part of building a message, and most of a digest is paper
    blocks that other digests hold too. Quoted-printable works line by line, so whole lines
    encode the same wherever they stand: the whole lines of each `recurring` piece of `text`
    (in order) are encoded once and kept in `known`; the text around them is encoded as it comes.
    """
    if known is None or "\r" in text:  # a CR would change how binascii reads the line ends
        return _encode(text)
    out, position = [], 0
    for piece in recurring:
        if piece not in known:
            make_room(known, 2 * VARIANTS)  # a paper block's HTML and its text
            first, last = piece.find("\n"), piece.rfind("\n")
            known[piece] = (first, last, _encode(piece[first + 1 : last + 1]) if first < last else b"")
        first, last, lines = known[piece]
        if first >= last:
            continue  # no whole line in it (the pieces between vote links): not looked for
        start = _find(text, piece, position)
        if start >= 0:
            out += [_encode(text[position : start + first + 1]), lines]
            position = start + last + 1
    out.append(_encode(text[position:]))
    return b"".join(out)


def _find(text: str, piece: str, position: int) -> int:
    """`text.find(piece, position)`, sooner: find reads all of a long piece before it searches,
    and a paper block is kilobytes, found a few hundred characters on."""
    head = piece[:_FIND_BY]
    start = text.find(head, position)
    while start >= 0 and not text.startswith(piece, start):
        start = text.find(head, start + 1)
    return start


_FIND_BY = 64  # characters of a piece searched for; the rest compared where they match


def _encode(text: str) -> bytes:
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def build_notice(*, sender: str, recipient: str, subject: str, text: str, now: dt.datetime) -> Outgoing:
    """A plain-text message such as a confirmation request."""
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to a confirmation request
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    return Outgoing(str(message["Message-ID"]), mailbox_of(sender), message.as_bytes())
