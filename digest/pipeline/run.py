"""The one place that knows the order of the stages: fetch → parse → match → render → deliver → record.

Everything is read (profiles, listings) before anything is written, so a broken input stops
nothing half-way: it is reported, and the rest of the edition goes on.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, fields, replace

from .. import sources as sources_stage
from ..config.profile_cache import CACHE_FILE
from ..config.profiles import load_profiles
from ..delivery.chosen import open_transport
from ..delivery.dispatcher import Dispatcher
from ..delivery.dkim import DkimSigner
from ..delivery.tally import Pacer, Tally
from ..delivery.transports import Outbox
from ..errors import ConfigError, SourceError
from ..matching import CompiledProfile, PaperIndex, compile_profile
from ..models import Listing, Profile, Settings, SourceConfig, SourceReport
from ..sources.bounded import ParseLimits
from ..sources.fetch import FetchPolicy
from ..sources.fetch import fetch as fetch_source
from ..sources.stale import mark_stale, papers_of
from ..store import (
    Database,
    EditionArchive,
    HttpCache,
    Ledger,
    PaperArchive,
    SourceHistory,
    Subscribers,
    departed,
)
from ..store.connection import State, state_unless_given
from ..store.lock import edition_lock
from ..store.source_log import SourceLog
from .composing import Composer, Composition, composer_for
from .due import due_on, is_weekly, weekly_since
from .likes import arxiv_look_up, with_likes
from .workers import in_background

Progress = Callable[[int, int], None]


@dataclass
class RunReport:
    """What one run did, for the summary line and the exit status."""

    edition: dt.date
    sources: tuple[SourceReport, ...] = ()
    profile_errors: list[ConfigError] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # addresses listed by more than one profile
    unsubscribed: int = 0  # listed in a profile, but they left: never mailed
    tally: Tally = field(default_factory=Tally)
    dry_run: bool = False
    listing: Listing | None = None  # what was fetched, for the next slot of the same edition
    like_warnings: list[str] = field(default_factory=list)  # likes that could not count
    profiles: tuple[Profile, ...] = ()  # every valid profile read, for another pass of the edition

    @property
    def failed_sources(self) -> list[SourceReport]:
        return [s for s in self.sources if s.failed]

    @property
    def troubled(self) -> bool:
        """Anything that --strict turns into a failing exit status."""
        tally = self.tally
        return bool(
            self.failed_sources or self.profile_errors or tally.failed or tally.deferred
            or tally.uncertain or tally.not_attempted or tally.transport_error
        )  # fmt: skip


def edition_for(settings: Settings, now: dt.datetime) -> dt.date:
    """Today in the site's time zone: the default edition."""
    return now.astimezone(zoneinfo.ZoneInfo(settings.timezone)).date()


def fetch(
    settings: Settings, chosen: Sequence[SourceConfig] = (), *, edition: dt.date, state: State | None = None,
    on_report: Callable[[SourceReport], None] | None = None,
) -> Listing:  # fmt: skip
    """Every paper of the chosen sources (default: the configured ones); failures are reported.

    Listings are fetched with conditional GET against the cache in the state database, and
    every paper is archived there, which is how a report knows which papers are new. Whether
    a listing is stale is decided for the edition's date, not the wall clock's. `state` is the
    run's own, when a run fetches; otherwise one is opened for the fetch. `on_report` hears of
    each source as it finishes (sources are fetched side by side).
    """
    selected = tuple(chosen) or settings.sources
    if not selected:
        raise SourceError("no sources to fetch", "add sources: to the config, or pass --source")
    policy = FetchPolicy(deadline=settings.fetch_deadline)
    with state_unless_given(state, settings.state_dir, settings.secret, settings.state_url) as opened:
        db = opened.db
        cache = HttpCache(db)
        listing = sources_stage.collect(
            selected,
            lambda location: fetch_source(location, policy, cache),
            settings.include_replacements,
            ParseLimits(seconds=settings.fetch_deadline),  # the source's deadline bounds its parse too
            on_report=on_report,
        )
        listing = mark_stale(listing, _repeated_days(listing, SourceHistory(db), edition), edition)
        SourceLog(db).record(listing.reports, edition)  # each source's health, for `digest status`
        return _count_new(listing, PaperArchive(db).remember(listing.papers))


def _repeated_days(listing: Listing, history: SourceHistory, edition: dt.date) -> dict[str, dt.date]:
    """Each source's earlier day whose listing this one repeats; the history remembers today's."""
    repeated = {}
    for report in listing.reports:
        ids = [p.id for p in papers_of(listing, report)]
        earlier = history.repeats(report.location, ids, edition) if ids else None
        if earlier:
            repeated[report.location] = earlier
    return repeated


