"""The README stays true: its quickstart, every command, every profile and config key."""

from __future__ import annotations

import re

import pytest
import yaml

from digest.cli import main
from digest.config.options import OPTIONS, Option
from digest.config.profiles import PROFILE_KEYS

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


def configuration_table() -> dict[str, str]:
    """Each key the README's configuration table documents, with its default cell; `.port`
    after `delivery.smtp.host` stands for `delivery.smtp.port`."""
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = section.split("| key | default | meaning |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for row in table.splitlines()[2:]:
        cells, parent = row.split("|"), ""
        for key in re.findall(r"`([^`]+)`", cells[1]):
            key = parent + key if key.startswith(".") else key
            parent = key.rpartition(".")[0]
            rows[key] = cells[2]
    return rows


def configuration_table_keys() -> list[str]:
    return list(configuration_table())


def as_written(value: object) -> str:
    """A default as the README writes it: 60.0 → 60, False → false."""
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


@pytest.mark.parametrize(
    "option", [o for o in OPTIONS if o.default not in (None, ())], ids=lambda option: option.key
)
def test_the_readme_gives_each_option_its_default(option: Option) -> None:
    assert as_written(option.default) in configuration_table()[option.key]


@pytest.mark.parametrize("key", [option.key for option in OPTIONS])
def test_every_config_option_is_documented(key: str) -> None:
    assert key in configuration_table_keys()


@pytest.mark.parametrize("key", configuration_table_keys())
def test_every_documented_config_key_is_an_option(key: str) -> None:
    assert key in [option.key for option in OPTIONS]


def command_table_rows() -> dict[str, str]:
    """The README's command table: each command's name, and its row's first cell (the usage)."""
    section = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for usage in re.findall(r"^\| `digest ([^`]+)`", section, re.MULTILINE):
        rows[usage.split()[0]] = usage
    return rows


@pytest.mark.parametrize("command", sorted(main.commands))
def test_the_command_table_lists_every_flag(command: str) -> None:
    usage = command_table_rows().get(command)
    assert usage is not None, f"digest {command} has no row in the README's command table"
    flags = {
        name
        for parameter in main.commands[command].params
        for name in parameter.opts
        if name.startswith("--") and name != "--config"  # --config: said once, for every command
    }
    missing = sorted(flag for flag in flags if not re.search(rf"{flag}\b(?!-)", usage))
    assert not missing, f"digest {command}: the README's command table lacks {missing}"


def yaml_blocks() -> list[tuple[int, str]]:
    """Each ```yaml block of the README, with the line its text starts on."""
    return [
        (README.count("\n", 0, found.start(1)) + 1, found.group(1))
        for found in re.finditer(r"^```ya?ml\n(.*?)^```", README, re.DOTALL | re.MULTILINE)
    ]


def test_the_readme_has_yaml_examples() -> None:
    assert len(yaml_blocks()) >= 3


@pytest.mark.parametrize(("line", "block"), yaml_blocks(), ids=lambda value: str(value)[:20])
def test_every_yaml_example_in_the_readme_parses(line: int, block: str) -> None:
    try:
        yaml.safe_load(block)
    except yaml.YAMLError as error:
        pytest.fail(f"README.md:{line}: the YAML example does not parse: {error}")
