"""One scheduler at a time, with fail-over: the lease row in the state database.

The store's functions with explicit times; the service taking, renewing, losing and releasing the
lease in this process; and two `digest serve` processes on one state, the leader killed mid-edition.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from digest.config.settings import load_settings
from digest.serve.scheduler import Service
from digest.store import Database, State
from digest.store.lease import current_lease, release_lease, take_lease

from .conftest import Site
from .smtp_relay import Relay, serving
from .test_delivery import use_smtp
from .test_serve_child import Serving as ServingProcess
from .test_serve_child import many_subscribers
from .test_serve_process import until

NOON = dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(site: Site) -> Iterator[Database]:
    with State(load_settings(site.config).state_dir) as state:
        yield state.db


def later(seconds: float) -> dt.datetime:
    return NOON + dt.timedelta(seconds=seconds)


# --- the lease in the store -----------------------------------------------------------------


def test_a_free_lease_is_taken_and_a_held_one_is_refused_until_it_expires(backend: Database) -> None:
    db = backend  # SQLite and PostgreSQL alike
    assert take_lease(db, "a", NOON, 30) is None
    refused = take_lease(db, "b", later(29), 30)
    renewed = take_lease(db, "a", later(20), 30)  # a renewal: 30 s from now
    still_refused = take_lease(db, "b", later(40), 30)
    taken = take_lease(db, "b", later(50), 30)

    assert refused is not None and refused.holder == "a" and refused.expires_at == later(30)
    assert renewed is None and still_refused is not None and still_refused.expires_at == later(50)
    held = current_lease(db)
    assert taken is None and held is not None and held.holder == "b" and held.expires_at == later(80)
    lost = take_lease(db, "a", later(60), 30)  # the old holder, back: it does not get it back
    assert lost is not None and lost.holder == "b"


def test_a_released_lease_is_taken_at_once_and_only_its_holder_releases_it(backend: Database) -> None:
    db = backend  # SQLite and PostgreSQL alike
    take_lease(db, "a", NOON, 30)
    release_lease(db, "b")  # not b's to release
    assert current_lease(db) is not None
    release_lease(db, "a")

    assert current_lease(db) is None
    assert take_lease(db, "b", later(1), 30) is None


# --- the service: standby, take-over, losing the lease ------------------------------------------


def short_lease(site: Site, seconds: int = 3, *, due_now: bool = True) -> None:
    """A lease of `seconds`, and a send time that is due whenever the test runs."""
    send_at = "  send_at: '00:00'\n" if due_now else "  send_at: '23:59'\n  catch_up_days: 0\n"
    site.config.write_text(site.config.read_text() + f"schedule:\n  lease_seconds: {seconds}\n{send_at}")


def test_a_second_service_stands_by_and_takes_over_when_the_first_stops(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    short_lease(site, 600, due_now=False)  # only a release can hand it over within the test
    first, second = Service(load_settings(site.config)), Service(load_settings(site.config))
    caplog.set_level(logging.INFO, "digest.schedule")
    try:
        first.start()
        second.start()
        roles = first.role(), second.role()
        first.stop()  # releases the lease
        took_over = second.keep_lease()  # as its next renewal would
    finally:
        first.stop()
        second.stop()

    assert roles[0] == {"role": "leader", "leader": first.leadership.holder}
    assert roles[1] == {"role": "standby", "leader": first.leadership.holder}
    assert "the scheduler already runs in process" in caplog.text
    assert took_over and "this process took over the scheduler" in caplog.text


def test_a_leader_that_lost_the_lease_stops_sending(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    short_lease(site, 600, due_now=False)
    service = Service(load_settings(site.config))
    try:
        service.start()
        assert not service.should_stop()
        with State(service.settings.state_dir) as state:  # another process, after a long pause of ours
            future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
            assert take_lease(state.db, "process 1 on elsewhere", future, 600) is None
        still_leads = service.keep_lease()
        stops, role = service.should_stop(), service.role()
    finally:
        service.stop()

    assert not still_leads and stops and role == {"role": "standby", "leader": "process 1 on elsewhere"}
    assert "lost the scheduler's lease" in caplog.text


def test_status_says_who_leads(site: Site, cli: Callable[..., Any], db: Database) -> None:
    nobody = json.loads(cli("status", "--json", "--config", site.config).stdout)["scheduler"]
    take_lease(db, "process 7 on node-a (abc123)", dt.datetime.now(dt.UTC), 600)

    text = cli("status", "--config", site.config).stdout
    found = json.loads(cli("status", "--json", "--config", site.config).stdout)["scheduler"]

    assert nobody is None
    assert found["leader"] == "process 7 on node-a (abc123)" and found["live"] is True
    assert "Scheduler: led by process 7 on node-a (abc123)" in text


# --- two `digest serve` on one state, the leader killed ---------------------------------------------


class Serving(ServingProcess):
    """`digest serve` in a process group of its own, asked whether it leads."""

    def role(self, wanted: str) -> dict[str, Any] | None:
        health = self.health()
        return health if health and health["role"] == wanted else None

    def finished(self) -> dict[str, Any] | None:
        health = self.health()
        return health if health and "edition" in health else None

    def kill_all(self) -> None:
        """The leader's machine dies: the service, its fork server, the edition's process. Returns
        once none of them runs, so a reply sent after this never reaches a process of the group."""
        group = self.process.pid
        os.killpg(group, signal.SIGKILL)
        self.process.wait()
        until(lambda: None if running_in_group(group) else group, "let its processes die")


def running_in_group(group: int) -> list[int]:
    """The processes of a process group that still run (a killed child not yet reaped is done)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[2]) == group and fields[0] not in "ZX":
            running.append(int(stat.parent.name))
    return running


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Callable[[Site], Serving]]:
    processes: list[Serving] = []

    def start(site: Site) -> Serving:
        processes.append(Serving(site, tmp_path / f"serve-{len(processes)}.log"))
        return processes[-1]

    yield start
    for process in processes:
        process.close()


