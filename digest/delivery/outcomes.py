"""How each hand-over of an edition went: its ledger row and the run's tally, recorded together.

A temporary failure is deferred (tried again later in the run, then by the next run), a
permanent one failed (and the address suppressed after repeated ones), an unknown outcome
uncertain (never resent unawares), a dead transport leaves the message pending.
"""

from __future__ import annotations

import datetime as dt

from ..errors import DeliveryError, PermanentFailure, TemporaryFailure, TransportDown, UncertainDelivery
from ..models import DeliveryLedger, DeliveryPolicy, Job, SendOutcome
from .tally import Tally


class Outcomes:
    """Records the outcome of each hand-over of one edition, and stops the run when the relay
    keeps taking messages without answering."""

    def __init__(
        self, ledger: DeliveryLedger, edition: dt.date, policy: DeliveryPolicy, tally: Tally
    ) -> None:
        self.ledger, self.edition, self.policy, self.tally = ledger, edition, policy, tally
        self.deferred_because: dict[str, str] = {}
        self._unknown_in_a_row = 0  # uncertain outcomes since the last message that surely went

    def went(self) -> None:
        """A message surely went (its outcome recorded with its group's)."""
        self._unknown_in_a_row = 0

    def settle(self, job: Job, outcome: DeliveryError | None) -> SendOutcome:
        """Record how a hand-over went (None: sent); TransportDown is raised again."""
        ledger, address, edition = self.ledger, job.address, self.edition
        try:
            if outcome is not None:
                raise outcome
        except TemporaryFailure as error:
            ledger.mark(address, edition, "deferred", job.message_id, str(error))
            self.deferred_because[address] = str(error)
            return "deferred"
        except TransportDown as error:
            ledger.mark(address, edition, "pending", job.message_id, str(error))
            raise
        except UncertainDelivery as error:
            ledger.mark(address, edition, "uncertain", job.message_id, str(error))
            self.tally.uncertain.append(f"{address}: {error}")
            self._count_unknown()
            return "uncertain"
        except PermanentFailure as error:
            self._failed(job, str(error))
            return "failed"
        ledger.mark_sent(address, edition, job.message_id, job.paper_ids)
        self.tally.sent += 1
        self.went()
        return "sent"

    def _count_unknown(self) -> None:
        """Stop the run after a few unknown outcomes in a row: a relay that takes the data and
        never answers would otherwise make every recipient uncertain, one timeout at a time."""
        self._unknown_in_a_row += 1
        limit = self.policy.uncertain_limit
        if self._unknown_in_a_row >= limit and not self.tally.transport_error:
            self.tally.transport_error = (
                f"{limit} messages in a row were handed over without an answer from the relay; "
                "the run stopped"
            )
            self.tally.transport_hint = (
                "check the relay and its log; the rest are sent by the next run "
                "(delivery.uncertain_limit sets how many in a row stop a run)"
            )

    def _failed(self, job: Job, error: str) -> None:
        self.ledger.mark(job.address, self.edition, "failed", job.message_id, error)
        self.tally.failed.append(f"{job.address}: {error}")
        if self.ledger.consecutive_failures(job.address) >= self.policy.suppress_after:
            self.ledger.suppress(job.address, error)
            self.tally.newly_suppressed.append(job.address)
