"""The one place that knows the order of the stages: fetch → parse → match → render → deliver → record.

Everything is read (profiles, listings) before anything is written, so a broken input stops
nothing half-way: it is reported, and the rest of the edition goes on.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import quote, urlsplit

from . import sources as sources_stage
from .deliver import Transport, eml_bytes, open_transport, write_atomically
from .errors import ConfigError, DeliveryError, SourceError, TransportDown
from .mail import build_message
from .matching import CompiledProfile, PaperIndex, compile_profile, select, select_top
from .models import Digest, Listing, Match, Settings, SourceConfig, SourceReport
from .profiles import load_profile, load_profiles
from .render import Links, RenderedDigest, Renderer
from .sources.fetch import FetchPolicy
from .sources.fetch import fetch as fetch_source
from .store import HttpCache, Ledger, PaperArchive, connect
from .tokens import sign, site_secret

Progress = Callable[[int, int], None]


@dataclass
class RunReport:
    """What one run did, for the summary line and the exit status."""

    edition: dt.date
    sources: tuple[SourceReport, ...] = ()
    profile_errors: list[ConfigError] = field(default_factory=list)
    sent: int = 0
    skipped: int = 0  # already sent for this edition
    empty: int = 0  # nothing matched
    failed: list[str] = field(default_factory=list)
    deferred: int = 0  # not attempted: the transport was down; the next run sends them
    transport_error: str | None = None
    uncertain: list[str] = field(default_factory=list)  # a run died while handing these over
    dry_run: bool = False

    @property
    def failed_sources(self) -> list[SourceReport]:
        return [s for s in self.sources if s.failed]


def source_from_argument(argument: str) -> SourceConfig:
    """A --source value (URL or path, relative to the working directory) as a source."""
    if "://" in argument:
        parts = urlsplit(argument)
        return SourceConfig(f"{parts.netloc}{parts.path}".rstrip("/"), argument)
    path = Path(argument).expanduser()
    return SourceConfig(path.name, str(path.resolve()))


def edition_for(settings: Settings, now: dt.datetime) -> dt.date:
    """Today in the site's time zone: the default edition."""
    return now.astimezone(zoneinfo.ZoneInfo(settings.timezone)).date()


def fetch(settings: Settings, chosen: Sequence[SourceConfig] = ()) -> Listing:
    """Every paper of the chosen sources (default: the configured ones); failures are reported.

    Listings are fetched with conditional GET against the cache in the state database, and
    every paper is archived there, which is how a report knows which papers are new.
    """
    selected = tuple(chosen) or settings.sources
    if not selected:
        raise SourceError("no sources to fetch", "add sources: to the config, or pass --source")
    policy = FetchPolicy(deadline=settings.fetch_deadline)
    db = connect(database_path(settings))
    try:
        cache = HttpCache(db)
        listing = sources_stage.collect(
            selected, lambda location: fetch_source(location, policy, cache), settings.include_replacements
        )
        return _count_new(listing, PaperArchive(db).remember(listing.papers))
    finally:
        db.close()


def _count_new(listing: Listing, new_ids: frozenset[str]) -> Listing:
    def new_in(report: SourceReport) -> int:
        return sum(1 for p in listing.papers if p.id in new_ids and report.name in p.sources)

    return replace(listing, reports=tuple(replace(r, new=new_in(r)) for r in listing.reports))


def match(
    settings: Settings,
    profile_path: Path,
    chosen: Sequence[SourceConfig] = (),
    since: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[Match], Listing]:
    """The papers one profile selects, best first: from today's listings, or, with `since`,
    from every paper archived in that time (a backtest of a profile edit)."""
    compiled = compile_profile(load_profile(profile_path))
    if since is not None:
        listing = archived(settings, (now or dt.datetime.now(dt.UTC)) - since)
    else:
        listing = fetch(settings, chosen)
    return select(compiled, PaperIndex(listing.papers, [compiled])), listing


def archived(settings: Settings, since: dt.datetime) -> Listing:
    """Every paper fetched since a moment, from the archive in the state database."""
    db = connect(database_path(settings))
    try:
        papers = PaperArchive(db).seen_since(since)
    finally:
        db.close()
    if not papers:
        hint = "every `digest fetch`, `preview` and `run` archives the papers it reads"
        raise SourceError(f"no papers archived since {since:%Y-%m-%d %H:%M} UTC", hint)
    report = SourceReport("archive", str(database_path(settings)), papers=len(papers), items=len(papers))
    return Listing(tuple(papers), (report,))


@dataclass(frozen=True)
class Preview:
    digest: Digest
    files: tuple[Path, ...]
    listing: Listing


