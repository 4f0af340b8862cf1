"""Running unattended: when editions are due, catch-up, one scheduler per site, clean stops."""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import sqlite3
import subprocess
import sys
import time
from email import policy
from pathlib import Path
from typing import Any

import httpx
import pytest

from digest.config.settings import load_settings
from digest.serve.scheduler import Service
from digest.serve.slots import Slot
from digest.store import State
from digest.store.lease import take_lease

from .conftest import ARXIV_SAMPLE, HF_SAMPLE, ROOT, Site

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


# --- when editions are due (pure) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "utc"),
    [
        ("Europe/Berlin", "2026-11-16", "2026-11-16T07:00:00+00:00"),  # CET, UTC+1
        ("Europe/Berlin", "2026-07-16", "2026-07-16T06:00:00+00:00"),  # CEST, UTC+2
        ("America/New_York", "2026-11-16", "2026-11-16T13:00:00+00:00"),
        ("Asia/Tokyo", "2026-11-16", "2026-11-15T23:00:00+00:00"),  # the Tokyo edition of the 16th
    ],
)
def test_fire_time_is_the_local_send_time(zone: str, day: str, utc: str) -> None:
    assert Slot(zone, "08:00").fire_time(dt.date.fromisoformat(day)) == at(utc)


def test_send_time_stays_local_across_daylight_saving_changes() -> None:
    berlin = Slot("Europe/Berlin", "08:00")
    before, after = berlin.fire_time(dt.date(2026, 10, 24)), berlin.fire_time(dt.date(2026, 10, 25))

    assert after - before == dt.timedelta(hours=25)  # the autumn night is an hour longer
    skipped = Slot("Europe/Berlin", "02:30").fire_time(dt.date(2026, 3, 29))  # 02:30 does not exist
    assert skipped == at("2026-03-29T01:30:00+00:00")  # 03:30 on the new wall clock


def test_next_fire_times_in_three_time_zones() -> None:
    now = at("2026-11-16T10:00:00+00:00")

    nexts = {
        zone: Slot(zone, "08:00").next_fire(now)
        for zone in ("Asia/Tokyo", "Europe/Berlin", "America/New_York")
    }

    assert nexts["Asia/Tokyo"] == (dt.date(2026, 11, 17), at("2026-11-16T23:00:00+00:00"))
    assert nexts["Europe/Berlin"] == (dt.date(2026, 11, 17), at("2026-11-17T07:00:00+00:00"))
    assert nexts["America/New_York"] == (dt.date(2026, 11, 16), at("2026-11-16T13:00:00+00:00"))


def test_weekdays_only_and_weekly_slots() -> None:
    friday = at("2026-11-20T12:00:00+00:00")
    weekdays = Slot("UTC", "07:00", weekdays_only=True)
    weekly = Slot("UTC", "07:00", frequency="weekly", weekday=4)

    assert weekdays.next_fire(friday)[0] == dt.date(2026, 11, 23)  # Monday, not Saturday
    assert weekly.next_fire(friday)[0] == dt.date(2026, 11, 27)  # next Friday
    assert [d for d, _ in weekly.editions_due(at("2026-11-01T00:00:00+00:00"), friday)] == [
        dt.date(2026, 11, 6), dt.date(2026, 11, 13), dt.date(2026, 11, 20),
    ]  # fmt: skip


# --- the service, ticked with an injected clock ---------------------------------------------


def three_zones(site: Site) -> None:
    (site.profiles / "alice.yaml").unlink()
    for name, zone in (("tokyo", "Asia/Tokyo"), ("berlin", "Europe/Berlin"), ("york", "America/New_York")):
        site.profile(
            name,
            f"email: {name}@example.org\nkeywords: [language model]\ntimezone: {zone}\nsend_at: '08:00'\n",
        )


def sent(site: Site) -> list[tuple[str, str]]:
    """(edition, address) of every message in the outbox."""
    outbox = site.config.parent / "var" / "outbox"
    return sorted((p.parent.name, p.stem) for p in outbox.glob("20*/*.eml"))


def started(site: Site, now: str) -> Service:
    """A service whose first tick is at `now`: it sends what is due today, and records its start."""
    made = Service(load_settings(site.config))
    made.tick(at(now))
    return made


