"""The scheduler of `digest serve`: APScheduler ticks, due editions are sent once, missed ones caught up.

Every minute a tick asks which slots (send time × time zone × frequency) have an edition due
in the catch-up window that has not run yet, and runs them one at a time. Deciding from the
schedule log rather than from timers means a restart, a pause or days of downtime all end the
same way: each due edition is sent once, and an edition already sent is never sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from ..config.profile_cache import CACHE_FILE
from ..config.profiles import load_profiles
from ..errors import DigestError
from ..models import Listing, Profile, Settings
from ..models.console import NextSend
from ..pipeline.due import weekly_since
from ..pipeline.run import RunOptions, RunReport, run_once
from ..pipeline.state import database_path
from ..store import ScheduleLog, State, connect, state_unless_given
from .edition_health import EditionHealth, outcome, trouble_of
from .edition_process import EditionOrder, send_in_child, warm_up
from .leadership import Leadership
from .slots import Slot, group_by_slot, in_slot, slot_of, weekdays_only

log = logging.getLogger("digest.schedule")

TICK_SECONDS = 60
RETRY_AFTER = dt.timedelta(minutes=15)  # an edition whose run failed is tried again this often
LISTING_FRESH = dt.timedelta(hours=1)  # slots of one edition share a listing fetched this recently

Clock = Callable[[], dt.datetime]


class Service:
    """Sends every scheduled edition once: at its time, or late after downtime, never twice."""

    def __init__(self, settings: Settings, clock: Clock | None = None, *, in_child: bool = False) -> None:
        # A state database that is lost or broken stops the service here, in one line, rather
        # than in a traceback every minute.
        connect(database_path(settings), url=settings.state_url).close()
        self.settings = settings
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.stopping = threading.Event()
        self.running = threading.Lock()  # one run at a time in this process
        self.leadership = Leadership(settings)
        self.lost = threading.Event()  # set while this process may not send: it lost the lease
        self.scheduler: BackgroundScheduler | None = None
        self.state = "off"
        self._listings: dict[dt.date, tuple[dt.datetime, Listing]] = {}
        self.health: EditionHealth | None = None  # read by /healthz
        # Each edition sent by a process of its own, which can fork compose workers (this one has
        # threads: the web server's, the scheduler's); see edition_process.
        self.in_child = in_child
        self.sending: str | None = None  # the edition being sent and how far it got, for /healthz
        self._told: set[tuple[dt.date, str]] = set()  # broken profiles logged, once per edition

    def start(self) -> None:
        """Tick every minute from now on while this process holds the scheduler's lease; stand by
        and keep asking for it while another process does."""
        if self.in_child:
            warm_up()  # a standby too: it may have to send at any moment
        self.scheduler = BackgroundScheduler(timezone=dt.UTC)
        leading = self.keep_lease()  # before the first tick: standby or leader from the start
        # coalesce: after the process was paused, one tick makes up for all it missed.
        # max_instances 1: a tick still sending when the next is due is not doubled.
        self.scheduler.add_job(
            self.keep_lease, IntervalTrigger(seconds=self.leadership.renew_seconds), id="lease",
            coalesce=True, max_instances=1, misfire_grace_time=None,
        )  # fmt: skip
        self.scheduler.add_job(
            self._scheduled_tick, IntervalTrigger(seconds=TICK_SECONDS), id="tick",
            next_run_time=self.clock() if leading else None,
            coalesce=True, max_instances=1, misfire_grace_time=TICK_SECONDS,
        )  # fmt: skip
        self.scheduler.start()
        if leading:
            log.info("scheduler started: %s", "; ".join(s.key for s in self.slots()) or "no profiles yet")

    def keep_lease(self) -> bool:
        """Renew the lease, or ask for it; step up or down when that changed. Whether this leads."""
        was = self.state == "running"
        leading = self.leadership.try_to_lead()
        if leading and not was:
            self.lost.clear()
            self.state = "running"
            if self.scheduler is not None and self.scheduler.get_job("tick") is not None:
                self.scheduler.modify_job("tick", next_run_time=self.clock())  # what is due goes now
                log.info("this process took over the scheduler (%s)", self.leadership.holder)
        elif not leading and was:
            self.lost.set()  # the edition under way stops after the message in flight
            self.state = "standby"
            holder = self.leadership.leader() or "nobody"
            log.error("this process lost the scheduler's lease (now held by %s); stopped sending", holder)
        elif not leading and self.state == "off":
            self.state = "standby"
            log.warning("the scheduler already runs in %s; this process serves the web pages and "
                        "takes over if it stops", self.leadership.leader() or "another process")  # fmt: skip
        return leading

    def role(self) -> dict[str, str | None]:
        """For /healthz: whether this process sends the editions, and who does."""
        role = {"running": "leader", "standby": "standby"}.get(self.state, "off")
        return {"role": role, "leader": self.leadership.leader() if role != "off" else None}

    def _scheduled_tick(self) -> None:
        if self.leadership.leads():
            self.tick()

    def should_stop(self) -> bool:
        """Asked (SIGTERM), or no longer the leader: the lease was lost, or ran out unrenewed."""
        if self.stopping.is_set() or self.lost.is_set():
            return True
        return self.scheduler is not None and not self.leadership.leads()

    def stop(self) -> None:
        """Stop cleanly: the message in flight is finished and recorded, the rest wait."""
        self.stopping.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        self.leadership.release()  # a standby takes over at its next try, not after the lease runs out
        self.state = "off"

    def tick(self, now: dt.datetime | None = None) -> list[RunReport]:
        """Run every edition that is due and has not run; oldest first."""
        now = now or self.clock()
        reports = []
        with self._state() as state:  # one connection for the tick and every edition it sends
            for slot, edition, fire in self.due(now, state):
                if self.should_stop():
                    break
                reports.append(self.send(slot, edition, fire, now, state))
        return reports

    def slots(self) -> list[Slot]:
        return list(self._groups())

    def next_send(self, now: dt.datetime, profiles: Sequence[Profile] | None = None) -> NextSend | None:
        """The first edition due after `now`, for `digest status` and the console."""
        if profiles is None:
            profiles, _ = load_profiles(self.settings.profiles_dir, self.settings.state_dir / CACHE_FILE)
        # Profiles of one kind share a slot: one slot_of per kind, not per profile (100,000 of them).
        kinds: dict[tuple[str | None, ...], tuple[Profile, int]] = {}
        for profile in profiles:
            kind = (profile.timezone, profile.send_at, profile.frequency, profile.weekday)
            first, count = kinds.get(kind, (profile, 0))
            kinds[kind] = (first, count + 1)
        slots: Counter[Slot] = Counter()
        for first, count in kinds.values():
            slots[slot_of(first, *self._slot_defaults())] += count
        upcoming = [(slot, *slot.next_fire(now), count) for slot, count in slots.items()]
        if not upcoming:
            return None
        slot, edition, at, count = min(upcoming, key=lambda item: (item[2], item[0].key))
        return NextSend(edition, at, slot.key, count)

    def due(self, now: dt.datetime, state: State | None = None) -> list[tuple[Slot, dt.date, dt.datetime]]:
        with self._state(state) as opened:
            runs = ScheduleLog(opened.db)
            window = self._window(now, runs.first_start(now))
            due = [
                (slot, edition, fire)
                for slot in self._groups()
                for edition, fire in slot.editions_due(window, now)
                if _wanted(runs.last(slot.key, edition), now)
            ]
        return sorted(due, key=lambda item: item[2])

    def send(
        self, slot: Slot, edition: dt.date, fire: dt.datetime, now: dt.datetime, state: State | None = None
    ) -> RunReport:
        """One slot's edition, with the listing shared by the slots of the same edition."""
        with self.running, self._state(state) as opened:
            log.info("edition %s for %s: starting", edition, slot.key)
            since = weekly_since(fire) if slot.frequency == "weekly" else None  # a week of papers
            order = EditionOrder(self.settings, slot, edition, now, since, self._fresh_listing(edition, now))
            try:
                report = self._run(order, opened)
            except DigestError as error:
                self._record(opened, slot, edition, False, str(error), now)
                log.error("edition %s for %s: %s", edition, slot.key, error)
                self._join_health(EditionHealth(now, (edition,), (f"edition {edition} failed: {error}",)))
                return RunReport(edition)
            finally:
                self.sending = None
            self._tell_trouble(report, slot)
            self.record_health(report, now)
            fresh = order.listing is None and report.listing  # a failed one is fetched again
            if fresh and not fresh.failed_sources:
                self._share(edition, fresh, now)
            done, detail = outcome(report)
            if report.tally.stopped:
                # Asked to stop (SIGTERM), not failed: the rest go at the next start, not after
                # the wait that keeps a failing edition from being tried every minute.
                self._forget(opened, slot, edition)
            else:
                self._record(opened, slot, edition, done, detail, now)
            log.info("edition %s for %s: %s", edition, slot.key, detail)
            return report

    def _run(self, order: EditionOrder, state: State) -> RunReport:
        """The edition, sent by a process of its own (`in_child`) or by this one."""
        if self.in_child:
            return send_in_child(order, self.should_stop, self._progress(order))
        options = RunOptions(
            edition=order.edition, only=in_slot(self.settings, order.slot), listing=order.listing,
            since=order.since, should_stop=self.should_stop,
        )  # fmt: skip
        return run_once(self.settings, options, now=order.now, progress=self._progress(order), state=state)

    def _progress(self, order: EditionOrder) -> Callable[[int, int], None]:
        def told(done: int, total: int) -> None:
            self.sending = f"edition {order.edition} for {order.slot.key}: {done} of {total} handed over"

        return told

    def record_health(self, report: RunReport, now: dt.datetime) -> None:
        """Keep what went wrong in an edition for /healthz (joined with the rest of its tick)."""
        self._join_health(EditionHealth(now, (report.edition,), trouble_of(report)))

    def _join_health(self, health: EditionHealth) -> None:
        self.health = health if self.health is None else self.health.joined(health)

    def _tell_trouble(self, report: RunReport, slot: Slot) -> None:
        """One log line per failed source, and per broken profile (once an edition: every slot
        of the edition reads the same broken file)."""
        for source in report.failed_sources:
            log.warning("edition %s for %s: source %s failed: %s", report.edition, slot.key,
                        source.name, source.error)  # fmt: skip
        self._told = {told for told in self._told if told[0] >= report.edition}
        for problem in (p for error in report.profile_errors for p in error.problems):
            if (report.edition, str(problem)) not in self._told:
                self._told.add((report.edition, str(problem)))
                log.error("edition %s: broken profile, not mailed: %s", report.edition, problem)

    def _window(self, now: dt.datetime, first_start: dt.datetime) -> dt.datetime:
        """Editions due after this are sent: the catch-up days, but nothing from before the
        service's first day (a new site starts with today's edition, not with last week's)."""
        catch_up = now - max(dt.timedelta(days=self.settings.catch_up_days), dt.timedelta(minutes=15))
        first_day = dt.datetime.combine(first_start.date(), dt.time(), tzinfo=dt.UTC)
        return max(catch_up, first_day - dt.timedelta(seconds=1))  # an edition at midnight counts

    def _groups(self) -> dict[Slot, list[Profile]]:
        settings = self.settings  # broken profiles are reported by the run, not here
        profiles, _ = load_profiles(settings.profiles_dir, settings.state_dir / CACHE_FILE)
        return group_by_slot(profiles, *self._slot_defaults())

    def _slot_defaults(self) -> tuple[str, str, bool]:
        """The site's time zone, send time and weekdays rule, for profiles that set none."""
        settings = self.settings
        return settings.timezone, settings.send_at, weekdays_only(settings)

    def _share(self, edition: dt.date, listing: Listing, now: dt.datetime) -> None:
        """Kept for the other slots of this edition; shared, it does not grow any fresher."""
        self._listings = {e: kept for e, kept in self._listings.items() if now - kept[0] < LISTING_FRESH}
        self._listings[edition] = (now, listing)

    def _fresh_listing(self, edition: dt.date, now: dt.datetime) -> Listing | None:
        fetched = self._listings.get(edition)
        return fetched[1] if fetched and now - fetched[0] < LISTING_FRESH else None

    def _state(self, given: State | None = None) -> AbstractContextManager[State]:
        return state_unless_given(
            given, self.settings.state_dir, self.settings.secret, self.settings.state_url
        )

    def _record(
        self, state: State, slot: Slot, edition: dt.date, done: bool, detail: str, now: dt.datetime
    ) -> None:
        ScheduleLog(state.db).record(slot.key, edition, done, detail, now)

    def _forget(self, state: State, slot: Slot, edition: dt.date) -> None:
        ScheduleLog(state.db).forget(slot.key, edition)


def _wanted(last: tuple[str, dt.datetime] | None, now: dt.datetime) -> bool:
    """Due unless it ran to the end, or failed so recently that trying again would hammer."""
    if last is None:
        return True
    state, at = last
    return state != "done" and now - at >= RETRY_AFTER
