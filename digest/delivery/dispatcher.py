"""Sending one edition: every recipient's message handed over at most once, the ledger kept true.

The ledger row goes to 'sending' before the hand-over and to its outcome after it, so a run
killed at any point leaves a state the next run can trust: 'sent' is never sent again, a
'sending' row becomes 'uncertain' (reported, not resent unless asked), and everything else
is tried again.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence

from ..errors import DeliveryError, TransportDown
from ..models import Compose, DeliveryLedger, DeliveryPolicy, DeliveryState, Job, SendOutcome, Uncomposed
from .claimed import Clock, Work, claimed, listed
from .outcomes import Outcomes
from .smtp_pool import InFlight, SmtpPool
from .tally import Pacer, Tally
from .transports import Outbox, Transport

HANDOVER_GROUP = 32  # messages to the outbox between two commits of the ledger (see _group_size)
CLAIM_POLL = 2.0  # seconds at most between two looks at other senders' claims, with none left to take
LEASE_EXPIRED = "its sender stopped while handing it over (the claim expired)"
Progress = Callable[[int, int], None]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Dispatcher:
    """Hands an edition's messages to a transport and records every outcome in the ledger."""

    def __init__(
        self, ledger: DeliveryLedger, transport: Transport, policy: DeliveryPolicy, edition: dt.date,
        *, dry_run: bool = False, resend_uncertain: bool = False, pacer: Pacer | None = None,
        should_stop: Callable[[], bool] = lambda: False, sole_sender: bool = True, clock: Clock = _utc_now,
    ) -> None:  # fmt: skip
        self.ledger, self.transport, self.policy = ledger, transport, policy
        self.edition = edition
        self.dry_run, self.resend_uncertain = dry_run, resend_uncertain
        self.pacer = pacer or Pacer()
        self.should_stop = should_stop
        # The only sender there can be (a lock says so): rows left `sending` are a dead run's.
        self.sole_sender, self.clock = sole_sender, clock
        self._handled = 0  # jobs taken from compose so far
        self.tally = Tally()
        self._last_send = float("-inf")
        self.outcomes = Outcomes(ledger, edition, policy, self.tally)
        # Several connections: messages go out side by side, their outcomes recorded as they come.
        self.pool = transport if isinstance(transport, SmtpPool) and not dry_run else None
        self.in_flight = InFlight(self.pool.connections) if self.pool else None

    def run(self, recipients: Sequence[str], compose: Compose, progress: Progress | None) -> Tally:
        """Deliver to every recipient once; retry temporary failures; report everything.

        The recipients not passed over are queued in the ledger and claimed a batch at a time
        (claimed.py), so other senders of the edition share them; a dry run writes nothing."""
        retry: list[Job] = []
        if self.dry_run:
            todo = self._todo(recipients)
            self._hand_over_all(listed(todo), compose, len(todo), retry, progress)
        else:
            numbers = self._queued(recipients)
            lease = self.policy.claim_lease
            while True:
                work = claimed(self.ledger, self.edition, numbers, lease, self.clock)
                self._hand_over_all(work, compose, len(numbers), retry, progress)
                # Every message of ours in flight answered and recorded before waiting on others,
                # who may be waiting on these rows in turn.
                self._collect(retry, room_for_one=False)
                if not self._others_still_sending():
                    break
        self._collect(retry, room_for_one=False)  # every message in flight answered and recorded
        deferred = retry if self.tally.stopped else self._retry(retry)
        self.tally.deferred = [
            f"{job.address}: {self.outcomes.deferred_because[job.address]}" for job in deferred
        ]
        if not self.dry_run:
            self.ledger.release(self.edition)  # what did not leave is free for the next sender
            if self.tally.not_attempted:
                # Counted as the run went, against every recipient: other senders may have
                # handed some of those over meanwhile. The ledger knows what is left.
                self.tally.not_attempted = self.ledger.left_unclaimed(self.edition, self.clock())
        return self.tally

    def _hand_over_all(
        self, work: Work, compose: Compose, total: int, retry: list[Job], progress: Progress | None
    ) -> None:
        """Each job of `work`, in groups (see _group_size), until it ends or the run must stop."""
        jobs = ((work.next_taken()[1], job) for job in compose(work))
        while group := list(itertools.islice(jobs, self._group_size())):
            if self._must_stop(waiting=max(total - self._handled, len(group))):
                break
            if len(group) == 1:
                self._hand_over(*group[0], retry)
                taken = 1
            else:
                taken = self._hand_over_group(group, retry)
            if progress:
                for done in range(self._handled + 1, self._handled + taken + 1):
                    progress(min(done, total), total)
            self._handled += len(group)  # those of the group that had no turn are counted waiting

    def _others_still_sending(self) -> bool:
        """With nothing left to claim: wait while another sender's live claim holds rows of the
        edition, since it may die and leave them; True when there may be more to claim now.
        `sending` rows of a sender whose claim expired become uncertain here, and are reported."""
        if self.sole_sender or self.tally.stopped or self.tally.transport_error:
            return False
        # Settled before asking who still holds rows: a claim that ran out since this run began
        # holds nothing any more, and its `sending` rows would otherwise end the edition `sending`.
        settled = self.ledger.settle_expired(self.edition, self.clock())
        self.tally.uncertain += [f"{address}: {LEASE_EXPIRED}" for address in settled]
        if not self.ledger.held_by_others(self.edition, self.clock()):
            return False
        self.pacer.sleep(min(self.policy.claim_lease / 10, CLAIM_POLL))
        return not self.should_stop()

    def _again(self) -> list[str]:
        """The states of a row that make it pending again when its address is queued."""
        return ["deferred", "uncertain"] if self.resend_uncertain else ["deferred"]

    def _group_size(self) -> int:
        """Messages handed over between two commits of the ledger. Writing to the outbox takes
        microseconds, two commits per message took longer: there a group is marked `sending`
        in one commit, handed over, and its outcomes recorded in one more. A run killed
        mid-group leaves at most the group uncertain. Over SMTP, and when paced, one at a time."""
        local = isinstance(self.transport, Outbox) and not self.dry_run
        return HANDOVER_GROUP if local and self.policy.rate_limit <= 0 else 1

    def _hand_over_group(self, group: list[tuple[str, Job | Uncomposed | None]], retry: list[Job]) -> int:
        """A group's turn: `sending` committed for all before the first leaves, outcomes after.
        Only messages whose claim is still ours begin; the others went with another sender.
        A stop or a dead transport is still noticed between two messages: those of the group
        not yet handed over are pending again. Returns how many of the group had their turn."""
        messages = [(job.address, job.message_id) for _, job in group if isinstance(job, Job)]
        ours = self.ledger.begin(self.edition, messages, self.clock(), self.policy.claim_lease)
        sent: list[Job] = []
        taken = len(group)
        for index, (address, job) in enumerate(group):
            if index and self._must_stop(waiting=len(group) - index):
                later = {a for a, _ in group[index:]}
                rest = [(a, mid) for a, mid in messages if a in ours and a in later]
                self.ledger.mark_group(self.edition, "pending", rest, self.tally.transport_error)
                taken = index
                break
            if not isinstance(job, Job):
                self._hand_over(address, job, retry)
            elif job.address in ours:
                self._hand_over_one(job, retry, sent)
        self.ledger.mark_sent_group(
            self.edition, [(job.address, job.message_id, job.paper_ids) for job in sent]
        )
        self.tally.sent += len(sent)
        return taken

    def _hand_over_one(self, job: Job, retry: list[Job], sent: list[Job]) -> None:
        """One message of a group, already `sending`; it joins `sent` when it went."""
        try:
            self.transport.send(job.message, job.address)
        except TransportDown as down:
            self.ledger.mark(job.address, self.edition, "pending", job.message_id, str(down))
            self._down(down, 1)  # it never left
        except DeliveryError as error:
            if self.outcomes.settle(job, error) == "deferred":
                retry.append(job)
        else:
            sent.append(job)
            self.outcomes.went()

    def _queued(self, recipients: Sequence[str]) -> dict[str, int]:
        """{address: number} of the recipients not passed over, each queued in the ledger. Their
        (number, address) pairs are let go before composing: at 100,000 recipients they are 6 MB
        in every compose worker."""
        todo = self._todo(recipients)
        self.ledger.queue(self.edition, todo, self.clock(), self._again())
        return {address: number for number, address in todo}

    def _todo(self, recipients: Sequence[str]) -> list[tuple[int, str]]:
        """(number, address) of every recipient the ledger does not say to pass over. Rows a dead
        sender left `sending` become uncertain first: all of them when this is the only sender
        there can be, else those whose claim expired."""
        settled = set(self.ledger.settle_expired(self.edition, self.clock(), every=self.sole_sender))
        if self.sole_sender and not self.dry_run:
            self.ledger.release(self.edition, every=True)
        states = self.ledger.states(self.edition)
        return [
            (number, address)
            for number, address in enumerate(recipients)
            if not self._passed_over(address, states.get(address), address in settled)
        ]

    def _must_stop(self, waiting: int) -> bool:
        """Stop before the next message when asked to or when nothing can leave; count who waits."""
        if self.should_stop():
            # A clean stop (SIGTERM): the message in flight was finished and recorded;
            # the rest wait for the next run, which knows exactly what was sent.
            self.tally.stopped = True
        elif not self.tally.transport_error:  # when the transport is down, the rest wait too
            return False
        self.tally.not_attempted += waiting
        return True

    def _hand_over(self, address: str, job: Job | Uncomposed | None, retry: list[Job]) -> None:
        """One recipient's turn; a temporary failure joins `retry`."""
        if job is None or isinstance(job, Uncomposed):
            # No ledger row: nothing was handed over, and it is not the address's fault.
            if not self.dry_run:
                self.ledger.drop(self.edition, [address])
            if job is None:
                self.tally.empty += 1
            else:
                self.tally.failed.append(f"{job.address}: could not compose the message: {job.reason}")
        else:
            try:
                if self.pool is not None:
                    self._submit(self.pool, job, retry)
                elif self._send(job) == "deferred":
                    retry.append(job)
            except TransportDown as down:
                self._down(down, 1)  # this one never left

    def _submit(self, pool: SmtpPool, job: Job, retry: list[Job]) -> None:
        """Hand a message to a free connection, once the outcomes of those answered are recorded."""
        self._collect(retry, room_for_one=True)
        if self.tally.transport_error:  # an answer said nothing can leave now: this one waits
            self.tally.not_attempted += 1
            return
        if not self._begin(job):
            return
        assert self.in_flight is not None
        self.in_flight.add(job, pool.submit(job.message, job.address))

    def _collect(self, retry: list[Job], room_for_one: bool) -> None:
        """Record the outcome of every message in flight that was answered (see InFlight)."""
        for job, outcome in self.in_flight.answered(room_for_one) if self.in_flight else ():
            try:
                if self.outcomes.settle(job, outcome) == "deferred":
                    retry.append(job)
            except TransportDown as down:
                self._down(down, 1)  # it never left

    def _passed_over(self, address: str, state: DeliveryState | None, settled: bool) -> bool:
        """Count a recipient the ledger says to pass over (sent, failed, uncertain, suppressed)."""
        if state == "sent" or state == "failed":
            self.tally.skipped += 1
        elif state == "uncertain" and not self.resend_uncertain:
            why = "a run stopped while handing it over" if settled else "marked uncertain by an earlier run"
            self.tally.uncertain.append(f"{address}: {why}")
        elif self.ledger.is_suppressed(address):
            self.tally.suppressed.append(address)
        else:
            return False
        return True

    def _retry(self, jobs: list[Job]) -> list[Job]:
        """Temporary failures tried again with doubling delays; those still deferred are returned."""
        for attempt in range(self.policy.retries):
            if not jobs or self.tally.transport_error:
                break
            self.pacer.sleep(self.policy.retry_delay * 2**attempt)
            jobs = self._retry_round(jobs)
        return jobs

    def _retry_round(self, jobs: list[Job]) -> list[Job]:
        """One more attempt for each job; those still deferred are returned."""
        deferred = []
        for index, job in enumerate(jobs):
            try:
                if self._send(job) == "deferred":
                    deferred.append(job)
            except TransportDown as down:
                self._down(down, len(jobs) - index)  # this one and the rest wait for the next run
                break
        return deferred

    def _down(self, error: TransportDown, waiting: int) -> None:
        self.tally.transport_error, self.tally.transport_hint = str(error), error.hint
        self.tally.not_attempted += waiting

    def _send(self, job: Job) -> SendOutcome:
        """Hand one message over; its outcome is in the ledger before this returns."""
        if self.dry_run:
            self.tally.sent += 1
            return "sent"
        if not self._begin(job):
            return "sent"  # by another sender, which records it
        try:
            self.transport.send(job.message, job.address)
        except DeliveryError as error:
            return self.outcomes.settle(job, error)
        return self.outcomes.settle(job, None)

    def _begin(self, job: Job) -> bool:
        """Before a message leaves: paced, and `sending` in the ledger if our claim still holds
        (False: another sender claimed it since, and sends it)."""
        self._pace()
        begun = self.ledger.begin(
            self.edition, [(job.address, job.message_id)], self.clock(), self.policy.claim_lease
        )
        return job.address in begun

    def _pace(self) -> None:
        """At most `rate_limit` messages a second: relays throttle or block senders who go faster."""
        if self.policy.rate_limit <= 0:
            return
        wait = self._last_send + 1 / self.policy.rate_limit - self.pacer.monotonic()
        if wait > 0:
            self.pacer.sleep(wait)
        self._last_send = self.pacer.monotonic()