def test_each_time_zone_gets_its_edition_once_at_its_local_time(site: Site) -> None:
    three_zones(site)
    scheduler = started(site, "2026-11-16T10:00:00+00:00")  # 11:00 in Berlin: its 08:00 edition is due

    ticks = {when: scheduler.tick(at(when)) for when in (
        "2026-11-16T12:59:00+00:00",  # 07:59 in New York
        "2026-11-16T13:00:30+00:00",  # 08:00 in New York
        "2026-11-16T22:59:00+00:00",  # 07:59 in Tokyo
        "2026-11-16T23:00:30+00:00",  # 08:00 in Tokyo, on the 17th
        "2026-11-16T23:01:30+00:00",  # the next tick
    )}  # fmt: skip

    assert [len(reports) for reports in ticks.values()] == [0, 1, 0, 1, 0]
    assert sent(site) == [
        ("2026-11-16", "berlin@example.org"),
        ("2026-11-16", "york@example.org"),
        ("2026-11-17", "tokyo@example.org"),
    ]


def test_restart_after_a_gap_catches_up_once_and_never_doubles(site: Site) -> None:
    three_zones(site)
    started(site, "2026-11-14T14:00:00+00:00")  # Berlin and New York have had the 14th

    reports = started(site, "2026-11-16T14:00:00+00:00").tick(at("2026-11-16T14:00:00+00:00"))
    after_two_days_down = sorted(r.edition.isoformat() for r in reports)
    again = started(site, "2026-11-16T14:05:00+00:00").tick(at("2026-11-16T14:06:00+00:00"))

    assert after_two_days_down == []  # the first tick of the restarted service already caught up
    assert again == []
    editions = [e for e, _ in sent(site)]
    assert editions.count("2026-11-14") == 2
    assert len(sent(site)) == len(set(sent(site)))
    states = schedule_log(site)
    zones = ("Asia/Tokyo", "Europe/Berlin", "America/New_York")
    caught_up = {(zone, day) for zone in zones for day in ("2026-11-15", "2026-11-16")}
    assert {(slot.split("/", 1)[1], edition) for slot, edition in states} >= caught_up
    assert all(state == "done" for state in states.values())


def schedule_log(site: Site) -> dict[tuple[str, str], str]:
    with sqlite3.connect(site.config.parent / "var" / "digest.sqlite3") as db:
        return {(slot, edition): state for slot, edition, state in db.execute(
            "SELECT slot, edition, state FROM schedule_runs")}  # fmt: skip


def test_a_new_site_does_not_catch_up_before_its_first_day(site: Site) -> None:
    reports = Service(load_settings(site.config)).tick(at("2026-11-16T10:00:00+00:00"))

    assert [r.edition for r in reports] == [dt.date(2026, 11, 16)]  # not the 14th or the 15th


def test_a_failed_edition_is_tried_again_but_not_every_minute(site: Site) -> None:
    site.config.write_text(site.config.read_text().replace(str(ROOT / "samples"), "/nonexistent"))
    scheduler = Service(load_settings(site.config))

    first = scheduler.tick(at("2026-11-16T07:01:00+00:00"))
    soon = scheduler.tick(at("2026-11-16T07:02:00+00:00"))
    later = scheduler.tick(at("2026-11-16T07:20:00+00:00"))

    assert (len(first), len(soon), len(later)) == (1, 0, 1)
    assert schedule_log(site) == {("daily@07:00/UTC", "2026-11-16"): "tried"}


def test_a_retry_fetches_again_rather_than_reuse_a_failed_listing(site: Site, tmp_path: Path) -> None:
    listing = tmp_path / "arxiv.xml"  # missing at first: every source fails
    site.config.write_text(
        site.config.read_text().replace(str(ARXIV_SAMPLE), str(listing)).replace(str(HF_SAMPLE), str(listing))
    )
    scheduler = Service(load_settings(site.config))

    failed = scheduler.tick(at("2026-11-16T07:01:00+00:00"))
    listing.write_bytes(ARXIV_SAMPLE.read_bytes())
    retried = scheduler.tick(at("2026-11-16T07:20:00+00:00"))

    assert [r.tally.sent for r in failed] == [0]
    assert [r.tally.sent for r in retried] == [1]
    assert schedule_log(site) == {("daily@07:00/UTC", "2026-11-16"): "done"}


