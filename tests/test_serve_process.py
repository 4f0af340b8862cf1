"""`digest serve` as a real process: a busy port, the log it writes, tokens kept out of it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, Site


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
