"""digest.yaml → Settings: every problem collected with its file:line:key, then reported at once."""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

from ..errors import ConfigError, Problem
from ..models import SOURCE_KINDS, DeliveryPolicy, Settings, SmtpConfig, SourceConfig, UnsetVariable
from . import hints, yamlfile
from .addresses import normalize_mailbox
from .mail_settings import bounce_policy, dkim, lmtp_address, mailbox_or_none
from .options import BY_KEY, keys_under
from .yamlfile import Document, KeyPath, format_key

DEFAULT_CONFIG = Path("config/digest.yaml")

TRANSPORTS = ("outbox", "smtp")
SECURITY = ("none", "starttls", "tls")

# ${NAME} must be set; ${NAME:-fallback} falls back when NAME is unset or empty, as in a shell.
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Values only sending uses: their variables may be unset until a connection needs them, so that
# commands that never send (suppressions, check, preview) run without the SMTP secrets.
_USED_ONLY_TO_SEND = ("delivery.smtp.host", "delivery.smtp.username", "delivery.smtp.password")


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
    unset: list[UnsetVariable] = []
    top = _interpolate(doc, doc.mapping(doc.data, ()), (), unset)
    deferred = _report_unset(doc, unset)
    doc.check_keys(top, keys_under(()), ())
    site, delivery = _section(doc, top, "site"), _section(doc, top, "delivery")
    transport = _transport(doc, delivery)
    templates = doc.text(top, "templates", ())
    fetch = _section(doc, top, "fetch")
    schedule, signups = _section(doc, top, "schedule"), _section(doc, top, "subscriptions")
    inbound = _section(doc, top, "inbound")
    base = path.parent
    settings = Settings(
        path=path,
        title=_read(doc, site, "site.title"),
        base_url=_base_url(doc, site),
        sender=_sender(doc, site),
        secret=_read(doc, site, "site.secret"),
        timezone=_read(doc, site, "site.timezone"),
        intro=_read(doc, site, "site.intro"),
        footer=_read(doc, site, "site.footer"),
        sources=_sources(doc, top.get("sources"), base),
        transport=transport,
        smtp=_smtp(doc, delivery, base, required=transport == "smtp", deferred=deferred),
        delivery=_delivery_policy(doc, delivery),
        send_at=_send_at(doc, schedule),
        weekdays_only=_weekdays_only(doc, schedule),
        catch_up_days=_read(doc, schedule, "schedule.catch_up_days"),
        lease_seconds=_read(doc, schedule, "schedule.lease_seconds"),
        max_signups_per_hour=_read(doc, signups, "subscriptions.max_per_hour"),
        state_dir=_path(doc, top, "state_dir", base),
        state_url=_state_url(doc, top),
        profiles_dir=_path(doc, top, "profiles_dir", base),
        templates_dir=_relative_to(base, templates, doc, ("templates",)) if templates else None,
        include_replacements=_read(doc, fetch, "fetch.include_replacements"),
        fetch_deadline=float(_read(doc, fetch, "fetch.deadline")),
        arxiv_api=_unless_off(_read(doc, fetch, "fetch.arxiv_api")),
        unset_variables=tuple(deferred),
        return_path=mailbox_or_none(doc, delivery, ("delivery", "return_path")),
        dkim=dkim(doc, delivery, base),
        lmtp=lmtp_address(doc, inbound),
        bounces=bounce_policy(doc, inbound),
        notice_sender=mailbox_or_none(doc, signups, ("subscriptions", "sender")),
    )
    return settings, doc.problems


def _report_unset(doc: Document, unset: list[UnsetVariable]) -> list[UnsetVariable]:
    """Report unset variables as problems, but those of values used only to send: returned."""
    deferred = []
    for variable in unset:
        if variable.key in _USED_ONLY_TO_SEND:
            deferred.append(variable)
            continue
        name = variable.name
        hint = f"export {name}=… before running, or write ${{{name}:-default}} in the config"
        doc.problems.append(
            Problem(doc.path, variable.line, variable.key, f"environment variable {name} is not set", hint)
        )
    return deferred


def _section(doc: Document, top: dict[str, Any], name: str) -> dict[str, Any]:
    """The mapping under a top-level key, its unknown keys reported."""
    section = doc.mapping(top.get(name), (name,))
    doc.check_keys(section, keys_under((name,)), (name,))
    return section


def _unless_off(value: str) -> str | None:
    return None if value.strip().lower() == "off" else value


def _read(doc: Document, mapping: dict[str, Any], key: str) -> Any:
    """The value of a plain option (see options.PLAIN_KINDS), or its default."""
    option = BY_KEY[key]
    name, parent, default = option.name, option.parent, option.default
    if option.kind == "integer":
        return doc.integer(mapping, name, parent, int(default), int(option.low), int(option.high))
    if option.kind == "number":
        return doc.number(mapping, name, parent, default, option.low, option.high)
    if option.kind == "flag":
        return doc.flag(mapping, name, parent, default)
    if option.kind == "timezone":
        return doc.timezone(mapping, name, parent) or default
    return doc.text(mapping, name, parent) or default


def _transport(doc: Document, delivery: dict[str, Any]) -> str:
    transport = _read(doc, delivery, "delivery.transport")
    if transport not in TRANSPORTS:
        doc.problem(("delivery", "transport"), f"unknown transport '{transport}'", "use outbox or smtp")
    return str(transport)