def test_only_one_scheduler_per_state_dir(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    with State(load_settings(site.config).state_dir) as state:  # another process leads
        assert take_lease(state.db, "process 1 on elsewhere", dt.datetime.now(UTC), 600) is None
    second = Service(load_settings(site.config))

    try:
        second.start()
        tick = second.scheduler.get_job("tick") if second.scheduler else None
    finally:
        second.stop()

    assert tick is not None and tick.next_run_time is None  # paused until it leads
    assert "the scheduler already runs in process 1 on elsewhere" in caplog.text


# --- digest serve, as a real process --------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def many_subscribers(site: Site, count: int) -> None:
    for n in range(count):
        site.profile(f"p{n:03}", f"email: p{n:03}@example.org\nkeywords: [language model]\nmax_papers: 1\n")


def ledger_states(site: Site) -> dict[str, int]:
    with sqlite3.connect(site.config.parent / "var" / "digest.sqlite3") as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())


def test_serve_answers_healthz_while_sending_and_stops_cleanly_on_sigterm(site: Site, tmp_path: Path) -> None:
    many_subscribers(site, 300)
    # Due whenever it runs; paced, so that the edition is surely still going when SIGTERM comes.
    paced = "  transport: outbox\n  rate_limit: 40\n"
    config = site.config.read_text().replace("  transport: outbox\n", paced)
    site.config.write_text(config + "schedule:\n  send_at: '00:00'\n")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "digest", "serve", "--config", str(site.config), "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
    outbox = site.config.parent / "var" / "outbox"
    health: dict[str, Any] = {}
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and len(list(outbox.glob("*/*.eml"))) < 20:
            try:
                health = client.get("/healthz").json()  # answers while the scheduler sends
            except httpx.TransportError:
                health = {}
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then lets the signal end the process as it would have.
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        client.close()
        process.kill()

    assert health == {**health, "status": "ok", "scheduler": "running"}
    delivered = len(list(outbox.glob("*/*.eml")))
    states = ledger_states(site)
    assert "sending" not in states  # the message in flight was finished and recorded
    assert states.get("sent") == delivered and 20 <= delivered < 301  # alice and the 300
    assert "Application shutdown complete" in log.read_text()


def test_a_weekly_digest_holds_papers_fetched_during_its_week(site: Site, cli: Any, tmp_path: Path) -> None:
    earlier = tmp_path / "earlier.xml"  # fetched before the edition, absent from its listing
    earlier.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Earlier</title><item>'
        "<title>Quokka behaviour in the wild</title><link>https://journal.example/quokka</link>"
        "<description>A field study of quokkas.</description></item></channel></rss>",
        encoding="utf-8",
    )
    assert cli("fetch", "--source", earlier, "--config", site.config).exit_code == 0
    site.profile("wendy", "email: wendy@example.org\nkeywords: [quokka]\nfrequency: weekly\n")  # Mondays

    Service(load_settings(site.config)).tick(at("2026-11-16T07:01:00+00:00"))  # a Monday

    eml = (site.outbox / "2026-11-16" / "wendy@example.org.eml").read_bytes()
    weekly = email.message_from_bytes(eml, policy=policy.default)
    assert "*Quokka* behaviour in the wild" in weekly.get_body(("plain",)).get_content()  # type: ignore[union-attr]


class StopAfter:
    """A stop request that comes after `checks` looks at it: mid-edition, as a SIGTERM would."""

    def __init__(self, checks: int) -> None:
        self.checks = checks

    def is_set(self) -> bool:
        self.checks -= 1
        return self.checks < 0

    def set(self) -> None:
        self.checks = 0


def test_an_edition_stopped_mid_way_goes_on_at_the_next_start_not_after_the_retry_wait(site: Site) -> None:
    many_subscribers(site, 4)
    stopped = Service(load_settings(site.config))
    stopped.stopping = StopAfter(3)  # type: ignore[assignment]  # the tick's look, then two messages

    [first] = stopped.tick(at("2026-11-16T07:01:00+00:00"))
    [rest] = Service(load_settings(site.config)).tick(at("2026-11-16T07:02:00+00:00"))

    assert first.tally.stopped and first.tally.sent == 2
    assert rest.tally.sent == 3 and rest.tally.skipped == 2
    assert schedule_log(site) == {("daily@07:00/UTC", "2026-11-16"): "done"}
