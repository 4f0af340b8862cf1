"""The data that flows through the pipeline: frozen dataclasses, standard library only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Paper:
    """One paper, normalized from whichever sources listed it."""

    id: str  # canonical: an arXiv id without version, or a stable id from guid/link
    title: str
    abstract: str
    authors: tuple[str, ...]
    url: str
    pdf_url: str | None = None
    categories: tuple[str, ...] = ()  # primary first
    published: dt.datetime | None = None
    announce_type: str | None = None  # arXiv: new, cross, replace, replace-cross
    upvotes: int | None = None  # Hugging Face community signal
    hf_url: str | None = None
    code_url: str | None = None
    sources: tuple[str, ...] = ()


def paper_to_dict(paper: Paper) -> dict[str, Any]:
    """A paper as JSON-ready data: lists for tuples, ISO 8601 for dates."""
    data = asdict(paper)
    for key, value in data.items():
        if isinstance(value, tuple):
            data[key] = list(value)
    data["published"] = paper.published.isoformat() if paper.published else None
    return data


def paper_from_dict(data: dict[str, Any]) -> Paper:
    """The inverse of paper_to_dict; unknown keys (from a newer version) are ignored."""
    known = {f.name for f in fields(Paper)}
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
    }
    if values.get("published"):
        values["published"] = dt.datetime.fromisoformat(values["published"])
    return Paper(**values)


@dataclass(frozen=True)
class CachedFeed:
    """A listing body as last fetched, with the validators for a conditional GET."""

    body: bytes
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class SourceReport:
    """What happened to one source during a fetch."""

    name: str
    location: str
    papers: int = 0  # kept, after merging is left to the listing
    items: int = 0  # entries the document held
    skipped: int = 0  # entries not kept: replacements, or nothing a reader could use
    new: int = 0  # papers not seen in an earlier fetch
    unchanged: bool = False  # the server answered 304: the cached copy was used
    warnings: tuple[str, ...] = ()
    error: str | None = None
    stale: bool = False  # an arXiv listing that repeats the previous day's: not updated yet

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class Listing:
    """Every paper of one fetch, merged across sources, with a report per source."""

    papers: tuple[Paper, ...]
    reports: tuple[SourceReport, ...]

    @property
    def failed_sources(self) -> tuple[SourceReport, ...]:
        return tuple(r for r in self.reports if r.failed)

    @property
    def troubled_sources(self) -> tuple[SourceReport, ...]:
        """Failed or stale: the digest tells its readers that papers may be missing."""
        return tuple(r for r in self.reports if r.failed or r.stale)


@dataclass(frozen=True, slots=True)  # slots: an edition can hold 100,000 of them
class Profile:
    """One subscriber's (or group's) keyword profile, validated."""

    path: Path
    emails: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()  # every one of these must match too
    categories: tuple[str, ...] = ()
    name: str | None = None
    max_papers: int = 20
    timezone: str | None = None
    send_at: str | None = None
    note: str | None = None
    frequency: str | None = None  # daily (the default) or weekly
    weekday: str | None = None  # weekly digests: which day, monday by default

    @property
    def slug(self) -> str:
        """The profile's name on disk, used for preview file names."""
        return self.path.stem


@dataclass(frozen=True)
class Span:
    """Where a keyword matched: character offsets into a paper field."""

    start: int
    end: int


@dataclass(frozen=True)
class Reason:
    """Why a paper was selected: which term matched, in which field, and where."""

    kind: str  # "keyword" or "author"
    term: str
    field: str  # "title", "abstract" or "authors"
    spans: tuple[Span, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind} '{self.term}' in {self.field}"


@dataclass(frozen=True)
class Match:
    """A selected paper with its score and the reasons it was selected."""

    paper: Paper
    score: float
    reasons: tuple[Reason, ...]

    def explanations(self) -> list[str]:
        """The reasons in words, one per term: "'pretraining' in title and abstract"."""
        fields: dict[tuple[str, str], list[str]] = {}
        for reason in self.reasons:
            fields.setdefault((reason.kind, reason.term), []).append(reason.field)
        return [
            f"author {term}" if kind == "author" else f"'{term}' in {' and '.join(where)}"
            for (kind, term), where in fields.items()
        ]


