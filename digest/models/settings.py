"""The site's settings, as read from digest.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .papers import SourceConfig


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
    connections: int = 4  # SMTP connections sending at once: what a typical relay allows a client
    # Seconds a sender's claim on recipients lasts (several senders on one edition): a claim a dead
    # sender left is taken over, or its message marked uncertain, once this has passed.
    claim_lease: float = 300.0


@dataclass(frozen=True)
class DkimConfig:
    """Who signs: the selector and domain of the published key, and the private key file."""

    selector: str
    domain: str
    key_file: Path


@dataclass(frozen=True)
class BouncePolicy:
    """How bounces add up: a hard (5.x.x) one weighs 1, a soft one less; the score starts over
    after `decay_days` without a bounce, and an address whose score reaches `suppress_score` is
    suppressed."""

    suppress_score: float = 3.0
    soft_weight: float = 0.5
    decay_days: int = 30


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
    state_url: str | None = None  # postgresql://…: the state database on a server; None: SQLite in state_dir
    profiles_dir: Path = Path("profiles")
    templates_dir: Path | None = None  # None: the templates shipped with digest
    intro: str | None = None
    footer: str | None = None
    include_replacements: bool = False  # arXiv replace/replace-cross announcements
    fetch_deadline: float = 60.0  # seconds for one source, retries included
    # Liked ids the archive lacks are looked up here, once; None (`off` in the config): never.
    arxiv_api: str | None = "https://export.arxiv.org/api/query"
    delivery: DeliveryPolicy = field(default_factory=lambda: DeliveryPolicy())
    send_at: str = "07:00"  # local time of the site's default edition
    weekdays_only: bool | None = None  # None: only when every source is an arXiv listing
    catch_up_days: int = 2  # after downtime, editions missed in this many days are still sent
    # How long the scheduler's lease lasts unrenewed: a standby takes over this long (plus up to
    # a third of it) after the leader died. Renewed every third of it, so two renewals may fail.
    lease_seconds: int = 40
    max_signups_per_hour: int = 100  # confirmation emails for the whole site: the form cannot flood strangers
    return_path: str | None = None  # VERP: bounces+<token>@domain per recipient; None: the sender
    dkim: DkimConfig | None = None
    lmtp: str | None = None  # host:port where `digest serve` takes inbound mail over LMTP
    bounces: BouncePolicy = field(default_factory=lambda: BouncePolicy())
    notice_sender: str | None = None  # the From of confirmation mail; None: site.sender
    # Each ${VAR} left unset because only sending would use it.
    unset_variables: tuple[UnsetVariable, ...] = ()


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
