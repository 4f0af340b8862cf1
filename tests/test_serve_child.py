"""`digest serve` sends each scheduled edition from a process of its own, which composes on every core."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from digest.config.settings import load_settings
from digest.pipeline.composing import MIN_PARALLEL
from digest.pipeline.run import RunReport
from digest.serve.scheduler import Service

from .conftest import ROOT, Site
from .smtp_relay import Relay, serving
from .test_delivery import use_smtp
from .test_serve_process import free_port, until

MONDAY = dt.datetime(2026, 11, 16, 7, 1, tzinfo=dt.UTC)


def many_subscribers(site: Site, count: int) -> list[str]:
    addresses = [f"p{n:03}@example.org" for n in range(count)]
    for address in addresses:
        site.profile(address[:4], f"email: {address}\nkeywords: [language model]\nmax_papers: 1\n")
    return ["alice@example.org", *addresses]  # the site's own profile, and these


def due_now(site: Site, delivery: str = "") -> None:
    """A send time that is due whenever the test runs; `delivery`: lines added under delivery:."""
    config = site.config.read_text().replace("  transport: outbox\n", "  transport: outbox\n" + delivery)
    site.config.write_text(config + "schedule:\n  send_at: '00:00'\n")


def ledger(site: Site) -> dict[str, str]:
    with sqlite3.connect(site.config.parent / "var" / "digest.sqlite3") as db:
        return dict(db.execute("SELECT address, state FROM deliveries").fetchall())


def schedule_log(site: Site) -> list[str]:
    with sqlite3.connect(site.config.parent / "var" / "digest.sqlite3") as db:
        return [state for (state,) in db.execute("SELECT state FROM schedule_runs")]


class Serving:
    """`digest serve` as a real process, its log in a file."""

    def __init__(self, site: Site, log: Path) -> None:
        port = free_port()
        command = [sys.executable, "-m", "digest", "serve", "--config", str(site.config), "--port", str(port)]
        with log.open("ab") as output:
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            # A process group of its own, so a test can kill the whole "machine" at once.
            self.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

    def health(self) -> dict[str, Any] | None:
        try:
            body: dict[str, Any] = self.client.get("/healthz").json()
        except httpx.TransportError:  # not listening yet, or killed
            return None
        return body

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def close(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def serve(site: Site, tmp_path: Path) -> Iterator[Serving]:
    started = Serving(site, tmp_path / "serve.log")
    try:
        yield started
    finally:
        started.close()


def finished(serving: Serving) -> dict[str, Any] | None:
    health = serving.health()
    return health if health and "edition" in health else None


def test_a_scheduled_edition_is_composed_by_worker_processes(site: Site, tmp_path: Path) -> None:
    addresses = many_subscribers(site, MIN_PARALLEL + 20)
    due_now(site)
    serving = Serving(site, tmp_path / "serve.log")
    try:
        health = until(lambda: finished(serving), "finished an edition")
        serving.stop()
    finally:
        serving.close()

    assert health["status"] == "ok"
    text = (tmp_path / "serve.log").read_text()
    [child] = {int(pid) for pid in re.findall(r": sending from process (\d+)", text)}
    composers = set(re.findall(rf"worker process (\d+) composing for process {child}\b", text))
    assert child != serving.process.pid and len(composers) >= 2  # on both cores, as `digest run` does
    assert set(ledger(site).items()) == {(address, "sent") for address in addresses}
    assert schedule_log(site) == ["done"]


def test_sigterm_stops_the_edition_process_between_messages_and_the_next_start_sends_the_rest(
    site: Site, tmp_path: Path
) -> None:
    addresses = many_subscribers(site, 300)
    due_now(site, "  rate_limit: 40\n")  # paced: the edition surely still goes when SIGTERM comes
    log = tmp_path / "serve.log"
    first = Serving(site, log)
    try:
        going = until(lambda: _handed_over(first, 20), "told of its progress")
        assert first.stop() in (0, -signal.SIGTERM)
    finally:
        first.close()
    stopped = ledger(site)
    second = Serving(site, log)
    try:
        until(lambda: finished(second), "finished the edition")
        second.stop()
    finally:
        second.close()

    assert re.fullmatch(r"edition \d{4}-\d\d-\d\d for daily@00:00/UTC: \d+ of 301 handed over", going)
    # None left mid-way: sent, or queued (pending) and never handed over.
    sent = [address for address, state in stopped.items() if state == "sent"]
    assert set(stopped.values()) == {"sent", "pending"} and 20 <= len(sent) < 301
    assert set(ledger(site).items()) == {(address, "sent") for address in addresses}
    assert "edition" in log.read_text() and "Traceback" not in log.read_text()
    assert schedule_log(site) == ["done"]


def _handed_over(serving: Serving, at_least: int) -> str | None:
    health = serving.health()
    told = (health or {}).get("sending")
    count = re.search(r": (\d+) of", told or "")
    return told if told and count and int(count.group(1)) >= at_least else None


def test_a_killed_edition_process_is_a_failed_edition_and_the_retry_sends_no_duplicate(site: Site) -> None:
    addresses = many_subscribers(site, MIN_PARALLEL + 20)
    with serving(Relay()) as relay:
        use_smtp(site, relay.port, connections=4)
        reached, release = relay.hold_at(40)  # the 40th message is kept, and its answer held back
        service = Service(load_settings(site.config), in_child=True)
        reports: list[RunReport] = []
        ticking = threading.Thread(target=lambda: reports.extend(service.tick(MONDAY)))
        ticking.start()
        try:
            assert reached.wait(120)
            [child] = multiprocessing.active_children()
            os.kill(child.pid or 0, signal.SIGKILL)
            ticking.join(120)
        finally:
            release.set()
        failed_log, failed_health = schedule_log(site), service.health
        [retry] = service.tick(MONDAY + dt.timedelta(minutes=20))
        received = {address: len(relay.to(address)) for address in addresses}

    assert [r.tally.sent for r in reports] == [0] and failed_log == ["tried"]
    assert failed_health is not None
    assert "ended without a report (killed by SIGKILL)" in failed_health.reasons[0]
    states = ledger(site)
    assert set(states) == set(addresses) and set(states.values()) <= {"sent", "uncertain"}
    assert all(count <= 1 for count in received.values())  # nobody got the edition twice
    assert {a for a, s in states.items() if s == "sent"} <= {a for a, n in received.items() if n}
    assert any(s == "uncertain" for s in states.values())  # the held message: maybe arrived, not resent
    assert retry.tally.uncertain and schedule_log(site) == ["done"]
