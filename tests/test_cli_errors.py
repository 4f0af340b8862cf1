"""Errors become `Error: …` in one place, the group, for every command without a decorator of its own."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from typing import Any

import click
from click.testing import CliRunner

from digest.cli.main import DigestGroup
from digest.errors import DigestError

from .conftest import Site


def _group_raising(error: BaseException) -> click.Group:
    @click.group(cls=DigestGroup)
    def group() -> None:
        pass

    @group.command()
    def broken() -> None:
        raise error

    return group


def test_a_digest_error_in_any_command_is_one_error_line_and_status_1() -> None:
    result = CliRunner().invoke(_group_raising(DigestError("the feed is gone", "check the URL")), ["broken"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["Error: the feed is gone", "  Hint: check the URL"]
    assert "Traceback" not in result.output


def test_a_database_error_names_the_state_database() -> None:
    result = CliRunner().invoke(_group_raising(sqlite3.DatabaseError("disk I/O error")), ["broken"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: state database: disk I/O error\n")


def test_a_bug_keeps_its_traceback() -> None:
    result = CliRunner().invoke(_group_raising(KeyError("bug")), ["broken"])
    assert isinstance(result.exception, KeyError)


def test_python_dash_m_digest_lists_every_command() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "digest", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("check", "confirm", "fetch", "init-state", "match", "preview", "run", "serve",
                    "subscribe", "suppressions", "unsubscribe"):  # fmt: skip
        assert f"  {command} " in listed


def test_an_impossible_date_is_not_a_date(site: Site, cli: Any) -> None:
    for value, why in (
        ("2026-13-01", "month must be in 1..12"),
        ("2026-02-30", "day is out of range for month"),
    ):
        result = cli("run", "--dry-run", "--config", site.config, "--date", value)

        assert result.exit_code == 2  # a usage error, like every bad option
        assert f"'{value}' is not a date ({why}); write YYYY-MM-DD" in result.stderr
    wrong_shape = cli(
        "preview", site.profiles / "alice.yaml", "--config", site.config, "--date", "16.11.2026"
    )
    assert "'16.11.2026' is not a date; write YYYY-MM-DD" in wrong_shape.stderr


def _broken_with_colour(env: dict[str, str]) -> str:
    group = _group_raising(DigestError("the feed is gone"))
    return CliRunner().invoke(group, ["broken"], color=True, env=env).stderr  # as on a colour terminal


def test_errors_are_coloured_unless_no_color_is_set() -> None:
    assert "\x1b[" in _broken_with_colour({"NO_COLOR": ""})  # empty: not set, by the convention
    assert _broken_with_colour({"NO_COLOR": "1"}) == "Error: the feed is gone\n"
