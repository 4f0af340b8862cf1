"""The MIME message of a digest: multipart/alternative, UTF-8, list headers per RFC 2369/8058."""

from __future__ import annotations

import datetime as dt
import hashlib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from .models import Digest
from .render import Links, RenderedDigest

# Long URLs in List-Unsubscribe must stay one token: folding at 78 would encode them as
# RFC 2047 words, which mail clients then cannot follow. RFC 5322 allows lines up to 998.
POLICY = SMTP.clone(max_line_length=998)


def sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def message_id(recipient: str, edition: dt.date, sender: str) -> str:
    """The same for every render of one (subscriber, edition), so a resend is recognisable."""
    digest = hashlib.sha256(f"{recipient.lower()}|{edition.isoformat()}".encode()).hexdigest()[:24]
    return f"<{edition:%Y%m%d}.{digest}@{sender_domain(sender)}>"


def build_message(
    digest: Digest,
    rendered: RenderedDigest,
    links: Links,
    *,
    sender: str,
    list_title: str,
    now: dt.datetime,
) -> EmailMessage:
    """A message ready to hand to a transport."""
    message = EmailMessage(policy=POLICY)
    name = " ".join((digest.profile.name or "").split())  # a name from YAML may hold line breaks
    message["From"] = sender
    message["To"] = formataddr((name, digest.recipient))
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(digest.recipient, digest.edition, sender)
    message["List-Id"] = f"{' '.join(list_title.split())} <digest.{sender_domain(sender)}>"
    message["List-Unsubscribe"] = f"<{links.unsubscribe}>, <{links.unsubscribe_mailto}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Quoted-printable keeps both parts legible in the raw message, and spam filters prefer it.
    message.set_content(rendered.text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def build_notice(*, sender: str, recipient: str, subject: str, text: str, now: dt.datetime) -> EmailMessage:
    """A plain-text message such as a confirmation request."""
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to a confirmation request
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    return message