@dataclass(frozen=True)
class Digest:
    """What one subscriber receives for one edition."""

    edition: dt.date
    profile: Profile
    recipient: str
    matches: tuple[Match, ...]  # shown, in rank order
    more: int = 0  # matched but cut by max_papers
    failed_sources: tuple[SourceReport, ...] = field(default=())
    matched_ids: tuple[str, ...] = ()  # every paper matched, best first, for the web view

    @property
    def matched(self) -> int:
        return len(self.matches) + self.more


# How a source's document may be read: detected from its content, or named in the config.
SOURCE_KINDS = ("auto", "arxiv", "huggingface", "biorxiv", "scholar-alert", "feed")


@dataclass(frozen=True)
class SourceConfig:
    """A listing to fetch: a URL or a local file path."""

    name: str
    location: str
    kind: str = "auto"  # or a format name, when detection should be overruled


@dataclass(frozen=True)
class UnsetVariable:
    """An environment variable the config names but this environment does not set."""

    name: str
    key: str  # the dotted key path of the value that names it
    line: int | None


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # none | starttls | tls
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    ca_file: Path | None = None  # trust this CA (a private relay) instead of the system's
    # An environment variable host, username or password came from, unset at load: only a
    # connection needs them, so only a connection fails for it (commands that never send must not).
    unset_variable: str | None = None


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard to try: retries within a run, the send rate, and when to stop trying an address."""

    retries: int = 2  # more attempts within a run for a temporary failure
    retry_delay: float = 30.0  # seconds before the first retry; doubled for each one after
    rate_limit: float = 0.0  # messages per second at most; 0 = as fast as the server takes them
    suppress_after: int = 3  # consecutive editions with a permanent failure before an address is suppressed
    uncertain_limit: int = 3  # unknown outcomes in a row that stop a run: the relay is not answering


# kw_only: every option has its default here (config/options.py reads them: the one copy),
# and the fields keep their order.
@dataclass(frozen=True, kw_only=True)
class Settings:
    """digest.yaml, validated, with paths resolved against the config file."""

    path: Path
    title: str = "Paper Digest"
    base_url: str = "http://localhost:8080"
    sender: str
    secret: str | None = None  # None: generated once into the state dir
    timezone: str = "UTC"
    sources: tuple[SourceConfig, ...] = ()
    transport: str = "outbox"  # outbox | smtp
    smtp: SmtpConfig | None = None
    state_dir: Path = Path("var")  # relative paths are relative to the config file
    profiles_dir: Path = Path("profiles")
    templates_dir: Path | None = None  # None: the templates shipped with digest
    intro: str | None = None
    footer: str | None = None
    include_replacements: bool = False  # arXiv replace/replace-cross announcements
    fetch_deadline: float = 60.0  # seconds for one source, retries included
    delivery: DeliveryPolicy = field(default_factory=lambda: DeliveryPolicy())
    send_at: str = "07:00"  # local time of the site's default edition
    weekdays_only: bool | None = None  # None: only when every source is an arXiv listing
    catch_up_days: int = 2  # after downtime, editions missed in this many days are still sent
    max_signups_per_hour: int = 100  # confirmation emails for the whole site: the form cannot flood strangers
    # Each ${VAR} left unset because only sending would use it.
    unset_variables: tuple[UnsetVariable, ...] = ()


@dataclass(frozen=True)
class Outgoing:
    """A message ready for a transport: its id, the envelope sender, and its bytes on the wire."""

    message_id: str
    sender: str
    data: bytes  # CRLF line ends, as SMTP carries it and an .eml file keeps it


@dataclass(frozen=True)
class Links:
    """The per-recipient links a digest carries."""

    unsubscribe: str
    manage: str
    unsubscribe_mailto: str
    web: str  # this edition in a browser, with every matched paper


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str
    digest: Digest  # what was rendered: past the budget, fewer papers than were matched
    # Pieces of html and of text, in order, that recur in other emails of the edition (paper
    # blocks): their MIME encoding can be made once.
    recurring_html: tuple[str, ...] = ()
    recurring_text: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    address: str
    message: Outgoing
    paper_ids: tuple[str, ...]

    @property
    def message_id(self) -> str:
        return self.message.message_id


@dataclass(frozen=True)
class Uncomposed:
    """A recipient whose message could not be built (say, an operator's template that fails
    for their profile): reported, and tried again by the next run, while the others go on."""

    address: str
    reason: str


# (recipient number, address) pairs → their jobs in the same order, None where nothing matched.
Compose = Callable[[list[tuple[int, str]]], Iterator[Job | Uncomposed | None]]


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
