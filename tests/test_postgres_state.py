"""A site whose state lives in PostgreSQL from the start (`state_url`): runs, the web, the CLI."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result

from .conftest import Site
from .test_web import confirm_link, outbox, serving, subscribe

Cli = Callable[..., Result]


@pytest.fixture
def pg_site(site: Site, postgres_url: str) -> Site:
    with site.config.open("a", encoding="utf-8") as config:
        config.write(f"state_url: {postgres_url}\n")
    return site


def test_two_runs_of_one_edition_send_each_message_once(pg_site: Site, cli: Cli) -> None:
    pg_site.profile("bob", "email: [bob@example.org, carol@example.org]\nkeywords: [language model]\n")
    run = ("run", "--once", "--config", pg_site.config, "--date", "2026-11-16")

    first, second = cli(*run), cli(*run)

    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    assert "3 sent" in first.stderr
    assert "0 sent" in second.stderr and "3 already sent" in second.stderr
    assert not (pg_site.config.parent / "var" / "digest.sqlite3").exists()  # no SQLite file beside it


def test_signing_up_confirming_and_leaving_over_the_web(pg_site: Site, cli: Cli) -> None:
    with serving(pg_site) as web:
        assert "Check your inbox" in subscribe(web, "zed@example.org").text
        assert (
            "You are subscribed" in web.client.post(web.local(confirm_link(pg_site, "zed@example.org"))).text
        )
        assert cli("run", "--once", "--config", pg_site.config, "--date", "2026-11-16").exit_code == 0
        digest = outbox(pg_site, "2026-11-16")["zed@example.org"]
        one_click = web.local(digest["List-Unsubscribe"].split(",")[0].strip(" <>"))
        answer = web.client.post(one_click, data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200 and "You are unsubscribed" in answer.text

    later = cli("run", "--once", "--config", pg_site.config, "--date", "2026-11-17")
    assert "1 unsubscribed" in later.stderr
    assert "zed@example.org" not in outbox(pg_site, "2026-11-17")


def test_status_reads_the_postgresql_state(pg_site: Site, cli: Cli) -> None:
    assert cli("run", "--once", "--config", pg_site.config, "--date", "2026-11-16").exit_code == 0

    status = cli("status", "--json", "--config", pg_site.config)

    assert status.exit_code == 0, status.stderr
    assert '"edition": "2026-11-16", "sent": 1' in status.stdout


def test_a_server_that_is_down_stops_a_run_in_one_line(site: Site, cli: Cli) -> None:
    with site.config.open("a", encoding="utf-8") as config:
        config.write("state_url: postgresql://digest:secret@127.0.0.1:1/digest\n")

    result = cli("run", "--once", "--config", site.config, "--date", "2026-11-16")

    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("Error: state database postgresql://digest@127.0.0.1:1/digest: ")
    assert "secret" not in result.stderr and "Traceback" not in result.stderr
