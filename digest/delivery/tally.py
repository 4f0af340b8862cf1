"""What became of an edition's recipients (the run's report), and the time delivery waits on."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Tally:
    """What became of each recipient of an edition."""

    sent: int = 0
    skipped: int = 0  # already sent (or refused for good) in an earlier run
    empty: int = 0  # nothing matched: no message
    failed: list[str] = field(default_factory=list)  # "address: why", a permanent failure
    deferred: list[str] = field(default_factory=list)  # "address: why", tried again next run
    uncertain: list[str] = field(default_factory=list)  # may have arrived; not resent
    suppressed: list[str] = field(default_factory=list)  # skipped: too many hard failures
    newly_suppressed: list[str] = field(default_factory=list)
    not_attempted: int = 0  # the transport went down before their turn
    transport_error: str | None = None
    transport_hint: str | None = None
    stopped: bool = False  # asked to stop before every recipient's turn came


class Pacer:
    """Time for pacing and backoff; tests pass one that does not really wait."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
