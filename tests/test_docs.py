"""The README stays true: its quickstart, every command, every profile and config key."""

from __future__ import annotations

import re

import pytest

from digest.cli import main
from digest.config.profiles import PROFILE_KEYS
from digest.config.settings import (
    DELIVERY_KEYS,
    FETCH_KEYS,
    SCHEDULE_KEYS,
    SITE_KEYS,
    SMTP_KEYS,
    SUBSCRIPTION_KEYS,
    TOP_KEYS,
)

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quickstart_commands() -> list[str]:
    section = README.split("## Quickstart", 1)[1]
    block = re.search(r"```\w*\n(.*?)```", section, re.DOTALL)
    assert block, "the Quickstart section has no fenced code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quickstart_is_two_commands_install_and_run_then_test() -> None:
    run, test = quickstart_commands()

    assert run.startswith("pip install . && digest run --once")
    assert test.startswith("pip install '.[test]' && pytest")
    for sample in re.findall(r"--source (\S+)", run):
        assert (ROOT / sample).is_file(), f"the quickstart names a missing sample: {sample}"


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_documented_with_an_example(command: str) -> None:
    assert f"`digest {command}" in README.split("## Commands", 1)[1]
    assert "Example" in (main.commands[command].help or "")


@pytest.mark.parametrize("key", PROFILE_KEYS)
def test_every_profile_key_is_documented(key: str) -> None:
    assert f"`{key}`" in README.split("## Profiles", 1)[1]


@pytest.mark.parametrize(
    "key",
    [f"site.{k}" for k in SITE_KEYS]
    + [f"delivery.{k}" for k in DELIVERY_KEYS if k != "smtp"]
    + [f"delivery.smtp.{k}" for k in SMTP_KEYS]
    + [f"fetch.{k}" for k in FETCH_KEYS]
    + [f"subscriptions.{k}" for k in SUBSCRIPTION_KEYS]
    + [f"schedule.{k}" for k in SCHEDULE_KEYS]
    + [k for k in TOP_KEYS if k not in ("site", "sources", "delivery", "fetch", "subscriptions", "schedule")],
)
def test_every_config_key_is_documented(key: str) -> None:
    table = README.split("## Configuration", 1)[1]
    parent, _, leaf = key.rpartition(".")
    assert f"`{key}`" in table or (parent and f"`.{leaf}`" in table and f"`{parent}." in table)
