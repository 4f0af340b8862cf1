"""digest.yaml → Settings: every problem collected with its file:line:key, then reported at once."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError, Problem
from ..models import SOURCE_KINDS, DeliveryPolicy, Settings, SmtpConfig, SourceConfig
from . import yamlfile
from .addresses import normalize_mailbox
from .yamlfile import Document, KeyPath

DEFAULT_CONFIG = Path("config/digest.yaml")

TOP_KEYS = (
    "site", "sources", "fetch", "delivery", "subscriptions", "schedule",
    "state_dir", "profiles_dir", "templates",
)  # fmt: skip
SCHEDULE_KEYS = ("send_at", "weekdays_only", "catch_up_days")
SUBSCRIPTION_KEYS = ("max_per_hour",)
FETCH_KEYS = ("include_replacements", "deadline")
SITE_KEYS = ("title", "base_url", "sender", "secret", "timezone", "intro", "footer")
SOURCE_KEYS = ("name", "url", "kind")
DELIVERY_KEYS = (
    "transport", "smtp", "retries", "retry_delay", "rate_limit", "suppress_after", "uncertain_limit",
)  # fmt: skip
SMTP_KEYS = ("host", "port", "security", "username", "password", "timeout", "ca_file")
TRANSPORTS = ("outbox", "smtp")
SECURITY = ("none", "starttls", "tls")

# ${NAME} must be set; ${NAME:-fallback} falls back when NAME is unset or empty, as in a shell.
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def load_settings(path: Path = DEFAULT_CONFIG) -> Settings:
    """Read and validate a config file; ConfigError lists everything wrong with it."""
    settings, problems = read_settings(path)
    if problems:
        raise ConfigError(problems)
    return settings


def read_settings(path: Path) -> tuple[Settings, list[Problem]]:
    """Settings as far as they could be made sense of, and every problem found on the way.

    Only an unreadable file or invalid YAML raises: then nothing can be made of it at all.
    """
    if not path.exists():
        raise _missing(path)
    doc = yamlfile.load(path)
    top = doc.mapping(doc.data, ())
    top = _interpolate(doc, top, ())
    doc.check_keys(top, TOP_KEYS, ())
    base = path.parent
    site = doc.mapping(top.get("site"), ("site",))
    doc.check_keys(site, SITE_KEYS, ("site",))
    delivery = doc.mapping(top.get("delivery"), ("delivery",))
    doc.check_keys(delivery, DELIVERY_KEYS, ("delivery",))
    transport = doc.text(delivery, "transport", ("delivery",)) or "outbox"
    if transport not in TRANSPORTS:
        doc.problem(("delivery", "transport"), f"unknown transport '{transport}'", "use outbox or smtp")
    templates = doc.text(top, "templates", ())
    fetch = doc.mapping(top.get("fetch"), ("fetch",))
    doc.check_keys(fetch, FETCH_KEYS, ("fetch",))
    schedule = doc.mapping(top.get("schedule"), ("schedule",))
    doc.check_keys(schedule, SCHEDULE_KEYS, ("schedule",))
    signups = doc.mapping(top.get("subscriptions"), ("subscriptions",))
    doc.check_keys(signups, SUBSCRIPTION_KEYS, ("subscriptions",))
    settings = Settings(
        path=path,
        title=doc.text(site, "title", ("site",)) or "Paper Digest",
        base_url=_base_url(doc, site),
        sender=_sender(doc, site),
        secret=doc.text(site, "secret", ("site",)),
        timezone=doc.timezone(site, "timezone", ("site",)) or "UTC",
        intro=doc.text(site, "intro", ("site",)),
        footer=doc.text(site, "footer", ("site",)),
        sources=_sources(doc, top.get("sources"), base),
        transport=transport,
        smtp=_smtp(doc, delivery, base, required=transport == "smtp"),
        delivery=_delivery_policy(doc, delivery),
        send_at=_send_at(doc, schedule),
        weekdays_only=_weekdays_only(doc, schedule),
        catch_up_days=doc.integer(schedule, "catch_up_days", ("schedule",), 2, 0, 30),
        max_signups_per_hour=doc.integer(signups, "max_per_hour", ("subscriptions",), 100, 1, 100_000),
        state_dir=_relative_to(base, doc.text(top, "state_dir", ()) or "var", doc, ("state_dir",)),
        profiles_dir=_relative_to(
            base, doc.text(top, "profiles_dir", ()) or "profiles", doc, ("profiles_dir",)
        ),
        templates_dir=_relative_to(base, templates, doc, ("templates",)) if templates else None,
        include_replacements=doc.flag(fetch, "include_replacements", ("fetch",)),
        fetch_deadline=float(doc.integer(fetch, "deadline", ("fetch",), 60, 5, 3600)),
    )
    return settings, doc.problems


def resolve_location(location: str, base: Path) -> str:
    """A URL as it is; a file path resolved against `base` (the config file's folder).

    ValueError when the path cannot be made: an unknown ~user, a loop of symbolic links."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", location, re.IGNORECASE):
        return location
    try:
        return str((base / Path(location).expanduser()).resolve())
    except (RuntimeError, OSError) as exc:
        raise ValueError(f"cannot resolve '{location}': {exc}") from exc