def _count_new(listing: Listing, new_ids: frozenset[str]) -> Listing:
    def new_in(report: SourceReport) -> int:
        return sum(1 for p in listing.papers if p.id in new_ids and report.name in p.sources)

    return replace(listing, reports=tuple(replace(r, new=new_in(r)) for r in listing.reports))


@dataclass(frozen=True)
class RunOptions:
    """How one run is asked for: by hand (`digest run --once`) or by the scheduler."""

    sources: Sequence[SourceConfig] = ()  # instead of the configured ones
    edition: dt.date | None = None  # default: today in the site's time zone
    dry_run: bool = False
    resend_uncertain: bool = False
    only: Callable[[Profile], bool] | None = None  # the profiles of one scheduled send time
    listing: Listing | None = None  # already fetched for this edition by an earlier slot
    since: dt.datetime | None = None  # weekly digests: also every paper archived since then
    should_stop: Callable[[], bool] = lambda: False  # a clean stop (SIGTERM) between messages
    on_source: Callable[[SourceReport], None] | None = None  # each source, as soon as it is fetched
    profiles: Sequence[Profile] | None = None  # already read for this edition by an earlier pass


def run_once(
    settings: Settings,
    options: RunOptions = RunOptions(),
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    pacer: Pacer | None = None,
    state: State | None = None,
) -> RunReport:
    """One edition for every profile: matched, rendered and delivered at most once per address.

    Read (listings, profiles), then match, then render, deliver and record: nothing is written
    to the ledger or the outbox before every input has been read. `state`: the caller's (a
    scheduled edition's), left open; by default the run opens its own, one connection in all.
    """
    with state_unless_given(state, settings.state_dir, settings.secret, settings.state_url) as opened:
        return _run_once(settings, options, opened, now or dt.datetime.now(dt.UTC), progress, pacer)


def run_due(
    settings: Settings,
    options: RunOptions = RunOptions(),
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    pacer: Pacer | None = None,
) -> RunReport:
    """`digest run`: edition D for every profile due on D (see pipeline.due).

    Daily profiles get the edition's listing; weekly ones due on D get it plus every paper
    archived in the past week, as the scheduler's weekly slots do. One fetch serves both.
    """
    now = now or dt.datetime.now(dt.UTC)
    edition = options.edition or edition_for(settings, now)
    daily = replace(options, edition=edition, only=lambda p: not is_weekly(p))
    with state_unless_given(None, settings.state_dir, settings.secret, settings.state_url) as opened:
        report = _run_once(settings, daily, opened, now, progress, pacer)
        if not any(is_weekly(p) and due_on(p, edition) for p in report.profiles):
            return report
        weekly = replace(
            options, edition=edition, only=lambda p: is_weekly(p) and due_on(p, edition),
            listing=report.listing, profiles=report.profiles, since=weekly_since(now),
        )  # fmt: skip
        weekly_report = _run_once(settings, weekly, opened, now, progress, pacer)
    report.tally = _added(report.tally, weekly_report.tally)
    report.duplicates += weekly_report.duplicates
    report.unsubscribed += weekly_report.unsubscribed
    report.like_warnings += weekly_report.like_warnings
    return report


def _added(first: Tally, second: Tally) -> Tally:
    """Two passes of one edition as one tally: counts added, lists joined, the first error kept."""
    total = Tally()
    for name in (f.name for f in fields(Tally)):
        a, b = getattr(first, name), getattr(second, name)
        setattr(total, name, a + b if isinstance(a, int | list) and not isinstance(a, bool) else a or b)
    return total


def _run_once(
    settings: Settings, options: RunOptions, state: State, now: dt.datetime,
    progress: Progress | None, pacer: Pacer | None,
) -> RunReport:  # fmt: skip
    report = RunReport(options.edition or edition_for(settings, now), dry_run=options.dry_run)
    listing, profiles = _read(settings, options, report, state)
    if len(listing.failed_sources) == len(listing.reports):
        return report  # every source failed: mailing empty digests would only be noise
    look_up = arxiv_look_up(settings, state)
    learned = with_likes(
        state.db, [compile_profile(p) for p in profiles], listing, settings.state_dir, look_up
    )
    compiled, report.like_warnings = learned.profiles, learned.warnings
    recipients, addresses, report.duplicates = _recipients(compiled)
    index = PaperIndex(listing.papers, compiled)
    signer = DkimSigner(settings.dkim) if settings.dkim else None  # a digest is signed as it is composed
    composer = Composer(settings, now, None if signer is None else signer.signed)
    composition = Composition(recipients, addresses, index, listing, report.edition, composer)
    # One sender per state dir and edition on SQLite; on PostgreSQL senders on several machines
    # share an edition by claiming its recipients (the ledger keeps them apart), so none waits.
    sending = edition_lock(settings.state_dir, report.edition) if _sole_sender(state) else nullcontext()
    with sending:
        report.tally = _deliver(settings, state, composition, options, report, pacer, progress)
    return report


