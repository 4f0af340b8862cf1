"""What `digest check` used to pass although it hurt later: each is now a clear error or warning."""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Callable

import pytest
from click.testing import Result

from .conftest import ALICE, Site

Cli = Callable[..., Result]

MINIMAL = "email: alice@example.org\nkeywords: [pretraining]\n"


def errors_of(result: Result) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.stderr.splitlines()


# --- send_at and timezone -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "hint"), [("7:30", 'quote it: "07:30"'), ("'7:30'", 'write it as "07:30"')]
)
def test_send_at_without_a_leading_zero_is_shown_as_it_should_be_written(
    site: Site, cli: Cli, written: str, hint: str
) -> None:
    path = site.profile("alice", MINIMAL + f"send_at: {written}\n")

    lines = errors_of(cli("check", "--config", site.config))

    assert lines[0].startswith(f"Error: {path}:3: send_at: ")
    assert lines[1:] == [f"  Hint: {hint}"]


def test_site_send_at_read_as_a_number_is_shown_as_it_should_be_written(site: Site, cli: Cli) -> None:
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(text + "schedule:\n  send_at: 7:30\n", encoding="utf-8")

    lines = errors_of(cli("check", "--config", site.config))

    assert lines[0].endswith("schedule.send_at: YAML read this time as the number 450")
    assert lines[1:] == ['  Hint: quote it: "07:30"']


def test_a_time_zone_typo_gets_the_closest_zone_name(site: Site, cli: Cli) -> None:
    path = site.profile("alice", MINIMAL + "timezone: Europe/Berln\n")

    lines = errors_of(cli("check", "--config", site.config))

    assert lines == [
        f"Error: {path}:3: timezone: unknown time zone 'Europe/Berln'",
        "  Hint: did you mean Europe/Berlin?",
    ]


# --- profile file names -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".YAML", ".yml", ".Yml"])
def test_profiles_with_any_case_of_yaml_suffix_are_read(site: Site, cli: Cli, suffix: str) -> None:
    broken = site.profiles / f"bob{suffix}"
    broken.write_text("email: bob@example.org\nkeyword: [x]\n", encoding="utf-8")

    lines = errors_of(cli("check", "--config", site.config))

    assert lines[0] == f"Error: {broken}:2: keyword: unknown key"


# --- categories ---------------------------------------------------------------------------


def test_the_category_taxonomy_ships_with_the_package() -> None:
    text = (importlib.resources.files("digest.config") / "arxiv_categories.txt").read_text("utf-8")
    codes = [line for line in text.splitlines() if line and not line.startswith("#")]

    assert {"cs.CL", "math.AG", "q-bio.GN", "astro-ph.CO", "hep-th", "quant-ph"} <= set(codes)
    assert 150 <= len(codes) <= 170


@pytest.mark.parametrize(
    ("category", "hint"),
    [("cs.CLL", "did you mean cs.CL?"), ("foo.bar", None), ("hep-thh", "did you mean hep-th?")],
)
def test_an_unknown_arxiv_category_is_reported(site: Site, cli: Cli, category: str, hint: str) -> None:
    path = site.profile("alice", MINIMAL + f"categories: [cs.LG, {category}]\n")

    lines = errors_of(cli("check", "--config", site.config))

    assert lines[0] == f"Error: {path}:3: categories[1]: unknown arXiv category '{category}'"
    assert lines[1] == f"  Hint: {hint or 'see the arXiv category taxonomy, e.g. cs.CL'}"


def test_known_categories_pass_in_any_case(site: Site, cli: Cli) -> None:
    site.profile("alice", MINIMAL + "categories: [cs.CL, CS.lg, math.AG, q-bio.GN, hep-th, quant-ph]\n")

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output


# --- YAML layout --------------------------------------------------------------------------


def test_each_tab_indented_line_is_one_error_with_a_hint(site: Site, cli: Cli) -> None:
    path = site.profile("alice", "email: alice@example.org\nkeywords:\n\t- pretraining\n\t- data\n")

    lines = errors_of(cli("check", "--config", site.config))

    hint = "  Hint: indent with spaces: YAML does not allow tabs for indentation"
    assert lines == [
        f"Error: {path}:3: a tab indents this line",
        hint,
        f"Error: {path}:4: a tab indents this line",
        hint,
    ]


