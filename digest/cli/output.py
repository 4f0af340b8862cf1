"""How papers, matches and run reports read on the command line: text lines, JSON objects, errors."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from ..models import Match, Paper, Settings, SourceReport
from ..pipeline.run import Progress, RunReport
from ..pipeline.selection import Dropped
from ..render.tex import readable_tex


def coloured(text: str, colour: str) -> str:
    """The text in a colour, but plain when NO_COLOR is set to anything (no-color.org)."""
    return text if os.environ.get("NO_COLOR") else click.style(text, fg=colour)


def print_error(message: str, hint: str | None = None) -> None:
    click.echo(coloured(f"Error: {message}", "red"), err=True)
    if hint:
        click.echo(f"  Hint: {hint}", err=True)


def print_warning(message: str, hint: str | None = None) -> None:
    click.echo(coloured(f"Warning: {message}", "yellow"), err=True)
    if hint:
        click.echo(f"  Hint: {hint}", err=True)


def report_sources(reports: Sequence[SourceReport]) -> None:
    went_on = "the other sources went on" if len(reports) > 1 else None
    for report in reports:
        if report.failed:
            print_error(f"source {report.name}: {report.error}", went_on)
            continue
        click.echo(source_line(report), err=True)
        for warning in report.warnings:
            click.echo(coloured(f"  warning: {warning}", "yellow"), err=True)


def exit_if_every_source_failed(reports: Sequence[SourceReport], consequence: str = "") -> None:
    if reports and all(r.failed for r in reports):
        print_error("every source failed" + (f"; {consequence}" if consequence else ""), "check the network")
        sys.exit(1)


def report_run(report: RunReport) -> None:
    """One line for everything that did not go to plan, with what to do about it."""
    for error in report.profile_errors:
        for problem in error.problems:
            print_error(f"{problem} (profile skipped)", problem.hint)
    report_sources(report.sources)
    for duplicate in report.duplicates:
        print_warning(f"{duplicate}: mailed once, by the first profile")
    for warning in report.like_warnings:
        print_warning(warning)
    tally = report.tally
    for failure in tally.failed:
        print_error(f"not delivered: {failure}")
    for address in tally.newly_suppressed:
        print_warning(
            f"{address} is now suppressed after repeated permanent failures",
            f"once the address works again: digest suppressions --clear {address}",
        )
    for deferred in tally.deferred:
        print_warning(f"deferred to the next run: {deferred}")
    for uncertain in tally.uncertain:
        print_warning(
            f"uncertain, not resent: {uncertain}", "check the relay's log; --resend-uncertain sends it"
        )
    if tally.transport_error:
        print_error(
            f"{tally.not_attempted} message(s) left for the next run: {tally.transport_error}",
            tally.transport_hint,
        )


def source_progress() -> Callable[[SourceReport], None] | None:
    """On a terminal, a line for each source the moment it is fetched; nothing when piped."""
    if not sys.stderr.isatty():
        return None

    def finished(report: SourceReport) -> None:
        outcome = f"failed ({report.error})" if report.failed else f"{report.papers} papers"
        click.echo(f"  fetched {report.name}: {outcome}", err=True)

    return finished


@contextmanager
def progress_bar(label: str) -> Iterator[Progress | None]:
    """A progress bar on a terminal; nothing at all when output is piped or logged."""
    if not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def summary_line(report: RunReport, settings: Settings) -> str:
    tally = report.tally
    counts = {
        "sent": tally.sent,
        "failed": len(tally.failed),
        "deferred": len(tally.deferred) + tally.not_attempted,
        "uncertain": len(tally.uncertain),
        "already sent": tally.skipped,
        "with no match": tally.empty,
        "suppressed": len(tally.suppressed),
        "unsubscribed": report.unsubscribed,
        "broken profile(s)": len(report.profile_errors),
    }
    if report.dry_run:  # nothing was sent: say what would have been
        would = counts.pop("sent")
        rest = ", ".join(f"{n} {what}" for what, n in counts.items())
        messages = "message" if would == 1 else "messages"
        return f"Edition {report.edition}: would send {would} {messages} (dry run: nothing sent); {rest}"
    where = f"via {settings.transport}"
    if settings.transport == "outbox":
        where += f" to {settings.state_dir / 'outbox' / report.edition.isoformat()}"
    return (
        f"Edition {report.edition}: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + f" {where}"
    )


ROW_START = 56  # the columns before the title: id 24, date 10, category 12, votes 5, and gaps
MIN_TITLE = 20


def table_width() -> int | None:
    """The terminal's width for the `fetch` table; None (no limit) when piped without COLUMNS."""
    if os.environ.get("COLUMNS", "").isdigit() or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def table_header() -> str:
    return f"{'ID':<24} {'DATE':<10} {'CATEGORY':<12} {'VOTES':>5}  TITLE"