def _send_at(doc: Document, schedule: dict[str, Any]) -> str:
    value = doc.text(schedule, "send_at", ("schedule",)) or "07:00"
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        doc.problem(
            ("schedule", "send_at"), f"expected a time as HH:MM in quotes, got '{value}'", 'e.g. "07:00"'
        )
        return "07:00"
    return value


def _weekdays_only(doc: Document, schedule: dict[str, Any]) -> bool | None:
    value = schedule.get("weekdays_only", "auto")
    if value == "auto":
        return None
    if not isinstance(value, bool):
        doc.problem(("schedule", "weekdays_only"), f"expected true, false or auto, got {value!r}")
        return None
    return value


def _relative_to(base: Path, location: str, doc: Document, key: KeyPath) -> Path:
    """`location` resolved against `base`, kept short: config/../var → var."""
    try:
        return Path(os.path.normpath(base / Path(location).expanduser()))
    except RuntimeError as exc:  # ~someone who has no home here
        doc.problem(key, f"cannot expand '{location}': {exc}")
        return base / location


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system: no such file either
        return False


def _missing(path: Path) -> ConfigError:
    problem = Problem(
        path,
        None,
        "",
        "config file not found",
        "pass --config FILE, or run from the project folder",
    )
    return ConfigError([problem])


def _interpolate(doc: Document, value: Any, path: KeyPath) -> Any:
    """Replace ${VAR} in every string with the environment's value; report unset ones."""
    if isinstance(value, dict):
        return {k: _interpolate(doc, v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(doc, v, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found:
            return found
        if fallback is not None:
            return fallback
        hint = f"export {name}=… before running, or write ${{{name}:-default}} in the config"
        doc.problem(path, f"environment variable {name} is not set", hint)
        return ""

    return _VARIABLE.sub(substitute, value)


def _base_url(doc: Document, site: dict[str, Any]) -> str:
    url = doc.text(site, "base_url", ("site",)) or "http://localhost:8080"
    if not re.match(r"^https?://[^/\s]+", url):
        doc.problem(("site", "base_url"), f"expected an http(s) URL, got '{url}'")
    return url.rstrip("/")


def _sender(doc: Document, site: dict[str, Any]) -> str:
    sender = doc.text(site, "sender", ("site",), required=True) or ""
    try:
        return normalize_mailbox(sender) if sender else sender
    except ValueError as exc:
        doc.problem(("site", "sender"), f"invalid sender: {exc}")
        return sender


def _sources(doc: Document, value: Any, base: Path) -> tuple[SourceConfig, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        doc.problem(("sources",), "expected a list of sources, each with name and url")
        return ()
    sources, names = [], set()
    for index, item in enumerate(value):
        path = ("sources", index)
        entry = doc.mapping(item, path)
        doc.check_keys(entry, SOURCE_KEYS, path)
        name = doc.text(entry, "name", path, required=True)
        url = doc.text(entry, "url", path, required=True)
        kind = doc.text(entry, "kind", path) or "auto"
        if kind not in SOURCE_KINDS:
            doc.problem((*path, "kind"), f"unknown kind '{kind}'", "use one of " + ", ".join(SOURCE_KINDS))
        if name in names:
            doc.problem((*path, "name"), f"duplicate source name '{name}'")
        if name and url:
            names.add(name)
            try:
                sources.append(SourceConfig(name, resolve_location(url, base), kind))
            except ValueError as exc:
                doc.problem((*path, "url"), str(exc))
    return tuple(sources)


def _smtp(doc: Document, delivery: dict[str, Any], base: Path, required: bool) -> SmtpConfig | None:
    path: KeyPath = ("delivery", "smtp")
    if "smtp" not in delivery:
        if required:
            doc.problem(path, "missing required key", "transport smtp needs host, port and security")
        return None
    smtp = doc.mapping(delivery["smtp"], path)
    doc.check_keys(smtp, SMTP_KEYS, path)
    security = doc.text(smtp, "security", path) or "starttls"
    if security not in SECURITY:
        doc.problem((*path, "security"), f"unknown security '{security}'", "use none, starttls or tls")
    text = doc.text(smtp, "ca_file", path)
    ca_file = _relative_to(base, text, doc, (*path, "ca_file")) if text else None
    if ca_file and not _is_file(ca_file):
        doc.problem((*path, "ca_file"), f"no such file: {ca_file}")
    return SmtpConfig(
        host=doc.text(smtp, "host", path, required=True) or "",
        port=doc.integer(smtp, "port", path, 465 if security == "tls" else 587, 1, 65535),
        security=security,
        username=doc.text(smtp, "username", path),
        password=doc.text(smtp, "password", path),
        timeout=doc.number(smtp, "timeout", path, 30, 1, 600),
        ca_file=ca_file,
    )


def _delivery_policy(doc: Document, delivery: dict[str, Any]) -> DeliveryPolicy:
    path: KeyPath = ("delivery",)
    return DeliveryPolicy(
        retries=doc.integer(delivery, "retries", path, 2, 0, 10),
        retry_delay=doc.number(delivery, "retry_delay", path, 30, 0, 3600),
        rate_limit=doc.number(delivery, "rate_limit", path, 0, 0, 10_000),
        suppress_after=doc.integer(delivery, "suppress_after", path, 3, 1, 100),
        uncertain_limit=doc.integer(delivery, "uncertain_limit", path, 3, 1, 1000),
    )