def preview(
    settings: Settings,
    profile_path: Path,
    out_dir: Path,
    chosen: Sequence[SourceConfig] = (),
    edition: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Preview:
    """Write <name>.html, .txt and .eml exactly as `run` would send them; send and record nothing."""
    now = now or dt.datetime.now(dt.UTC)
    edition = edition or edition_for(settings, now)
    profile = load_profile(profile_path)
    listing = fetch(settings, chosen)
    recipient = profile.emails[0]
    already_sent = _sent_papers(settings, recipient)
    compiled = compile_profile(profile)
    index = PaperIndex(listing.papers, [compiled])
    digest = _digest(compiled, recipient, edition, index, listing, already_sent)
    rendered, message = Composer(settings, now).compose(digest)
    files = (
        out_dir / f"{profile.slug}.html",
        out_dir / f"{profile.slug}.txt",
        out_dir / f"{profile.slug}.eml",
    )
    for path, data in zip(
        files, (rendered.html.encode(), rendered.text.encode(), eml_bytes(message)), strict=True
    ):
        write_atomically(path, data)
    return Preview(rendered.digest, files, listing)


def run_once(
    settings: Settings,
    chosen: Sequence[SourceConfig] = (),
    edition: dt.date | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """One edition for every profile: matched, rendered and delivered at most once per address."""
    now = now or dt.datetime.now(dt.UTC)
    report = RunReport(edition or edition_for(settings, now), dry_run=dry_run)
    profiles, report.profile_errors = load_profiles(settings.profiles_dir)
    listing = fetch(settings, chosen)
    report.sources = listing.reports
    if len(listing.failed_sources) == len(listing.reports):
        return report  # every source failed: mailing empty digests would only be noise
    compiled_profiles = [compile_profile(p) for p in profiles]
    papers = PaperIndex(listing.papers, compiled_profiles)
    composer = Composer(settings, now)
    db = connect(database_path(settings))
    ledger = Ledger(db)
    transport = open_transport(
        settings.transport, settings.smtp, settings.state_dir / "outbox", report.edition.isoformat()
    )
    recipients = [
        (compiled, address) for compiled in compiled_profiles for address in compiled.profile.emails
    ]
    try:
        for done, (compiled, address) in enumerate(recipients, 1):
            try:
                _deliver_one(composer, ledger, transport, report, compiled, address, papers, listing)
            except TransportDown as down:
                report.transport_error = str(down)
                report.deferred = len(recipients) - done + 1
                break
            if progress:
                progress(done, len(recipients))
    finally:
        transport.close()
        db.close()
    return report


def database_path(settings: Settings) -> Path:
    return settings.state_dir / "digest.sqlite3"


class Composer:
    """What every digest of one edition is composed with; shared by preview and run so both match."""

    def __init__(self, settings: Settings, now: dt.datetime) -> None:
        self.settings = settings
        self.now = now
        self.renderer = Renderer(settings.title, settings.templates_dir)
        self.secret = site_secret(settings.secret, settings.state_dir)

    def compose(self, digest: Digest) -> tuple[RenderedDigest, EmailMessage]:
        """The rendered digest and its MIME message."""
        settings = self.settings
        links = self.links(digest.recipient, digest.edition)
        rendered = self.renderer.render(digest, links, settings.intro, settings.footer)
        message = build_message(
            rendered.digest, rendered, links, sender=settings.sender, list_title=settings.title, now=self.now
        )
        return rendered, message

    def links(self, address: str, edition: dt.date) -> Links:
        unsubscribe = sign(self.secret, "unsubscribe", address)
        view = sign(self.secret, f"view:{edition.isoformat()}", address)
        base, mailbox = self.settings.base_url, parseaddr(self.settings.sender)[1]
        return Links(
            unsubscribe=f"{base}/unsubscribe/{unsubscribe}",
            manage=f"{base}/manage/{sign(self.secret, 'manage', address)}",
            unsubscribe_mailto=f"mailto:{mailbox}?subject={quote('unsubscribe ' + unsubscribe)}",
            web=f"{base}/digest/{edition.isoformat()}/{view}",
        )


def _deliver_one(
    composer: Composer,
    ledger: Ledger,
    transport: Transport,
    report: RunReport,
    compiled: CompiledProfile,
    address: str,
    papers: PaperIndex,
    listing: Listing,
) -> None:
    state = ledger.state(address, report.edition)
    if state == "sending":  # a run died mid-hand-over: it may have arrived, so it is not resent
        report.uncertain.append(address)
        return
    if state == "sent":  # failed ones are retried
        report.skipped += 1
        return
    digest = _digest(compiled, address, report.edition, papers, listing, ledger.sent_paper_ids(address))
    if not digest.matches:
        report.empty += 1
        return
    rendered, message = composer.compose(digest)
    if report.dry_run:
        report.sent += 1
        return
    mid = str(message["Message-ID"])
    ledger.mark_sending(address, report.edition, mid)
    try:
        transport.send(message, address)
    except TransportDown:
        ledger.forget(address, report.edition)  # never handed over: nothing is uncertain
        raise
    except DeliveryError as error:
        ledger.mark_failed(address, report.edition, mid, str(error))
        report.failed.append(f"{address}: {error}")
        return
    # Only what the email showed counts as sent; papers past the size budget come again.
    ledger.mark_sent(address, report.edition, mid, [m.paper.id for m in rendered.digest.matches])
    report.sent += 1


def _digest(
    compiled: CompiledProfile,
    recipient: str,
    edition: dt.date,
    papers: PaperIndex,
    listing: Listing,
    already_sent: frozenset[str],
) -> Digest:
    shown, total = select_top(compiled, papers, already_sent, compiled.profile.max_papers)
    return Digest(
        edition,
        compiled.profile,
        recipient,
        tuple(shown),
        total - len(shown),
        listing.failed_sources,
    )


def _sent_papers(settings: Settings, address: str) -> frozenset[str]:
    db = connect(database_path(settings))
    try:
        return Ledger(db).sent_paper_ids(address)
    finally:
        db.close()
