"""`digest doctor`: what the 2024 bulk-sender rules of Gmail, Yahoo and Outlook look at, checked
one by one: the DNS records, https links, the relay's login, and the headers of a sample digest."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import Message

import dns.resolver

from ..delivery import dns_checks
from ..delivery.dkim import DkimSigner
from ..delivery.transports import connect
from ..errors import DigestError, DkimError, TransportDown
from ..models import Digest, MailCheck, Profile, Settings
from ..render.mime import mailbox_of
from ..store import Bounces, State
from .composing import Composer

SAMPLE_RECIPIENT = "sample@example.org"
COMPLAINT_LIMIT = 0.003  # the spam rate past which Gmail and Yahoo junk or refuse a bulk sender
# What the bulk-sender rules want in every message, and what the DKIM signature must cover.
WANTED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                  "List-Unsubscribe-Post")  # fmt: skip


def checks(
    settings: Settings, resolver: dns.resolver.Resolver, now: dt.datetime | None = None
) -> list[MailCheck]:
    """Every check, in the order a person would fix them."""
    from_domain = _domain(settings.sender)
    envelope_domain = _domain(settings.return_path or settings.sender)
    return [
        dns_checks.spf(resolver, envelope_domain),
        dns_checks.dkim_key(resolver, settings.dkim, from_domain),
        dns_checks.dmarc(resolver, from_domain),
        dns_checks.mx(resolver, envelope_domain),
        return_path(settings),
        https_links(settings),
        relay_login(settings),
        sample_headers(settings, now or dt.datetime.now(dt.UTC)),
        complaint_rate(settings, now or dt.datetime.now(dt.UTC)),
    ]


def return_path(settings: Settings) -> MailCheck:
    if not settings.return_path:
        fix = "set delivery.return_path, e.g. bounces@" + _domain(settings.sender)
        return MailCheck("Return path", False, "bounces go to the sender and cannot be told apart", fix)
    if not _aligned(_domain(settings.return_path), _domain(settings.sender)):
        fix = "use a return path in the From's domain, so SPF aligns for DMARC"
        return MailCheck("Return path", False, f"{settings.return_path} is outside the From's domain", fix)
    return MailCheck("Return path", True, f"bounces+<token>@{_domain(settings.return_path)} (VERP)")


def https_links(settings: Settings) -> MailCheck:
    if settings.base_url.startswith("https://"):
        return MailCheck("HTTPS", True, f"links start with {settings.base_url}")
    fix = "serve the site behind a TLS proxy and set site.base_url to its https:// address"
    return MailCheck("HTTPS", False, f"site.base_url is {settings.base_url}: one-click needs https", fix)


def relay_login(settings: Settings) -> MailCheck:
    """The relay takes the configured login; nothing is sent."""
    if settings.transport != "smtp" or settings.smtp is None:
        fix = "set delivery.transport: smtp and delivery.smtp"
        return MailCheck(
            "SMTP relay", False, "delivery.transport is outbox: nothing leaves this machine", fix
        )
    smtp = settings.smtp
    try:
        connect(smtp).quit()
    except TransportDown as error:
        return MailCheck("SMTP relay", False, str(error), error.hint)
    except OSError as error:  # the goodbye failed: the login had already worked
        return MailCheck("SMTP relay", True, f"{smtp.host}:{smtp.port} took the login ({error})")
    who = f" as {smtp.username}" if smtp.username else " (no login configured)"
    return MailCheck("SMTP relay", True, f"{smtp.host}:{smtp.port} took the connection{who}")


def sample_headers(settings: Settings, now: dt.datetime) -> MailCheck:
    """A digest composed (and signed) as a run would: every header the rules want is there."""
    try:
        message = _sample(settings, now)
    except DkimError as error:
        return MailCheck("Headers", False, f"the sample could not be signed: {error}", error.hint)
    missing = [name for name in WANTED_HEADERS if not message.get(name)]
    unsubscribe = str(message.get("List-Unsubscribe", ""))
    wanted_links = {"<https:": "an https unsubscribe link", "<mailto:": "a mailto unsubscribe"}
    missing += [what for start, what in wanted_links.items() if start not in unsubscribe]
    if message.get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click":
        missing.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    if settings.dkim is not None:
        signed = str(message.get("DKIM-Signature", "")).lower().replace(" ", "")
        missing += [f"{n} in the DKIM signature" for n in WANTED_HEADERS if n.lower() not in signed]
    if missing:
        fix = "restore the shipped templates and headers, or set site.base_url to https"
        return MailCheck("Headers", False, "a sample digest lacks " + ", ".join(missing), fix)
    signed = " and is signed" if settings.dkim else ""
    return MailCheck("Headers", True, f"a sample digest carries {', '.join(WANTED_HEADERS)}{signed}")


def complaint_rate(settings: Settings, now: dt.datetime) -> MailCheck:
    """Spam complaints per digest sent over 30 days: Gmail and Yahoo act at 0.3%."""
    try:
        with State(settings.state_dir, settings.secret, settings.state_url) as state:
            complaints, sent = Bounces(state.db).complaints_and_sent(now - dt.timedelta(days=30))
    except DigestError as error:
        return MailCheck("Complaints", False, f"the state database cannot be read: {error}", error.hint)
    rate = complaints / sent if sent else 0.0
    detail = f"{complaints} in 30 days for {sent} digests sent ({rate:.2%}; receivers act at 0.3%)"
    if rate < COMPLAINT_LIMIT:
        return MailCheck("Complaints", True, detail)
    fix = "mail only confirmed sign-ups, and keep the unsubscribe link easy to find"
    return MailCheck("Complaints", False, detail, fix)


def _sample(settings: Settings, now: dt.datetime) -> Message:
    profile = Profile(str(settings.path), (SAMPLE_RECIPIENT,), keywords=("sample",))
    digest = Digest(now.date(), profile, SAMPLE_RECIPIENT, ())
    _, outgoing = Composer(settings, now).compose(digest)
    data = DkimSigner(settings.dkim).sign(outgoing.data) if settings.dkim else outgoing.data
    return email.message_from_bytes(data, policy=email.policy.compat32)


def _domain(mailbox: str) -> str:
    return mailbox_of(mailbox).rpartition("@")[2].lower()


def _aligned(one: str, other: str) -> bool:
    """Relaxed DMARC alignment, roughly: one domain is the other or under the same parent."""
    return (
        one == other
        or one.endswith("." + other)
        or other.endswith("." + one)
        or (one.split(".", 1)[-1] == other.split(".", 1)[-1] and one.count(".") >= 2)
    )
