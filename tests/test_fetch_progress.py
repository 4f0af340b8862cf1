"""On a terminal, `digest fetch` names each source the moment it is fetched; piped, it does not."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ARXIV_SAMPLE, HF_SAMPLE, ROOT, Site


def fetch_command(site: Site, missing: Path, command: str = "fetch") -> list[str]:
    sources = [str(ARXIV_SAMPLE), str(HF_SAMPLE), str(missing)]
    return [sys.executable, "-m", "digest", *command.split(), "--config", str(site.config)] + [
        argument for source in sources for argument in ("--source", source)
    ]


def read_all(descriptor: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 65536)
        except OSError:  # the terminal's other end closed: everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


@pytest.mark.parametrize("command", ["fetch", "run --dry-run"])
def test_each_source_is_named_as_it_finishes_on_a_terminal(site: Site, tmp_path: Path, command: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    terminal, their_end = pty.openpty()
    process = subprocess.Popen(
        fetch_command(site, tmp_path / "gone.xml", command),
        stdout=subprocess.DEVNULL,
        stderr=their_end,
        env=env,
    )
    os.close(their_end)
    shown = read_all(terminal)
    process.wait(timeout=60)
    os.close(terminal)

    progress = sorted(line.strip() for line in shown.splitlines() if line.strip().startswith("fetched "))
    assert len(progress) == 3, shown
    assert any(line.startswith(f"fetched {ARXIV_SAMPLE.name}: ") and "papers" in line for line in progress)
    assert any(line.startswith("fetched gone.xml: failed (no such file") for line in progress)


def test_nothing_is_named_early_when_piped(site: Site, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(fetch_command(site, tmp_path / "gone.xml"), capture_output=True, text=True, env=env)

    assert "fetched " not in done.stderr
    assert f"source {ARXIV_SAMPLE.name}:" in done.stderr  # the report at the end, as always