def test_a_misaligned_key_gets_an_indentation_hint(site: Site, cli: Cli) -> None:
    path = site.profile("alice", "email: alice@example.org\nkeywords:\n  - pretraining\n   max_papers: 5\n")

    lines = errors_of(cli("check", "--config", site.config))

    assert len(lines) == 2
    assert lines[0].startswith(f"Error: {path}:4: invalid YAML: ")
    assert lines[1].startswith("  Hint: check the indentation")


def test_a_valid_site_still_passes(site: Site, cli: Cli) -> None:
    site.profile("alice", ALICE)

    assert cli("check", "--config", site.config).exit_code == 0


# --- folders the service writes to ----------------------------------------------------------


@pytest.mark.parametrize("key", ["profiles_dir", "state_dir"])
def test_a_folder_that_cannot_be_written_is_reported(site: Site, cli: Cli, key: str) -> None:
    # Tests run as root, who may write anywhere: a folder whose parent is a regular file cannot be
    # made by anyone, so it stands in for the read-only bind mount an operator meets.
    (site.config.parent / "blocker").write_text("not a folder\n", encoding="utf-8")
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(text.replace(f"{key}: ", f"{key}: blocker/"), encoding="utf-8")
    line = next(n for n, t in enumerate(site.config.read_text().splitlines(), 1) if t.startswith(key))

    lines = errors_of(cli("check", "--config", site.config))

    folder = site.config.parent / "blocker" / ("profiles" if key == "profiles_dir" else "var")
    assert lines[0] == (
        f"Error: {site.config}:{line}: {key}: {folder} cannot be written: "
        f"{site.config.parent / 'blocker'} is a file, not a folder"
    )
    assert lines[1].startswith("  Hint: ")


def test_writable_folders_that_do_not_exist_yet_pass(site: Site, cli: Cli) -> None:
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(text.replace("state_dir: var", "state_dir: new/var"), encoding="utf-8")

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert not (site.config.parent / "new").exists()  # check looks; it creates nothing


# --- one address, two profiles ------------------------------------------------------------


def test_an_address_listed_by_two_profiles_names_both_places(site: Site, cli: Cli) -> None:
    first = site.profile("alice", ALICE)
    second = site.profile("group", "name: Group\nemail: [bob@example.org, Alice@Example.org]\nauthors: [X]\n")

    lines = errors_of(cli("check", "--config", site.config))

    assert lines[0] == (f"Error: {second}:2: email[1]: alice@example.org is also listed by {first}:1")
    assert lines[1] == (
        "  Hint: an address is mailed by its first profile only, so the other's keywords and authors"
        " are lost: keep the address in one file"
    )


# --- keywords too short to mean anything ----------------------------------------------------


SHORT = "email: alice@example.org\nkeywords: [a, zq, pretraining]\n"


def test_a_short_keyword_that_matches_most_of_the_archive_is_warned_of(site: Site, cli: Cli) -> None:
    assert cli("fetch", "--config", site.config).exit_code == 0  # fills the archive
    path = site.profile("alice", SHORT)

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 1, result.stderr
    found = re.fullmatch(
        rf"Warning: {re.escape(str(path))}:2: keywords\[0\]: 'a' matches (\d+)% of the (\d+) archived papers",
        warnings[0],
    )
    assert found, warnings
    assert int(found.group(1)) >= 50 and int(found.group(2)) > 10


def test_a_short_keyword_is_warned_of_when_no_archive_can_measure_it(site: Site, cli: Cli) -> None:
    path = site.profile("alice", SHORT)

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert f"Warning: {path}:2: keywords[0]: 'a' has one or two characters" in result.stderr
    assert "'zq'" in result.stderr  # unmeasured, so it is named too
    assert not (site.config.parent / "var").exists()  # check creates no state database


def test_a_tab_inside_a_block_of_text_does_not_hide_the_real_error(site: Site, cli: Cli) -> None:
    path = site.profile("alice", "email: alice@example.org\nnote: |\n  a\n  \tb\nkeywords: [x\n")

    lines = errors_of(cli("check", "--config", site.config))

    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}:")
    assert "a tab indents" not in lines[0]