def _path(doc: Document, top: dict[str, Any], key: str, base: Path) -> Path:
    location = doc.text(top, key, ()) or str(BY_KEY[key].default)
    return _relative_to(base, location, doc, (key,))


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
    default = str(BY_KEY["schedule.send_at"].default)
    value = doc.text(schedule, "send_at", ("schedule",)) or default
    meant = hints.clock_time(schedule.get("send_at"))
    if isinstance(schedule.get("send_at"), int):  # YAML 1.1 reads an unquoted 7:30 as 450 minutes
        hint = f'quote it: "{meant or default}"'
        doc.problem(("schedule", "send_at"), f"YAML read this time as the number {value}", hint)
        return default
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        hint = f'write it as "{meant}"' if meant else 'e.g. "07:00"'
        doc.problem(("schedule", "send_at"), f"expected a time as HH:MM in quotes, got '{value}'", hint)
        return default
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


def _interpolate(doc: Document, value: Any, path: KeyPath, unset: list[UnsetVariable]) -> Any:
    """Replace ${VAR} in every string with the environment's value; collect unset ones in `unset`."""
    if isinstance(value, dict):
        return {k: _interpolate(doc, v, (*path, str(k)), unset) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(doc, v, (*path, i), unset) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found:
            return found
        if fallback is not None:
            return fallback
        unset.append(UnsetVariable(name, format_key(path), doc.line(path)))
        return ""

    return _VARIABLE.sub(substitute, value)


def _base_url(doc: Document, site: dict[str, Any]) -> str:
    url = doc.text(site, "base_url", ("site",)) or str(BY_KEY["site.base_url"].default)
    if not re.match(r"^https?://[^/\s]+", url):
        doc.problem(("site", "base_url"), f"expected an http(s) URL, got '{url}'")
    return url.rstrip("/")


def _state_url(doc: Document, top: dict[str, Any]) -> str | None:
    """`postgresql://user@host:port/database`, checked for its form; connecting is for the run."""
    url = doc.text(top, "state_url", ())
    if url is None:
        return None
    hint = "e.g. postgresql://digest@db.example.org/digest (the password from ${PGPASSWORD} or ~/.pgpass)"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (it raises on a port that is not a number in range)
    except ValueError as exc:
        doc.problem(("state_url",), f"invalid URL: {exc}", hint)  # not echoed: it may hold a password
        return None
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        doc.problem(("state_url",), "expected a postgresql:// URL naming a database", hint)
        return None
    return url


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
        doc.check_keys(entry, keys_under(("sources[]",)), path)
        name = doc.text(entry, "name", path, required=True)
        url = doc.text(entry, "url", path, required=True)
        kind = doc.text(entry, "kind", path) or str(BY_KEY["sources[].kind"].default)
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


def _smtp(
    doc: Document, delivery: dict[str, Any], base: Path, required: bool, deferred: list[UnsetVariable]
) -> SmtpConfig | None:
    path: KeyPath = ("delivery", "smtp")
    if "smtp" not in delivery:
        if required:
            doc.problem(path, "missing required key", "transport smtp needs host, port and security")
        return None
    smtp = doc.mapping(delivery["smtp"], path)
    doc.check_keys(smtp, keys_under(("delivery", "smtp")), path)
    security = _read(doc, smtp, "delivery.smtp.security")
    if security not in SECURITY:
        doc.problem((*path, "security"), f"unknown security '{security}'", "use none, starttls or tls")
    text = doc.text(smtp, "ca_file", path)
    ca_file = _relative_to(base, text, doc, (*path, "ca_file")) if text else None
    if ca_file and not _is_file(ca_file):
        doc.problem((*path, "ca_file"), f"no such file: {ca_file}")
    port = BY_KEY["delivery.smtp.port"]
    # Not a second default: the port TLS-from-the-start is given is a fact of that protocol.
    default_port = 465 if security == "tls" else int(port.default)
    unset = {variable.key: variable.name for variable in deferred}
    return SmtpConfig(
        host=doc.text(smtp, "host", path, required="delivery.smtp.host" not in unset) or "",
        port=doc.integer(smtp, "port", path, default_port, int(port.low), int(port.high)),
        security=security,
        username=None if "delivery.smtp.username" in unset else _read(doc, smtp, "delivery.smtp.username"),
        password=None if "delivery.smtp.password" in unset else _read(doc, smtp, "delivery.smtp.password"),
        timeout=_read(doc, smtp, "delivery.smtp.timeout"),
        ca_file=ca_file,
        unset_variable=next(iter(unset.values()), None),
    )


def _delivery_policy(doc: Document, delivery: dict[str, Any]) -> DeliveryPolicy:
    return DeliveryPolicy(
        retries=_read(doc, delivery, "delivery.retries"),
        retry_delay=_read(doc, delivery, "delivery.retry_delay"),
        rate_limit=_read(doc, delivery, "delivery.rate_limit"),
        suppress_after=_read(doc, delivery, "delivery.suppress_after"),
        uncertain_limit=_read(doc, delivery, "delivery.uncertain_limit"),
        connections=_read(doc, delivery, "delivery.connections"),
        claim_lease=_read(doc, delivery, "delivery.claim_lease"),
    )
