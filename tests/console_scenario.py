"""A site after one real edition through a scripted SMTP relay: the numbers the console must show.

alice and erin take their digest; bob and dave are refused (550) and, with suppress_after 1,
suppressed; carol's connection breaks after the message went out (uncertain); frank left before
the run; gina signed up and has not confirmed; one source is a file that is not there.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import yaml
from click.testing import Result

from .conftest import Site
from .smtp_relay import HANG_UP_MID_DATA, Relay, at_rcpt

EDITION = dt.date(2026, 11, 16)
SENT = ("alice@example.org", "erin@example.org")
REFUSED = ("bob@example.org", "dave@example.org")
UNCERTAIN = "carol@example.org"
LEFT, PENDING = "frank@example.org", "gina@example.org"
TEAM = ["bob@example.org", "carol@example.org", "dave@example.org", "erin@example.org", LEFT]
Cli = Callable[..., Result]


def prepare(site: Site, relay: Relay) -> None:
    """The site's mail through the relay, a broken source, and the profiles of the scenario."""
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    server = {"host": "127.0.0.1", "port": relay.port, "security": "none", "timeout": 10}
    config["delivery"] = {"transport": "smtp", "smtp": server, "retry_delay": 0, "suppress_after": 1}
    config["sources"].append({"name": "broken", "url": str(site.root / "missing-feed.xml")})
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    site.profile("team", f"email: [{', '.join(TEAM)}]\nkeywords: [language model]\nlike: [2406.10670]\n")
    for address in REFUSED:
        relay.always(address, at_rcpt("550 5.1.1 no such user"))
    relay.script(UNCERTAIN, HANG_UP_MID_DATA)


def run_edition(site: Site, cli: Cli, relay: Relay) -> Result:
    """The scenario up to and including one run of EDITION."""
    prepare(site, relay)
    assert cli("unsubscribe", LEFT, "--config", site.config).exit_code == 0
    assert cli("subscribe", PENDING, "--keyword", "retrieval", "--config", site.config).exit_code == 0
    return cli("run", "--once", "--config", site.config, "--date", EDITION.isoformat())


def database(site: Site) -> Path:
    return site.root / "config" / "var" / "digest.sqlite3"


def ledger_counts(site: Site, edition: dt.date = EDITION) -> Counter[str]:
    """The ledger's states for an edition, read with plain SQL: what every view must agree with."""
    with closing(sqlite3.connect(database(site))) as db:
        rows = db.execute("SELECT state FROM deliveries WHERE edition = ?", (edition.isoformat(),))
        return Counter(row[0] for row in rows)


def ledger_addresses(site: Site, edition: dt.date) -> set[str]:
    with closing(sqlite3.connect(database(site))) as db:
        rows = db.execute("SELECT address FROM deliveries WHERE edition = ?", (edition.isoformat(),))
        return {row[0] for row in rows}
