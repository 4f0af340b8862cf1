"""`digest preview` says why a profile that matches shows nothing, and when no browser opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, Site

ALICE = "alice@example.org"


def test_preview_says_how_many_matched_papers_were_already_sent(site: Site, cli, tmp_path: Path) -> None:
    assert cli("run", "--config", site.config, "--date", "2026-11-16").exit_code == 0
    args = ("preview", site.profiles / "alice.yaml", "--config", site.config, "--out", tmp_path / "out")

    after_the_run = cli(*args, "--date", "2026-11-17")
    anyway = cli(*args, "--date", "2026-11-17", "--include-sent")

    assert after_the_run.exit_code == 0, after_the_run.stderr
    assert f"0 papers matched (0 shown) for {ALICE}" in after_the_run.stderr
    assert f"8 matched papers were already sent to {ALICE}" in after_the_run.stderr
    assert "--include-sent" in after_the_run.stderr
    assert f"8 papers matched (8 shown) for {ALICE}" in anyway.stderr
    assert "already sent" not in anyway.stderr


def test_a_first_preview_mentions_nothing_already_sent(site: Site, cli, tmp_path: Path) -> None:
    result = cli("preview", site.profiles / "alice.yaml", "--config", site.config, "--out", tmp_path)

    assert result.exit_code == 0, result.stderr
    assert "already sent" not in result.stderr


def test_open_says_when_no_browser_is_found(site: Site, tmp_path: Path) -> None:
    nothing_on_path = tmp_path / "bin"
    nothing_on_path.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = str(nothing_on_path)  # no browser of any kind can be found
    command = [sys.executable, "-m", "digest", "preview", str(site.profiles / "alice.yaml")]
    options = ["--config", str(site.config), "--out", str(tmp_path / "out"), "--open"]

    done = subprocess.run(command + options, cwd=ROOT, env=env, capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert "no web browser found to open" in done.stderr
    assert str(tmp_path / "out" / "alice.html") in done.stderr
