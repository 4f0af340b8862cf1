"""`digest migrate-state`: a state that real runs filled moves to PostgreSQL, and nobody is mailed twice."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing

import pytest
from click.testing import Result

from digest.store import connect
from digest.store.copy import row_counts, tables

from .conftest import Site

EDITION = "2026-11-16"
Cli = Callable[..., Result]


@pytest.fixture
def used_site(site: Site, cli: Cli) -> Site:
    """An edition sent to three addresses, one sign-up pending, one address gone."""
    site.profile("bob", "email: [bob@example.org, carol@example.org]\nkeywords: [language model]\n")
    assert cli("run", "--once", "--config", site.config, "--date", EDITION).exit_code == 0
    assert cli("subscribe", "dave@example.org", "--keyword", "rl", "--config", site.config).exit_code == 0
    assert cli("unsubscribe", "carol@example.org", "--config", site.config).exit_code == 0
    return site


def test_every_table_is_copied_and_counted(used_site: Site, cli: Cli, postgres_url: str) -> None:
    result = cli("migrate-state", "--to", postgres_url, "--config", used_site.config)

    assert result.exit_code == 0, result.stderr
    sqlite_file = used_site.config.parent / "var" / "digest.sqlite3"
    with closing(connect(sqlite_file)) as source:
        expected = row_counts(source, tables(source))
    assert expected["deliveries"] == 3 and expected["unsubscribes"] == 1 and expected["papers"] > 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["table", "sqlite", "postgresql"]
    shown = {line.split()[0]: (int(line.split()[1]), int(line.split()[2])) for line in lines[1:-1]}
    assert shown == {table: (count, count) for table, count in expected.items()}


def test_a_run_on_the_migrated_state_sends_nothing_twice(
    used_site: Site, cli: Cli, postgres_url: str
) -> None:
    assert cli("migrate-state", "--to", postgres_url, "--config", used_site.config).exit_code == 0
    with used_site.config.open("a", encoding="utf-8") as config:
        config.write(f"state_url: {postgres_url}\n")

    again = subprocess.run(  # a process of its own, as cron would start it
        [sys.executable, "-m", "digest", "run", "--once", "--config", str(used_site.config),
         "--date", EDITION],
        capture_output=True, text=True, check=False, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip

    assert again.returncode == 0, again.stderr
    assert "0 sent" in again.stderr and "2 already sent" in again.stderr  # carol left in between
    assert sorted(p.name for p in (used_site.outbox / EDITION).iterdir()) == [
        "alice@example.org.eml", "bob@example.org.eml", "carol@example.org.eml",
    ]  # fmt: skip


def test_a_target_that_holds_rows_is_refused_unless_forced(
    used_site: Site, cli: Cli, postgres_url: str
) -> None:
    assert cli("migrate-state", "--to", postgres_url, "--config", used_site.config).exit_code == 0

    refused = cli("migrate-state", "--to", postgres_url, "--config", used_site.config)
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        "Error: the target state is not empty: confirmations_sent (1), deliveries (3), "
    )
    assert "--force" in refused.stderr

    forced = cli("migrate-state", "--to", postgres_url, "--force", "--config", used_site.config)
    assert forced.exit_code == 0, forced.stderr


def test_a_target_that_is_not_postgresql_is_a_one_line_error(used_site: Site, cli: Cli) -> None:
    result = cli("migrate-state", "--to", "mysql://digest:pw@db/digest", "--config", used_site.config)

    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[0]
        == "Error: --to expects a postgresql:// URL, got 'mysql://digest@db/digest'"
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("sqlite:///var/digest.sqlite3", "expected a postgresql:// URL naming a database"),
        ("postgresql://db.example.org", "expected a postgresql:// URL naming a database"),
        ("postgresql://db.example.org:port/digest", "invalid URL: Port could not be cast"),
        ("[postgresql://db/digest]", "expected text"),
    ],
)
def test_a_bad_state_url_is_reported_at_its_line(site: Site, cli: Cli, value: str, problem: str) -> None:
    with site.config.open("a", encoding="utf-8") as config:
        config.write(f"state_url: {value}\n")
    line = len(site.config.read_text(encoding="utf-8").splitlines())

    result = cli("check", "--config", site.config)

    assert result.exit_code == 1
    assert f"{site.config}:{line}: state_url: {problem}" in result.stderr
