"""How papers, matches and run reports read on the command line: text lines and JSON objects."""

from __future__ import annotations

from typing import Any

from ..models import Match, Paper, Settings, SourceReport
from ..pipeline.run import RunReport


def summary_line(report: RunReport, settings: Settings) -> str:
    where = "(dry run, nothing sent)" if report.dry_run else f"via {settings.transport}"
    if settings.transport == "outbox" and not report.dry_run:
        where += f" to {settings.state_dir / 'outbox' / report.edition.isoformat()}"
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
    return (
        f"Edition {report.edition}: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + f" {where}"
    )


def paper_line(paper: Paper) -> str:
    """One row of the `fetch` table: id, date, first category, upvotes, title."""
    day = f"{paper.published:%Y-%m-%d}" if paper.published else "-"
    category = paper.categories[0] if paper.categories else "-"
    votes = f"▲{paper.upvotes}" if paper.upvotes is not None else ""
    return f"{paper.id[:24]:<24} {day:<10} {category[:12]:<12} {votes:>5}  {paper.title[:80]}"


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
        "score": found.score,
        "reasons": found.explanations(),
        "matched": [
            {"kind": r.kind, "term": r.term, "field": r.field, "spans": [[s.start, s.end] for s in r.spans]}
            for r in found.reasons
        ],
        "url": paper.url,
        "upvotes": paper.upvotes,
        "published": paper.published.isoformat() if paper.published else None,
    }


def match_lines(rank: int, found: Match) -> str:
    """A match as a few readable lines: rank, score, title, link, and why."""
    reasons = "; ".join(found.explanations())
    return f"{rank:>3}. [{found.score:g}] {found.paper.title}\n     {found.paper.url}\n     why: {reasons}"