def _sole_sender(state: State) -> bool:
    """Whether this run is the only sender of its edition there can be: on SQLite, whose state
    only one machine reaches, the edition lock makes sure of it."""
    return state.db.dialect == "sqlite"


def _read(
    settings: Settings, options: RunOptions, report: RunReport, state: State
) -> tuple[Listing, list[Profile]]:
    """The edition's listing and the profiles it is for; what went wrong goes in the report."""

    def fetched() -> Listing:
        return options.listing or fetch(
            settings, options.sources, edition=report.edition, state=state, on_report=options.on_source
        )

    if options.profiles is not None:  # another pass of an edition: its profiles are read already
        listing, profiles = fetched(), list(options.profiles)
    else:  # profiles are read on another core while the listings are fetched and parsed
        with in_background(load_profiles, settings.profiles_dir, settings.state_dir / CACHE_FILE) as loaded:
            listing = fetched()
            profiles, report.profile_errors = loaded()
    report.sources, report.listing, report.profiles = listing.reports, listing, tuple(profiles)
    if options.since is not None:
        listing = _with_archived(state.db, listing, options.since)
    return listing, [p for p in profiles if options.only is None or options.only(p)]


def _deliver(
    settings: Settings, state: State, composition: Composition, options: RunOptions,
    report: RunReport, pacer: Pacer | None, progress: Progress | None,
) -> Tally:  # fmt: skip
    """Render, hand over and record every recipient's message, but for those who left."""
    db = state.db
    ledger, archive = Ledger(db), EditionArchive(db)
    # An unsubscribe wins over any profile file, and over a database that lost it.
    left = Subscribers(db).unsubscribed() | departed(settings.state_dir)
    staying = [address not in left for address in composition.addresses]
    report.unsubscribed = staying.count(False)
    composition.profiles = list(itertools.compress(composition.profiles, staying))
    composition.addresses = list(itertools.compress(composition.addresses, staying))
    edition, connections = report.edition.isoformat(), settings.delivery.connections
    # The digests come signed by their composer (see _run_once): the transport signs nothing.
    transport = open_transport(settings.transport, settings.smtp, state.outbox, edition, None, connections)
    remembered = None if options.dry_run else archive  # a dry run records nothing
    # A message to the outbox is written ahead by the worker that composed it.
    stage = transport.stage if isinstance(transport, Outbox) else None
    compose = composer_for(composition, ledger, remembered, parallel=not options.dry_run, stage=stage)
    dispatcher = Dispatcher(
        ledger, transport, settings.delivery, report.edition,
        dry_run=options.dry_run, resend_uncertain=options.resend_uncertain, pacer=pacer,
        should_stop=options.should_stop, sole_sender=_sole_sender(state),
    )  # fmt: skip
    try:
        return dispatcher.run(composition.addresses, compose, progress)
    finally:
        transport.close()


def _with_archived(db: Database, listing: Listing, since: dt.datetime) -> Listing:
    """The listing plus every paper archived since `since` that it lacks."""
    archived = PaperArchive(db).seen_since(since)
    fresh = {p.id for p in listing.papers}
    return replace(listing, papers=listing.papers + tuple(p for p in archived if p.id not in fresh))


def _recipients(profiles: list[CompiledProfile]) -> tuple[list[CompiledProfile], list[str], list[str]]:
    """The profile and the address of each recipient, every address once (the first profile
    listing an address wins), and the duplicates."""
    seen: dict[str, CompiledProfile] = {}
    duplicates = []
    for profile in profiles:
        for address in profile.profile.emails:
            if address in seen:  # addresses are normalized (lower-case) when profiles load
                first = seen[address].profile.path.name
                duplicates.append(f"{address} (in {first} and {profile.profile.path.name})")
            else:
                seen[address] = profile
    return list(seen.values()), list(seen), duplicates
