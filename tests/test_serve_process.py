"""`digest serve` as a real process: a busy port, the log it writes, tokens kept out of it."""

from __future__ import annotations

import email
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email import policy
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from digest.serve.web_server import HiddenTokens
from digest.tokens import sign

from .conftest import HF_SAMPLE, ROOT, Site

T = TypeVar("T")


def serve_command(site: Site, port: int) -> list[str]:
    return [sys.executable, "-m", "digest", "serve", "--config", str(site.config), "--port", str(port)]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_a_port_in_use_is_one_clear_error_before_the_scheduler_starts(site: Site, tmp_path: Path) -> None:
    site.config.write_text(site.config.read_text() + "schedule:\n  send_at: '00:00'\n")  # due at once
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            serve_command(site, port), capture_output=True, text=True, env=environment(), timeout=60
        )

    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == f"Error: cannot listen on 127.0.0.1:{port}: address already in use"
    assert lines[1].strip().startswith("Hint: ") and "--port" in lines[1]
    assert "Traceback" not in done.stderr and "scheduler started" not in done.stderr
    assert not list((site.config.parent / "var").glob("outbox/*/*.eml"))  # nothing was sent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def until(found: Callable[[], T | None], what: str, seconds: float = 60) -> T:
    """Poll the running process for something it is about to do, up to a generous deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (value := found()) is not None:
            return value
    raise AssertionError(f"digest serve never {what}")


def health_after_an_edition(client: httpx.Client) -> dict[str, Any] | None:
    try:
        health: dict[str, Any] = client.get("/healthz").json()
    except httpx.TransportError:  # not listening yet
        return None
    return health if "edition" in health else None


def confirmation_link(site: Site) -> str | None:
    mailed = list(site.outbox.glob("confirmations/zed@example.org.eml"))
    if not mailed:
        return None
    text = email.message_from_bytes(mailed[0].read_bytes(), policy=policy.default)
    body = text.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return re.search(r"/confirm/\S+", body).group(0)  # type: ignore[union-attr]


def act_as_a_subscriber(client: httpx.Client, site: Site) -> list[str]:
    """Subscribe, confirm, save keywords, unsubscribe: every token-bearing path, GET and POST."""
    assert client.post("/subscribe", data={"email": "zed@example.org", "keywords": "pretraining"}).is_success
    confirm = until(lambda: confirmation_link(site), "mailed the confirmation")
    manage = f"/manage/{sign('test-secret', 'manage', 'zed@example.org')}"
    leave = f"/unsubscribe/{sign('test-secret', 'unsubscribe', 'zed@example.org')}"
    view = f"/digest/2026-11-16/{sign('test-secret', 'view:2026-11-16', 'zed@example.org')}"
    for path in (confirm, manage, leave):
        assert client.get(path).is_success
    assert client.post(confirm).is_success
    assert client.post(manage, data={"keywords": "data selection"}).is_success
    assert client.post(leave, data={"List-Unsubscribe": "One-Click"}).is_success
    client.get(view)
    client.get("/feed/abc.atom?key=secret")
    return [path.rpartition("/")[2] for path in (confirm, manage, leave, view)]


def test_serve_logs_trouble_and_events_in_one_format_and_never_a_token(site: Site, tmp_path: Path) -> None:
    site.config.write_text(
        site.config.read_text().replace(str(HF_SAMPLE), str(tmp_path / "gone.json"))
        + "schedule:\n  send_at: '00:00'\n"  # due whenever it runs
    )
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            serve_command(site, port), stdout=output, stderr=subprocess.STDOUT, env=environment()
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        health = until(lambda: health_after_an_edition(client), "finished an edition")
        tokens = act_as_a_subscriber(client, site)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        client.close()
        process.kill()

    assert health["status"] == "degraded" and health["scheduler"] == "running"
    assert health["reasons"][0].startswith("source hf failed: ")
    lines = log.read_text().splitlines()
    stamped = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} (INFO|WARNING|ERROR) [\w.]+: ")
    assert [line for line in lines if not stamped.match(line)] == []
    text = "\n".join(lines)
    assert all(token not in text for token in tokens) and "secret" not in text
    assert "zed@example.org" not in text
    assert re.search(r'"POST /confirm/… HTTP/1.1" 200', text)
    assert re.search(r'"GET /digest/2026-11-16/… HTTP/1.1" 200', text)
    assert '"GET /feed/…?… HTTP/1.1" 400' in text  # a forged feed link, its token masked
    assert len([line for line in lines if "source hf failed" in line]) == 1
    for event in ("subscribe", "confirm", "manage", "unsubscribe"):
        said = [line for line in lines if f"digest.web: {event}:" in line]
        assert len(said) == 1 and "(example.org)" in said[0], event


@pytest.mark.parametrize(
    ("logged", "shown"),
    [
        ("/confirm/abc.def", "/confirm/…"),
        ("/unsubscribe/abc.def/", "/unsubscribe/…"),
        ("/digest/2026-11-16/abc.def", "/digest/2026-11-16/…"),
        ("/feedback/abc.def?paper=2406.10670", "/feedback/…?…"),
        ("/archive/abc.def", "/archive/…"),
        ("/prefix/manage/abc.def", "/prefix/manage/…"),  # behind a proxy's path prefix
        ("/subscribe?email=zed@example.org", "/subscribe?…"),
        ("/healthz", "/healthz"),
        ("POST", "POST"),
    ],
)
def test_every_logged_path_loses_its_token(logged: str, shown: str) -> None:
    # As the request guard logs a failed request: method and path as arguments.
    record = logging.LogRecord("digest.serve.web_guard", logging.ERROR, __file__, 1, "%s %s failed",
                               ("GET", logged), None)  # fmt: skip

    assert HiddenTokens().filter(record) and record.getMessage() == f"GET {shown} failed"
