"""The mail commands: inbound (bounces, complaints, mailed unsubscribes) and doctor, and the
DKIM part of `digest check`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ..config.settings import load_settings
from ..delivery.dkim import DkimSigner
from ..delivery.dns_lookup import make_resolver
from ..errors import DigestError, DkimError, Problem
from ..models import Settings
from ..pipeline import inbound as inbound_mail
from ..pipeline.doctor import checks as doctor_checks
from .main import config_option, main
from .output import coloured, print_error

EX_TEMPFAIL = 75  # sysexits.h: the mail server keeps the message and tries again later
log = logging.getLogger("digest.inbound")


def dkim_problems(settings: Settings) -> list[Problem]:
    """The DKIM key's problem, for `digest check`: unreadable, not RSA, too short."""
    if settings.dkim is None:
        return []
    try:
        DkimSigner(settings.dkim)
    except DkimError as error:
        return [Problem(settings.path, None, "delivery.dkim.key_file", str(error), error.hint)]
    return []


def print_dkim_record(settings: Settings) -> None:
    """Say which TXT record publishes the key (once `dkim_problems` found none)."""
    if settings.dkim is None:
        return
    name, value = DkimSigner(settings.dkim).dns_record()
    click.echo(f"DKIM: publish a TXT record at {name}:\n  {value}")


@main.command()
@config_option
@click.option(
    "--recipient", "recipients", multiple=True, metavar="ADDRESS",
    help="The address the message was delivered to (repeatable); Postfix's pipe passes ${recipient}.",
)  # fmt: skip
def inbound(config_path: Path, recipients: tuple[str, ...]) -> None:
    """Handle one message read on standard input: a bounce, a complaint or a mailed unsubscribe.

    Bounces add to the address's score (see `digest suppressions`), a spam
    complaint unsubscribes at once, `Subject: unsubscribe <token>` works like
    the one-click link, automatic replies are dropped, and anything else is
    kept in <state_dir>/inbox/ for a person. One line says what was done.
    Exits 0 whenever the message was handled or kept, 75 (try again later)
    when the state database cannot be used.

    \b
    Examples:
      digest inbound < bounce.eml
      digest inbound --config /etc/digest/digest.yaml --recipient 'bounces+<token>@example.org'
    """
    data = sys.stdin.buffer.read()
    try:
        settings = load_settings(config_path)
        handled = inbound_mail.handle_message(settings, data, recipients)
    except Exception as error:  # a crash here would make the mail server retry or bounce the bounce
        what = (
            str(error).splitlines()[0]
            if isinstance(error, DigestError)
            else f"{type(error).__name__}: {error}"
        )
        print_error(f"inbound message not handled, the mail server will try again: {what}")
        sys.exit(EX_TEMPFAIL)
    click.echo(handled.line)


@main.command()
@config_option
@click.option(
    "--nameserver", metavar="HOST[:PORT]",
    help="Ask this DNS server instead of the system's resolver (e.g. to check before the records spread).",
)  # fmt: skip
@click.option(
    "--dns-timeout", default=5.0, show_default=True, type=click.FloatRange(0.1, 60), metavar="SECONDS",
    help="How long one DNS look-up may take before its check fails.",
)  # fmt: skip
def doctor(config_path: Path, nameserver: str | None, dns_timeout: float) -> None:
    """Check what receivers want of bulk mail, one line per check, with the fix.

    SPF, DKIM (the published key matches delivery.dkim's key), DMARC and MX
    records; the return path; https links; the SMTP relay's login (nothing is
    sent); and the headers of a sample digest (List-Unsubscribe, one-click,
    signed). Exits 1 when any check fails.

    \b
    Examples:
      digest doctor
      digest doctor --nameserver 9.9.9.9 --dns-timeout 3
    """
    settings = load_settings(config_path)
    resolver = make_resolver(nameserver, dns_timeout)
    found = doctor_checks(settings, resolver)
    for check in found:
        mark = coloured("✓", "green") if check.ok else coloured("✗", "red")
        click.echo(f"{mark} {check.name}: {check.detail}")
        if check.fix and not check.ok:
            click.echo(f"    fix: {check.fix}")
    failed = sum(1 for check in found if not check.ok)
    click.echo(f"{len(found) - failed} of {len(found)} checks passed", err=True)
    if failed:
        sys.exit(1)
