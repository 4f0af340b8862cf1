"""What the scheduler tells of the editions it sent: /healthz's reasons, and a line for the log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..pipeline.run import RunReport


@dataclass(frozen=True)
class EditionHealth:
    """What /healthz tells of the editions of the last tick: which, and what went wrong in them."""

    at: dt.datetime  # the tick that sent them
    editions: tuple[dt.date, ...]
    reasons: tuple[str, ...] = ()  # empty: all went well

    def joined(self, other: EditionHealth) -> EditionHealth:
        """Both, when they come from the same tick; otherwise the newer alone."""
        if other.at != self.at:
            return other
        editions = tuple(dict.fromkeys(self.editions + other.editions))
        return EditionHealth(self.at, editions, tuple(dict.fromkeys(self.reasons + other.reasons)))


def trouble_of(report: RunReport) -> tuple[str, ...]:
    """The reasons an edition is worth an operator's look: failed sources, broken profiles,
    deliveries that may or may not have arrived."""
    reasons = [f"source {s.name} failed: {s.error}" for s in report.failed_sources]
    reasons += [f"broken profile: {p}" for error in report.profile_errors for p in error.problems]
    if uncertain := len(report.tally.uncertain):
        plural = "delivery" if uncertain == 1 else "deliveries"
        reasons.append(f"{uncertain} {plural} uncertain (may have arrived; not resent)")
    return tuple(reasons)


def outcome(report: RunReport) -> tuple[bool, str]:
    """Whether an edition is finished for good, and a line for the log."""
    tally = report.tally
    deferred = len(tally.deferred) + tally.not_attempted
    detail = (
        f"{tally.sent} sent, {len(tally.failed)} failed, {deferred} deferred, "
        f"{len(tally.uncertain)} uncertain, {tally.skipped} already sent, {tally.empty} with no match"
    )
    if report.sources and len(report.failed_sources) == len(report.sources):
        return False, "every source failed; trying again later"
    if tally.stopped or tally.transport_error or tally.deferred:
        return False, detail + " (not finished; trying again later)"
    return True, detail
