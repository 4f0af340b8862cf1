"""`digest serve` tells of trouble: log lines for failed sources and broken profiles, /healthz."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from digest.config.settings import load_settings
from digest.serve.scheduler import Service
from digest.serve.web import create_app
from digest.serve.web_server import server_config

from .conftest import HF_SAMPLE, Site

MONDAY = dt.datetime(2026, 11, 16, 7, 1, tzinfo=dt.UTC)


def troubled(site: Site) -> None:
    """One source missing, one profile with an unknown key on its line 3."""
    site.config.write_text(site.config.read_text().replace(str(HF_SAMPLE), str(site.root / "gone.json")))
    site.profile("bob", "email: bob@example.org\nkeywords: [pretraining]\nkeywordz: [typo]\n")


@contextmanager
def healthz_of(service: Service | None, site: Site) -> Iterator[httpx.Client]:
    """The app served by uvicorn on loopback, as `digest serve` serves it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(load_settings(site.config), service)
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, log_level="warning"))
    server.config.lifespan = "off"  # the service is ticked by the test, not started
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    while not started.wait(0.01):
        if server.started:
            started.set()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_failed_source_and_a_broken_profile_each_get_one_log_line(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    troubled(site)
    service = Service(load_settings(site.config))

    with caplog.at_level("INFO", logger="digest"):
        [report] = service.tick(MONDAY)

    assert report.tally.sent == 1  # alice still had her digest
    lines = [r.getMessage() for r in caplog.records]
    failed = [line for line in lines if "source hf failed" in line]
    broken = [line for line in lines if "broken profile" in line]
    assert len(failed) == 1 and "gone.json" in failed[0] and "no such file" in failed[0].lower()
    assert len(broken) == 1 and f"{site.profiles / 'bob.yaml'}:3: keywordz" in broken[0]


def test_healthz_is_degraded_with_the_reasons_after_a_troubled_edition(site: Site) -> None:
    troubled(site)
    service = Service(load_settings(site.config))
    service.tick(MONDAY)

    with healthz_of(service, site) as client:
        health = client.get("/healthz")

    assert health.status_code == 200  # the process works: a container is not restarted for this
    body = health.json()
    assert body["status"] == "degraded" and body["scheduler"] == "off"
    assert any(r.startswith("source hf failed") for r in body["reasons"])
    assert any("bob.yaml:3" in r for r in body["reasons"])


def test_healthz_is_ok_after_a_clean_edition(site: Site) -> None:
    service = Service(load_settings(site.config))
    service.tick(MONDAY)

    with healthz_of(service, site) as client:
        body = client.get("/healthz").json()

    assert body["status"] == "ok" and "reasons" not in body
    assert body["edition"] == "2026-11-16"


def test_healthz_reports_uncertain_deliveries(site: Site) -> None:
    service = Service(load_settings(site.config))
    [report] = service.tick(MONDAY)
    report.tally.uncertain.append("alice@example.org: connection lost after DATA")
    service.record_health(report, MONDAY)

    with healthz_of(service, site) as client:
        body = client.get("/healthz").json()

    assert body["status"] == "degraded"
    assert body["reasons"] == ["1 delivery uncertain (may have arrived; not resent)"]
