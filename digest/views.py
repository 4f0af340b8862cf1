"""How papers, matches and run reports read on the command line: text lines and JSON objects."""

from __future__ import annotations

from typing import Any

from .models import Match, Paper, Settings
from .pipeline import RunReport


def summary_line(report: RunReport, settings: Settings) -> str:
    where = "(dry run, nothing sent)" if report.dry_run else f"via {settings.transport}"
    if settings.transport == "outbox" and not report.dry_run:
        where += f" to {settings.state_dir / 'outbox' / report.edition.isoformat()}"
    return (
        f"Edition {report.edition}: {report.sent} sent, {len(report.failed)} failed, "
        f"{report.deferred} deferred, {len(report.uncertain)} uncertain, "
        f"{report.skipped} already sent, {report.empty} with no match, "
        f"{len(report.profile_errors)} broken profile(s) {where}"
    )


def paper_json(paper: Paper) -> dict[str, Any]:
    return {
        "id": paper.id,
        "title": paper.title,
        "authors": list(paper.authors),
        "abstract": paper.abstract,
        "categories": list(paper.categories),
        "url": paper.url,
        "pdf_url": paper.pdf_url,
        "published": paper.published.isoformat() if paper.published else None,
        "sources": list(paper.sources),
        "upvotes": paper.upvotes,
        "announce_type": paper.announce_type,
        "hf_url": paper.hf_url,
        "code_url": paper.code_url,
    }


def paper_line(paper: Paper) -> str:
    votes = f"  ▲{paper.upvotes}" if paper.upvotes is not None else ""
    return f"{paper.id:<14} {paper.title[:90]}{votes}"


def match_json(found: Match) -> dict[str, Any]:
    return {
        "id": found.paper.id,
        "title": found.paper.title,
        "score": found.score,
        "reasons": [str(r) for r in found.reasons],
        "url": found.paper.url,
        "upvotes": found.paper.upvotes,
    }


def match_lines(rank: int, found: Match) -> str:
    reasons = "\n".join(f"      why: {reason}" for reason in found.reasons)
    return f"{rank:>3}. [{found.score:g}] {found.paper.title}\n      {found.paper.url}\n{reasons}"
