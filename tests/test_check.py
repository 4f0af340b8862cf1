"""`digest check` and config/profile validation, end to end through the command line.

Every problem is one `Error: <file>:<line>: <key path>: <what>` line on stderr, optionally
followed by `  Hint: …`; the command exits 1 and shows no traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from digest.config.profiles import load_profile
from digest.config.settings import load_settings
from digest.models import Profile, Settings
from digest.render.renderer import default_templates_dir

from .conftest import ALICE, Site

Cli = Callable[..., Result]


def line_of(path: Path, needle: str) -> int:
    """The 1-based number of the first line of `path` that contains `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error: ")]


def assert_failed_cleanly(result: Result) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""


def edit_config(site: Site, old: str, new: str) -> None:
    text = site.config.read_text(encoding="utf-8")
    assert old in text
    site.config.write_text(text.replace(old, new), encoding="utf-8")


# --- a valid site -------------------------------------------------------------------------


def test_check_passes_a_site(site: Site, cli: Cli) -> None:
    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines() == [f"OK: {site.config} and 1 profile(s) in {site.profiles}"]


# --- profiles -----------------------------------------------------------------------------

MINIMAL = "email: alice@example.org\nkeywords: [pretraining]\n"


def test_typo_in_a_profile_key_names_file_line_key_and_suggestion(site: Site, cli: Cli) -> None:
    path = site.profile("alice", ALICE.replace("keywords:", "keyword:"))

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert result.stderr.splitlines() == [
        f"Error: {path}:{line_of(path, 'keyword:')}: keyword: unknown key",
        "  Hint: did you mean 'keywords'?",
    ]


def test_broken_yaml_is_reported_with_file_and_line(site: Site, cli: Cli) -> None:
    path = site.profile(
        "alice", "email: alice@example.org\nkeywords: [pretraining, data selection\nname: Alice\n"
    )

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    # The parser notices the unclosed bracket where the next key starts.
    assert error_lines(result) == [f"Error: {path}:3: invalid YAML: did not find expected ',' or ']'"]


def test_missing_email_is_reported(site: Site, cli: Cli) -> None:
    path = site.profile("alice", "name: Alice\nkeywords: [pretraining]\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert result.stderr.splitlines() == [
        f"Error: {path}:1: email: missing required key",
        "  Hint: add email: you@example.org",
    ]


def test_invalid_email_is_reported_on_its_key(site: Site, cli: Cli) -> None:
    path = site.profile("alice", "keywords: [pretraining]\nemail: alice@\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {path}:2: email: invalid address 'alice@': ")


def test_invalid_address_in_a_list_is_reported_with_its_index(site: Site, cli: Cli) -> None:
    path = site.profile("alice", "email:\n  - alice@example.org\n  - bob@\nkeywords: [pretraining]\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {path}:3: email[1]: invalid address 'bob@': ")


def test_every_problem_of_one_profile_is_reported_at_once(site: Site, cli: Cli) -> None:
    path = site.profile(
        "alice",
        "email: alice@\n"
        "keyword: [pretraining]\n"
        "authors: [Percy Liang]\n"
        "max_papers: 0\n"
        "timezone: Mars/Olympus\n",
    )

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    errors = error_lines(result)
    assert len(errors) == 4, result.stderr
    assert f"Error: {path}:2: keyword: unknown key" in errors
    assert f"Error: {path}:4: max_papers: expected a whole number from 1 to 500, got 0" in errors
    assert f"Error: {path}:5: timezone: unknown time zone 'Mars/Olympus'" in errors
    assert any(e.startswith(f"Error: {path}:1: email: invalid address 'alice@'") for e in errors)


def test_problems_in_several_profiles_are_reported_together(site: Site, cli: Cli) -> None:
    alice = site.profile("alice", ALICE.replace("keywords:", "keyword:"))
    bob = site.profile("bob", "email: bob@example.org\nkeywords: [x]\nmax_papers: 0\n")
    site.profile("carol", "email: carol@example.org\nkeywords: [pretraining]\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert error_lines(result) == [
        f"Error: {alice}:3: keyword: unknown key",
        f"Error: {bob}:3: max_papers: expected a whole number from 1 to 500, got 0",
    ]


def test_unquoted_send_at_with_leading_zero_is_read_as_text_and_accepted(site: Site, cli: Cli) -> None:
    # YAML 1.1 reads 10:30 as the base-60 number 630, but a leading zero keeps 08:00 a string.
    site.profile("alice", ALICE + "send_at: 08:00\n")

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("written", "read_as"), [("10:30", "630"), ("8:00", "480")])
def test_unquoted_send_at_read_as_a_number_gets_the_quote_hint(
    site: Site, cli: Cli, written: str, read_as: str
) -> None:
    quoted = written.zfill(5)
    path = site.profile("alice", ALICE + f"send_at: {written}\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert result.stderr.splitlines() == [
        f"Error: {path}:7: send_at: YAML read this time as the number {read_as}",
        f'  Hint: quote it: "{quoted}"',
    ]


@pytest.mark.parametrize(
    ("line", "error", "hint"),
    [
        (
            "timezone: Mars/Olympus",
            "timezone: unknown time zone 'Mars/Olympus'",
            "use an IANA name such as Europe/Berlin",
        ),
        ("max_papers: 0", "max_papers: expected a whole number from 1 to 500, got 0", None),
        ("max_papers: many", "max_papers: expected a whole number from 1 to 500, got 'many'", None),
        ("send_at: '25:00'", "send_at: expected a time as HH:MM, got '25:00'", 'e.g. "08:00"'),
        ("categories: [CS CL]", "categories[0]: 'CS CL' is not an arXiv category", "e.g. cs.CL"),
        ("email: bob@example.org", "email: duplicate key", "a later value silently replaces the first"),
    ],
)
def test_a_bad_value_is_reported_on_its_line(
    site: Site, cli: Cli, line: str, error: str, hint: str | None
) -> None:
    path = site.profile("alice", MINIMAL + line + "\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    expected = [f"Error: {path}:3: {error}"] + ([f"  Hint: {hint}"] if hint else [])
    assert result.stderr.splitlines() == expected


def test_keyword_without_letters_is_reported(site: Site, cli: Cli) -> None:
    path = site.profile("alice", 'email: alice@example.org\nkeywords: ["!!!"]\n')

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert result.stderr.splitlines() == [
        f"Error: {path}:2: keywords[0]: '!!!' has no letters or digits to match"
    ]


def test_profile_with_nothing_to_match_is_reported(site: Site, cli: Cli) -> None:
    path = site.profile("alice", "email: alice@example.org\nname: Alice\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert result.stderr.splitlines() == [
        f"Error: {path}:1: keywords: nothing to match",
        "  Hint: add keywords, all_of, authors or like",
    ]


# --- site configuration -------------------------------------------------------------------


def test_unknown_top_level_key_gets_a_suggestion(site: Site, cli: Cli) -> None:
    with site.config.open("a", encoding="utf-8") as config:
        config.write("profile_dir: elsewhere\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    line = line_of(site.config, "profile_dir:")
    assert result.stderr.splitlines() == [
        f"Error: {site.config}:{line}: profile_dir: unknown key",
        "  Hint: did you mean 'profiles_dir'?",
    ]


def test_unknown_nested_key_is_reported_with_its_key_path(site: Site, cli: Cli) -> None:
    edit_config(site, "  title: Test Digest", "  titel: Test Digest")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert result.stderr.splitlines() == [
        f"Error: {site.config}:2: site.titel: unknown key",
        "  Hint: did you mean 'title'?",
    ]


def test_unknown_transport_is_reported(site: Site, cli: Cli) -> None:
    edit_config(site, "transport: outbox", "transport: pigeon")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    line = line_of(site.config, "transport:")
    assert result.stderr.splitlines() == [
        f"Error: {site.config}:{line}: delivery.transport: unknown transport 'pigeon'",
        "  Hint: use outbox or smtp",
    ]


def test_unset_environment_variable_is_reported(
    site: Site, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOME_UNSET_VAR", raising=False)
    edit_config(site, "secret: test-secret", "secret: ${SOME_UNSET_VAR}")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert result.stderr.splitlines() == [
        f"Error: {site.config}:5: site.secret: environment variable SOME_UNSET_VAR is not set",
        "  Hint: export SOME_UNSET_VAR=… before running, or write ${SOME_UNSET_VAR:-default} in the config",
    ]


def test_environment_variable_fallback_is_used_when_unset(
    site: Site, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("X", raising=False)
    edit_config(site, "secret: test-secret", "secret: ${X:-fallback}")

    assert load_settings(site.config).secret == "fallback"
    assert cli("check", "--config", site.config).exit_code == 0


def test_environment_variable_value_wins_over_its_fallback(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X", "from-the-environment")
    edit_config(site, "secret: test-secret", "secret: ${X:-fallback}")

    assert load_settings(site.config).secret == "from-the-environment"


def test_several_config_problems_are_reported_at_once(site: Site, cli: Cli) -> None:
    edit_config(site, "transport: outbox", "transport: pigeon")
    edit_config(site, "state_dir:", "stat_dir:")
    edit_config(site, "base_url: https://digest.example.net", "base_url: digest.example.net")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    errors = error_lines(result)
    assert len(errors) == 3, result.stderr
    assert {e.split(": ")[2] for e in errors} == {"delivery.transport", "stat_dir", "site.base_url"}


def test_config_and_profile_problems_are_reported_in_one_check(site: Site, cli: Cli) -> None:
    # The SPEC asks `digest check` for every problem at once; the profiles folder is still
    # known when an unrelated config key is wrong.
    edit_config(site, "transport: outbox", "transport: pigeon")
    alice = site.profile("alice", ALICE.replace("keywords:", "keyword:"))

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    line = line_of(site.config, "transport:")
    assert error_lines(result) == [
        f"Error: {site.config}:{line}: delivery.transport: unknown transport 'pigeon'",
        f"Error: {alice}:3: keyword: unknown key",
    ]


def test_missing_config_file_is_a_clear_error_with_a_hint(site: Site, cli: Cli) -> None:
    missing = site.root / "nowhere" / "digest.yaml"

    result = cli("check", "--config", missing)

    assert_failed_cleanly(result)
    assert result.stderr.splitlines() == [
        f"Error: {missing}: config file not found",
        "  Hint: pass --config FILE, or run from the project folder",
    ]


def test_relative_paths_are_resolved_against_the_config_file(
    site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    edit_config(site, "profiles_dir: profiles", "profiles_dir: profiles\ntemplates: ../look")
    edit_config(site, "  - name: hf\n", "  - name: local\n    url: ../feeds/x.xml\n  - name: hf\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    settings = load_settings(site.config)

    folder = site.config.parent
    assert settings.state_dir == folder / "var"
    assert settings.profiles_dir == site.profiles == folder / "profiles"
    assert settings.templates_dir == site.root / "look"
    local = next(s for s in settings.sources if s.name == "local")
    assert local.location == str((site.root / "feeds" / "x.xml").resolve())


def test_check_finds_profiles_relative_to_a_relative_config_path(
    site: Site, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.profile("bob", "email: bob@example.org\nkeywords: [x]\n")
    monkeypatch.chdir(site.root)

    result = cli("check", "--config", "config/digest.yaml")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["OK: config/digest.yaml and 2 profile(s) in config/profiles"]


# --- run --once with a broken profile -----------------------------------------------------

BROKEN_BOB = "email: bob@example.org\nkeywords: [pretraining]\nmax_papers: 0\n"


def test_run_delivers_good_profiles_and_skips_a_broken_one(site: Site, cli: Cli) -> None:
    bob = site.profile("bob", BROKEN_BOB)

    result = cli("run", "--once", "--config", site.config, "--date", "2026-01-05")

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert error_lines(result) == [
        f"Error: {bob}:3: max_papers: expected a whole number from 1 to 500, got 0 (profile skipped)"
    ]
    delivered = sorted(p.name for p in site.outbox.rglob("*.eml"))
    assert delivered == ["alice@example.org.eml"]
    assert (site.outbox / "2026-01-05" / "alice@example.org.eml").is_file()


def test_run_strict_exits_1_for_a_broken_profile_but_still_delivers(site: Site, cli: Cli) -> None:
    bob = site.profile("bob", BROKEN_BOB)

    result = cli("run", "--once", "--strict", "--config", site.config, "--date", "2026-01-05")

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert any(line.startswith(f"Error: {bob}:3: ") for line in error_lines(result))
    assert "(profile skipped)" in result.stderr
    assert (site.outbox / "2026-01-05" / "alice@example.org.eml").is_file()


# --- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["fetch", "match", "preview", "run", "check"])
def test_help_of_every_command_shows_an_example(cli: Cli, command: str) -> None:
    result = cli(command, "--help")

    assert result.exit_code == 0
    assert "Example" in result.stdout


def test_every_documented_profile_key_is_accepted(site: Site, cli: Cli) -> None:
    site.profile(
        "full",
        "email: [f@example.org]\nname: F\nkeywords: [a]\nall_of: [b]\nexclude: [c]\nauthors: [D E]\n"
        "categories: [cs.CL]\nmax_papers: 5\ntimezone: Europe/Berlin\nsend_at: '08:00'\n"
        "frequency: weekly\nweekday: friday\nnote: hi\n",
    )

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.stderr


# --- operator templates and the fast paths --------------------------------------------------


def own_templates(site: Site, name: str, old: str, new: str) -> Path:
    """An operator's templates folder holding one shipped template, edited."""
    shipped = (default_templates_dir() / name).read_text(encoding="utf-8")
    assert old in shipped
    folder = site.root / "look"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(shipped.replace(old, new), encoding="utf-8")
    edit_config(site, "profiles_dir: profiles", "profiles_dir: profiles\ntemplates: ../look")
    return folder / name


def test_check_says_nothing_of_templates_that_keep_the_fast_paths(site: Site, cli: Cli) -> None:
    own_templates(site, "paper.txt.j2", "Why:", "Because:")

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("name", "old", "new", "reason"),
    [
        ("paper.txt.j2", "{{ number }}.", "{{ number + 1 }}.", "text blocks rendered for each subscriber"),
        (
            "paper.html.j2",
            "{{ marked(item.title) }}</a>",
            "{{ marked(item.title) | upper }}</a>",
            "premailer",
        ),
        ("paper.html.j2", '{{ vote }}?vote=like"', '{{ vote | upper }}?vote=like"', "premailer"),
        ("paper.txt.j2", "{{ vote }}?vote=like", "{{ vote | upper }}?vote=like", "changed, not printed"),
    ],
)
def test_check_warns_of_a_template_that_turns_a_fast_path_off(
    site: Site, cli: Cli, name: str, old: str, new: str, reason: str
) -> None:
    template = own_templates(site, name, old, new)

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output  # a slower edition, not a broken one
    warning = next(line for line in result.stderr.splitlines() if line.startswith("Warning: "))
    assert warning.startswith(f"Warning: {template}: fast path off: ")
    assert reason in warning
    assert "The email and its templates" in result.stderr


# --- defaults: one source ------------------------------------------------------------------


def test_a_config_that_leaves_every_option_out_gets_the_models_defaults(tmp_path: Path) -> None:
    config = tmp_path / "digest.yaml"
    config.write_text("site:\n  sender: digest@example.org\n", encoding="utf-8")

    settings = load_settings(config)

    # Built with only what the file said: every other field is the dataclass's own default.
    assert settings == Settings(
        path=config,
        sender="digest@example.org",
        state_dir=tmp_path / "var",
        profiles_dir=tmp_path / "profiles",
    )


def test_a_profile_that_leaves_max_papers_out_gets_the_models_default(site: Site) -> None:
    profile = load_profile(site.profiles / "alice.yaml")

    assert profile.max_papers == Profile(profile.file, emails=profile.emails).max_papers
