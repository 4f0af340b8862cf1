"""`digest status` and `digest subscribers`: the operator's console in the terminal.

The numbers come from pipeline.console (through serve.site_status for the next send), the same
functions behind the /admin pages.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from ..config.settings import load_settings
from ..models.console import SUBSCRIBER_STATES, SchedulerLease, SiteStatus, Subscriber
from ..pipeline import console
from ..pipeline.state import with_state
from ..serve.site_status import status as site_status
from .main import config_option, main

SUBSCRIBER_FIELDS = [field.name for field in dataclasses.fields(Subscriber)]


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, for scripts.")
def status(config_path: Path, as_json: bool) -> None:
    """The site at a glance: subscribers, the last editions, sources, the next send.

    Editions list what the ledger holds for each: sent, failed (refused for good),
    deferred (to try again), uncertain (may have arrived) and bounced. Each source
    shows its last fetch and how many fetches failed in the last 30 days.

    \b
    Examples:
      digest status
      digest status --json | jq .subscribers.active
    """
    settings = load_settings(config_path)
    now = dt.datetime.now(dt.UTC)
    found = with_state(settings, lambda db: site_status(settings, db, now))
    if as_json:
        click.echo(json.dumps(status_json(found)))
    else:
        click.echo("\n".join(status_lines(found)))


def status_json(found: SiteStatus) -> dict[str, Any]:
    editions = [dataclasses.asdict(counts) for counts in found.editions]
    sources = [
        {"name": s.name, "location": s.location, "last_fetch": s.last_fetch, "last_error": s.last_error,
         "failures_30d": s.failures, "fetches_30d": s.fetches}
        for s in found.sources
    ]  # fmt: skip
    upcoming = found.next_send
    next_send = upcoming and {
        "edition": upcoming.edition.isoformat(), "at": upcoming.at.isoformat(),
        "slot": upcoming.slot, "profiles": upcoming.profiles,
    }  # fmt: skip
    return {
        "subscribers": found.subscribers,
        "editions": editions,
        "sources": sources,
        "next_send": next_send,
        "scheduler": scheduler_json(found.scheduler, dt.datetime.now(dt.UTC)),
    }


def scheduler_json(lease: SchedulerLease | None, now: dt.datetime) -> dict[str, Any] | None:
    """Who leads: the lease's holder, until when, and whether it is still live."""
    if lease is None:
        return None
    return {"leader": lease.holder, "until": lease.expires_at.isoformat(), "live": lease.valid(now)}


def scheduler_line(lease: SchedulerLease | None, now: dt.datetime) -> str:
    if lease is None:
        return "Scheduler: no `digest serve` schedules this site"
    until = f"{lease.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    if lease.valid(now):
        return f"Scheduler: led by {lease.holder} (its lease runs until {until})"
    return f"Scheduler: nobody leads; the lease of {lease.holder} expired at {until} (stopped or died)"


def status_lines(found: SiteStatus) -> list[str]:
    people = ", ".join(f"{count} {state}" for state, count in found.subscribers.items())
    lines = [f"Subscribers: {people}", "", "Editions (newest first):"]
    for e in found.editions:
        lines.append(
            f"  {e.edition}  sent {e.sent}  failed {e.failed}  deferred {e.deferred}  "
            f"uncertain {e.uncertain}  bounced {e.bounced}"
            + (f"  unfinished {e.pending}" if e.pending else "")
        )
    lines += ["  (none yet)"] * (not found.editions) + ["", f"Sources (last {console.HEALTH_DAYS} days):"]
    for s in found.sources:
        trouble = f"; last fetch failed: {s.last_error}" if s.last_error else ""
        lines.append(
            f"  {s.name}  last fetch {s.last_fetch}  {s.failures} of {s.fetches} fetches failed{trouble}"
        )
    lines += ["  (no fetches yet)"] * (not found.sources) + [""]
    upcoming = found.next_send
    if upcoming is None:
        lines.append("Next send: none (no valid profiles)")
    else:
        lines.append(
            f"Next send: edition {upcoming.edition} at {upcoming.at:%Y-%m-%d %H:%M} UTC "
            f"({upcoming.slot}, {upcoming.profiles} profile(s)) when `digest serve` runs"
        )
    return [*lines, scheduler_line(found.scheduler, dt.datetime.now(dt.UTC))]


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per address per line.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header line.")
@click.option("--state", type=click.Choice(SUBSCRIBER_STATES), help="Only addresses in this state.")
@click.option("--search", metavar="TEXT", help="Only addresses or profile files containing TEXT.")
def subscribers(
    config_path: Path, as_json: bool, as_csv: bool, state: str | None, search: str | None
) -> None:
    """One line per address: state, profile file, frequency, last digest, bounce score, likes.

    An address is active when a profile lists it, pending while its sign-up waits
    for the confirmation, unsubscribed once it left (that wins over any profile),
    suppressed after repeated permanent delivery failures.

    \b
    Examples:
      digest subscribers
      digest subscribers --state pending
      digest subscribers --search example.org --csv > subscribers.csv
      digest subscribers --json | jq -r 'select(.last_sent == null) | .address'
    """
    if as_json and as_csv:
        raise click.UsageError("--json and --csv cannot be used together")
    settings = load_settings(config_path)
    found = with_state(settings, lambda db: console.roster(settings, db))
    shown = with_state(settings, lambda db: console.listing(found, db, state, search))
    total = sum(found.counts().values())
    if as_json:
        for row in shown:
            click.echo(json.dumps(dataclasses.asdict(row)))
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, SUBSCRIBER_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(dataclasses.asdict(row) for row in shown)
    else:
        for row in shown:
            click.echo(subscriber_line(row))
        click.echo(f"{len(shown)} of {total} address(es)", err=True)


def subscriber_line(row: Subscriber) -> str:
    score = "-" if row.bounce_score is None else f"{row.bounce_score:g}"
    return (
        f"{row.address}  {row.state}  {row.profile or '-'}  {row.frequency or '-'}  "
        f"last sent {row.last_sent or 'never'}  bounce {score}  likes {row.likes}"
    )
