"""The option table of digest.yaml: every key, what it must be, its default and its meaning.

Reading (settings.py), the unknown-key check, the defaults and the README check
(tests/test_docs.py) all come from this one table.

Defaults are not written here: the dataclasses of models.py hold them, and an option names the
field whose default it takes. Code and tests build Settings, SmtpConfig and DeliveryPolicy
directly, so the dataclass defaults have to exist anyway; reading them here is the one way a
config file that leaves a key out cannot end up with a different value than they have.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..models import BouncePolicy, DeliveryPolicy, Settings, SmtpConfig, SourceConfig

# What a value must be; settings.py reads the plain kinds, and checks the rest by hand.
PLAIN_KINDS = ("text", "integer", "number", "flag", "timezone")


@dataclass(frozen=True)
class Option:
    key: str  # as the README writes it: "delivery.smtp.port"; "sources[].name" for list items
    kind: str  # one of PLAIN_KINDS, or a word for a value checked by its own reader
    doc: str
    field: tuple[type, str] | None = None  # the models field whose default this option takes
    low: float = 0  # bounds of an integer or a number
    high: float = 0

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def parent(self) -> tuple[str, ...]:
        return self.path[:-1]

    @property
    def default(self) -> Any:
        return model_default(*self.field) if self.field else None


def model_default(model: type, name: str) -> Any:
    """The default a dataclass gives its field `name`."""
    for field in dataclasses.fields(model):
        if field.name == name:
            if field.default is not dataclasses.MISSING:
                return field.default
            if field.default_factory is not dataclasses.MISSING:
                return field.default_factory()
            return None
    raise KeyError(f"{model.__name__} has no field {name}")


# In the order the unknown-key hints list them ("allowed: site, sources, ...").
OPTIONS = (
    Option("site.title", "text", "shown in the subject, masthead and List-Id", (Settings, "title")),
    Option("site.base_url", "url", "where the web endpoints live", (Settings, "base_url")),
    Option("site.sender", "mailbox", "the From: mailbox (required)"),
    Option("site.secret", "text", "signs links; empty: generated into the state dir", (Settings, "secret")),
    Option("site.timezone", "timezone", "decides which date today's edition is", (Settings, "timezone")),
    Option("site.intro", "text", "Markdown above every digest", (Settings, "intro")),
    Option("site.footer", "text", "Markdown below every digest", (Settings, "footer")),
    Option("sources[].name", "name", "a listing's name (required, unique)"),
    Option("sources[].url", "location", "an http(s) URL or a file path (required)"),
    Option("sources[].kind", "source kind", "the format, overruling detection", (SourceConfig, "kind")),
    Option("fetch.include_replacements", "flag", "also take arXiv replacements",
           (Settings, "include_replacements")),
    Option("fetch.deadline", "integer", "seconds one source may take in all", (Settings, "fetch_deadline"),
           5, 3600),
    Option("fetch.arxiv_api", "text", "where liked ids the archive lacks are looked up; off: never",
           (Settings, "arxiv_api")),
    Option("delivery.transport", "transport", "outbox or smtp", (Settings, "transport")),
    Option("delivery.smtp.host", "text", "the SMTP relay (required with smtp)"),
    Option("delivery.smtp.port", "integer", "its port; 465 for tls", (SmtpConfig, "port"), 1, 65535),
    Option("delivery.smtp.security", "security", "none, starttls or tls", (SmtpConfig, "security")),
    Option("delivery.smtp.username", "text", "AUTH user", (SmtpConfig, "username")),
    Option("delivery.smtp.password", "text", "AUTH password", (SmtpConfig, "password")),
    Option("delivery.smtp.timeout", "number", "seconds per command", (SmtpConfig, "timeout"), 1, 600),
    Option("delivery.smtp.ca_file", "file", "the CA of a private relay", (SmtpConfig, "ca_file")),
    Option("delivery.retries", "integer", "attempts after a temporary failure", (DeliveryPolicy, "retries"),
           0, 10),
    Option("delivery.retry_delay", "number", "seconds before a first retry", (DeliveryPolicy, "retry_delay"),
           0, 3600),
    Option("delivery.rate_limit", "number", "messages per second at most; 0: no limit",
           (DeliveryPolicy, "rate_limit"), 0, 10_000),
    Option("delivery.suppress_after", "integer", "hard-failed editions before suppression",
           (DeliveryPolicy, "suppress_after"), 1, 100),
    Option("delivery.uncertain_limit", "integer", "unanswered hand-overs that stop a run",
           (DeliveryPolicy, "uncertain_limit"), 1, 1000),
    Option("delivery.claim_lease", "number", "seconds a sender's claim on recipients lasts",
           (DeliveryPolicy, "claim_lease"), 5, 86_400),
    Option("delivery.return_path", "mailbox", "bounces go here, as bounces+<token>@… (VERP)",
           (Settings, "return_path")),
    Option("delivery.dkim.selector", "text", "the DKIM key's selector (required)"),
    Option("delivery.dkim.domain", "text", "the signing domain: the From's or its parent (required)"),
    Option("delivery.dkim.key_file", "file", "the PEM private key, RSA of 2048 bits or more (required)"),
    Option("inbound.lmtp", "host:port", "digest serve takes bounces and complaints here over LMTP",
           (Settings, "lmtp")),
    Option("inbound.suppress_score", "number", "bounce score that suppresses an address",
           (BouncePolicy, "suppress_score"), 0.5, 100),
    Option("inbound.soft_bounce_weight", "number", "what a temporary (4.x.x) bounce adds; a hard one adds 1",
           (BouncePolicy, "soft_weight"), 0, 1),
    Option("inbound.decay_days", "integer", "days without a bounce after which the score starts over",
           (BouncePolicy, "decay_days"), 1, 365),
    Option("subscriptions.sender", "mailbox", "the From of confirmation mail; default: site.sender",
           (Settings, "notice_sender")),
    Option("delivery.connections", "integer", "SMTP connections sending at once",
           (DeliveryPolicy, "connections"), 1, 64),
    Option("subscriptions.max_per_hour", "integer", "confirmation emails per hour at most",
           (Settings, "max_signups_per_hour"), 1, 100_000),
    Option("schedule.send_at", "time", "local HH:MM of the default edition", (Settings, "send_at")),
    Option("schedule.weekdays_only", "true, false or auto", "skip weekend editions",
           (Settings, "weekdays_only")),
    Option("schedule.catch_up_days", "integer", "days of missed editions still sent",
           (Settings, "catch_up_days"), 0, 30),
    Option("schedule.lease_seconds", "integer", "a standby takes over this long after the leader died",
           (Settings, "lease_seconds"), 3, 600),
    Option("state_dir", "path", "ledger, outbox, secret, caches", (Settings, "state_dir")),
    Option("state_url", "url", "a PostgreSQL state database instead of the SQLite file in state_dir",
           (Settings, "state_url")),
    Option("profiles_dir", "path", "one YAML profile per subscriber or group", (Settings, "profiles_dir")),
    Option("templates", "path", "a folder of your own templates", (Settings, "templates_dir")),
)  # fmt: skip

BY_KEY = {option.key: option for option in OPTIONS}


def keys_under(section: tuple[str, ...]) -> tuple[str, ...]:
    """The keys a mapping at `section` may hold, as the table orders them: ("delivery",) →
    transport, smtp, retries, ...; () → site, sources, ...; ("sources[]",) → name, url, kind."""
    keys = (o.path[len(section)] for o in OPTIONS if o.path[: len(section)] == section and o.path != section)
    return tuple(dict.fromkeys(key.removesuffix("[]") for key in keys))