def ledger(site: Site) -> dict[str, str]:
    with state_of(site) as state:
        return dict(state.db.execute("SELECT address, state FROM deliveries").fetchall())


def schedule_log(site: Site) -> list[str]:
    with state_of(site) as state:
        return [state for (state,) in state.db.execute("SELECT state FROM schedule_runs")]


def state_of(site: Site) -> State:
    settings = load_settings(site.config)
    return State(settings.state_dir, settings.secret, settings.state_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_state(request: pytest.FixtureRequest, site: Site) -> Site:
    """The site, its state in the SQLite file (one machine) or on a PostgreSQL server (several)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        site.config.write_text(site.config.read_text() + f"state_url: {url}\n")
    return site


def test_the_standby_finishes_a_half_sent_edition_when_the_leader_dies_and_nobody_gets_it_twice(
    shared_state: Site, tmp_path: Path, started: Callable[[Site], Serving]
) -> None:
    site = shared_state
    addresses = many_subscribers(site, 80)
    with serving(Relay()) as relay:
        # The dead leader's claimed batch is taken over once its claim lease has passed (PostgreSQL).
        use_smtp(site, relay.port, claim_lease=5)
        short_lease(site, 3)
        reached, release = relay.hold_at(30)  # the leader is held mid-edition, its 30th message unanswered
        leader = started(site)
        assert until(lambda: leader.role("leader"), "led")
        standby = started(site)
        standby_health = until(lambda: standby.role("standby"), "stood by")
        try:
            assert reached.wait(120)
            half_sent = ledger(site)
            leader.kill_all()
        finally:
            release.set()
        took_over = until(lambda: standby.role("leader"), "took over")
        health = until(standby.finished, "finished the edition")
        assert standby.stop() in (0, -signal.SIGTERM)
        received = {address: len(relay.to(address)) for address in addresses}

    assert standby_health["leader"].startswith(f"process {leader.process.pid} on ")
    assert took_over["leader"].startswith(f"process {standby.process.pid} on ")
    assert 0 < list(half_sent.values()).count("sent") < len(addresses)  # killed mid-way
    states = ledger(site)
    assert set(states) == set(addresses) and list(states.values()).count("uncertain") == 1
    assert received == dict.fromkeys(addresses, 1)  # everyone once: the uncertain one was not resent
    assert health["status"] == "degraded" and "1 delivery uncertain" in health["reasons"][0]
    assert schedule_log(site) == ["done"]
    taken = (tmp_path / "serve-1.log").read_text()
    assert "this process took over the scheduler" in taken and "Traceback" not in taken


def test_a_clean_stop_hands_the_schedule_over_at_once(
    shared_state: Site, started: Callable[[Site], Serving]
) -> None:
    site = shared_state
    short_lease(site, 600)  # the lease would outlast the test: only its release hands it over
    first = started(site)
    until(first.finished, "sent the edition")
    second = started(site)
    until(lambda: second.role("standby"), "stood by")

    assert first.stop() in (0, -signal.SIGTERM)
    health = until(lambda: second.role("leader"), "took over")
    assert health["leader"].startswith(f"process {second.process.pid} on ")
    assert second.stop() in (0, -signal.SIGTERM)
    assert schedule_log(site) == ["done"]  # the edition the first sent was not sent again


def test_a_lease_too_short_to_renew_is_one_error_naming_file_line_and_key(
    site: Site, cli: Callable[..., Any]
) -> None:
    short_lease(site, 1)

    result = cli("check", "--config", site.config)

    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if "lease_seconds" in line]
    assert re.fullmatch(rf"Error: {re.escape(str(site.config))}:\d+: schedule\.lease_seconds: "
                        r"expected a whole number from 3 to 600, got 1", line)  # fmt: skip
