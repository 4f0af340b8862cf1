"""The console after a real edition, over real HTTP: its numbers are the ledger's, and its actions
are the commands' own (resend uncertain once, unsubscribe, clear a suppression), under the lock."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest

from digest.store import State
from digest.store.lease import take_lease
from digest.store.lock import edition_lock

from .admin_client import Operator, console
from .conftest import Site
from .console_scenario import (
    EDITION,
    PENDING,
    REFUSED,
    SENT,
    UNCERTAIN,
    Cli,
    ledger_addresses,
    ledger_counts,
    run_edition,
)
from .smtp_relay import Relay
from .test_web import Server


@pytest.fixture
def served(site: Site, cli: Cli, relay: Relay, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    run_edition(site, cli, relay)
    with console(site, monkeypatch) as running:
        yield running


def edition_row(html: str, edition: str) -> list[int]:
    """The counts of an edition's row in an editions table: sent, failed, deferred, uncertain, bounced."""
    row = re.search(rf">{edition}</a></td>(.*?)</tr>", html, re.DOTALL)
    assert row, f"no row for {edition}"
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row[1])][:5]


def tile(html: str, state: str) -> int:
    found = re.search(rf"<strong>(\d+)</strong>{state}</a>", html)
    assert found, state
    return int(found[1])


def test_the_overview_shows_the_ledger(site: Site, served: Server) -> None:
    operator = Operator(served)
    operator.sign_in()
    page = operator.get("/admin").text
    ledger = ledger_counts(site)
    assert edition_row(page, EDITION.isoformat()) == [
        ledger["sent"], ledger["failed"], ledger["deferred"], ledger["uncertain"], 0
    ]  # fmt: skip
    assert [tile(page, s) for s in ("active", "pending", "unsubscribed", "suppressed")] == [3, 1, 1, 2]
    assert page.count("<svg") == 3 and "<script" not in page
    assert "broken" in page and "Next send: edition" in page
    assert "Sending the editions: no <code>digest serve</code> schedules this site." in page
    with State(site.config.parent / "var") as state:  # a leader elsewhere (test_scheduler_lease)
        take_lease(state.db, "process 7 on node-a (abc123)", dt.datetime.now(dt.UTC), 600)
    led = operator.get("/admin").text
    assert "Sending the editions: <code>process 7 on node-a (abc123)</code> (its lease runs until" in led
    sources = operator.get("/admin/sources").text
    assert '<td>broken</td><td class="num">1</td><td class="num">1</td>' in sources  # 1 of 1 failed


def test_resend_uncertain_sends_it_exactly_once(site: Site, served: Server, relay: Relay) -> None:
    operator = Operator(served)
    operator.sign_in()
    path = f"/admin/edition/{EDITION}"
    page = operator.get(path).text
    assert UNCERTAIN in page and "Resend 1 uncertain message" in page
    before = len(relay.to(UNCERTAIN))
    answer = operator.post(path, {}, csrf=operator.csrf(path))
    assert answer.status_code == 303
    assert "Resent: 1 message handed over" in operator.get(answer.headers["location"]).text
    assert len(relay.to(UNCERTAIN)) == before + 1
    assert ledger_counts(site) == {"sent": 3, "failed": 2}
    again = operator.post(path, {}, csrf=operator.csrf(path))  # a second press, or a replayed form
    assert "Resent: 0 messages" in operator.get(again.headers["location"]).text
    assert len(relay.to(UNCERTAIN)) == before + 1
    assert "Resend" not in operator.get(path).text.split("Uncertain deliveries")[1]


def test_unsubscribed_from_the_console_the_next_run_skips_them(
    site: Site, served: Server, relay: Relay, cli: Cli
) -> None:
    operator = Operator(served)
    operator.sign_in()
    # carol's digest of the 16th may not have arrived, so her papers are due again on the 17th.
    answer = operator.post("/admin/subscriber", {"address": UNCERTAIN, "action": "unsubscribe"})
    assert answer.status_code == 303
    assert "Unsubscribed: no digest goes" in operator.get(answer.headers["location"]).text
    next_day = EDITION + dt.timedelta(days=1)
    result = cli("run", "--once", "--config", site.config, "--date", next_day.isoformat())
    assert "2 unsubscribed" in result.stderr  # frank, who left before, and carol
    assert UNCERTAIN not in ledger_addresses(site, next_day)
    assert len(relay.to(UNCERTAIN)) == 1  # only the uncertain one of the 16th
    assert "Signed out" in operator.post("/admin/sign-out", {}).text


def test_clear_suppression_and_resend_confirmation(site: Site, served: Server, cli: Cli) -> None:
    operator = Operator(served)
    operator.sign_in()
    assert REFUSED[0] in operator.get("/admin/suppressions").text
    cleared = operator.post("/admin/subscriber", {"address": REFUSED[0], "action": "clear-suppression"})
    assert "Suppression cleared" in operator.get(cleared.headers["location"]).text
    listed = cli("subscribers", "--search", REFUSED[0], "--json", "--config", site.config)
    assert '"state": "active"' in listed.stdout
    # gina's confirmation went out minutes ago: the form's hourly limit holds here too.
    resent = operator.post("/admin/subscriber", {"address": PENDING, "action": "resend-confirmation"})
    assert "less than an hour ago" in operator.get(resent.headers["location"]).text
    page = operator.get(f"/admin/subscriber?address={PENDING}").text
    assert "pending" in page and "Resend confirmation" in page


def test_actions_wait_while_an_edition_is_being_sent(site: Site, served: Server, relay: Relay) -> None:
    operator = Operator(served)
    operator.sign_in()
    path = f"/admin/edition/{EDITION}"
    csrf = operator.csrf(path)
    before = ledger_counts(site)
    with edition_lock(site.root / "config" / "var", EDITION + dt.timedelta(days=1)):
        refused = operator.post("/admin/subscriber", {"address": SENT[0], "action": "unsubscribe"}, csrf=csrf)
        assert refused.status_code == 409 and "Cannot unsubscribe alice@example.org now" in refused.text
        resend = operator.post(path, {}, csrf=csrf)
        assert resend.status_code == 409 and "is being sent" in resend.text
    assert ledger_counts(site) == before and len(relay.to(UNCERTAIN)) == 1
    assert "active" in operator.get(f"/admin/subscriber?address={SENT[0]}").text


def test_the_subscribers_page_paginates_and_searches(site: Site, served: Server) -> None:
    many = [f"reader{n:03d}@example.com" for n in range(120)]
    site.profile("many", f"email: [{', '.join(many)}]\nkeywords: [retrieval]\n")
    operator = Operator(served)
    operator.sign_in()
    first = operator.get("/admin/subscribers").text
    assert "page 1 of 3" in first and first.count('href="/admin/subscriber?address=') == 50
    last = operator.get("/admin/subscribers?page=3").text
    assert last.count('href="/admin/subscriber?address=') == 127 - 100
    found = operator.get("/admin/subscribers?search=reader07&state=active").text
    assert found.count('href="/admin/subscriber?address=') == 10
    assert "No address matches" in operator.get("/admin/subscribers?search=nobody").text
    assert operator.get("/admin/subscribers?page=x&state=bogus").status_code == 200
    assert operator.get("/admin/subscriber?address=nobody@example.org").status_code == 404
    assert operator.get("/admin/edition/1999-01-01").status_code == 404