def paper_line(paper: Paper, width: int | None = None) -> str:
    """One row of the `fetch` table: id, date, first category, upvotes, title (TeX made readable),
    cut with "…" to fit `width`."""
    day = f"{paper.published:%Y-%m-%d}" if paper.published else "-"
    category = paper.categories[0] if paper.categories else "-"
    votes = f"▲{paper.upvotes}" if paper.upvotes is not None else ""
    title = readable_tex(paper.title)
    room = None if width is None else max(MIN_TITLE, width - ROW_START)
    if room is not None and len(title) > room:
        title = title[: room - 1].rstrip() + "…"
    return f"{paper.id[:24]:<24} {day:<10} {category[:12]:<12} {votes:>5}  {title}"


def source_line(report: SourceReport) -> str:
    unchanged = " (unchanged since the last fetch)" if report.unchanged else ""
    return (
        f"source {report.name}: {report.items} items, {report.papers} kept, {report.new} new, "
        f"{report.skipped} skipped{unchanged}"
    )


def match_json(found: Match) -> dict[str, Any]:
    """A match for `digest match --json`: the reasons in words, and where each term matched."""
    paper = found.paper
    return {
        "id": paper.id,
        "title": paper.title,
        "score": round(found.score, 3),
        "reasons": found.explanations(),
        "via": found.via,
        "learned": found.learned,
        "matched": [
            {"kind": r.kind, "term": r.term, "field": r.field, "spans": [[s.start, s.end] for s in r.spans]}
            for r in found.reasons
        ],
        "url": paper.url,
        "upvotes": paper.upvotes,
        "published": paper.published.isoformat() if paper.published else None,
    }


def print_excluded(dropped: Dropped, as_json: bool) -> None:
    """What each exclude term dropped: a block per term, or one JSON object per dropped paper."""
    if as_json:
        terms_of: dict[str, list[str]] = {}
        papers = {p.id: p for _, hit in dropped for p in hit}
        for term, hit in dropped:
            for paper in hit:
                terms_of.setdefault(paper.id, []).append(term)
        for paper_id, terms in terms_of.items():
            record = {"id": paper_id, "title": papers[paper_id].title, "excluded_by": terms}
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    for term, hit in dropped:
        count = "nothing" if not hit else f"{len(hit)} paper:" if len(hit) == 1 else f"{len(hit)} papers:"
        click.echo(f"exclude '{term}' dropped {count}")
        for paper in hit:
            click.echo(f"  {paper.title}  {paper.url}")


def match_lines(rank: int, found: Match) -> str:
    """A match as a few readable lines: rank, score, title, link, and why."""
    reasons = "; ".join(found.explanations())
    via = f"  (via {' + '.join(found.via)})" if found.learned is not None else ""
    head = f"{rank:>3}. [{found.score:.3g}] {found.paper.title}{via}"
    return f"{head}\n     {found.paper.url}\n     why: {reasons}"
