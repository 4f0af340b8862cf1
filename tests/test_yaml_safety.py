"""Hostile YAML in a profile or the config is one ConfigError of that file alone, with its line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from digest.config import yamlfile
from digest.config.profiles import load_profile, load_profiles
from digest.config.settings import load_settings
from digest.errors import ConfigError

from .conftest import ALICE, Site

Cli = Callable[..., Result]

# 360 bytes that expand to 10^9 strings when aliases are followed.
ALIAS_BOMB = (
    "email: bomb@example.org\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    + "keywords: *i\n"
)

HOSTILE_PROFILES = {
    "alias": ("email: x@example.org\nkeywords: &k [nitric oxide]\nexclude: *k\n", 3, "aliases"),
    "merge key": ("email: x@example.org\nkeywords: [a]\n<<: {note: hi}\n", 3, "merge keys"),
    "timestamp tag": ("email: x@example.org\nkeywords: [!!timestamp nitric]\n", 2, "tags"),
    "float tag": ("email: x@example.org\nkeywords: [a]\nmax_papers: !!float '1'\n", 3, "tags"),
    "key tag": ("email: x@example.org\n!!timestamp keywords: [a]\n", 2, "tags"),
    "str tag": ("email: x@example.org\nkeywords: [!!str 18:30]\n", 2, "tags"),
    "set tag": ("email: x@example.org\nkeywords: !!set {a: null}\n", 2, "tags"),
    "python tag": ("email: x@example.org\nkeywords: !!python/object:os.system [a]\n", 2, "tag"),
    "deep": ("email: x@example.org\nkeywords: " + "[" * 1000 + "]" * 1000 + "\n", 2, "nesting"),
    "nested": ("email: x@example.org\nkeywords: " + "[" * 30 + "]" * 30 + "\n", 2, "nested deeper"),
    "bad date": ("email: x@example.org\nkeywords: [a]\nnote: 2024-13-45\n", 3, "invalid value"),
    "huge number": ("email: x@example.org\nkeywords: [a]\nmax_papers: " + "9" * 5000 + "\n", 3, "invalid"),
    "long zone": ("email: x@example.org\nkeywords: [a]\ntimezone: " + "Z" * 300 + "\n", 3, "time zone"),
    "nul": ('email: x@example.org\nkeywords: ["a\\0b"]\n', 2, "control character"),
    "date keyword": ("email: x@example.org\nkeywords: [2024-01-01]\n", 2, "expected text"),
    "not utf-8": ("email: x@example.org\nkeywords: [caf\udce9]\n", None, "cannot read"),
}


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


@pytest.mark.parametrize("text, line, what", HOSTILE_PROFILES.values(), ids=list(HOSTILE_PROFILES))
def test_a_hostile_profile_is_one_config_error_with_its_line(
    tmp_path: Path, text: str, line: int | None, what: str
) -> None:
    path = write(tmp_path / "hostile.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    first = caught.value.problems[0]
    assert (first.file, first.line) == (path, line), str(caught.value)
    assert what in str(caught.value)


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.yaml", ALIAS_BOMB)
    assert len(ALIAS_BOMB) < 420
    with pytest.raises(ConfigError, match="aliases are not allowed"):
        load_profile(path)


def test_an_oversized_profile_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path / "big.yaml", "email: x@example.org\nkeywords: [a]\nnote: " + "x" * 1_100_000)
    with pytest.raises(ConfigError, match="larger than"):
        load_profile(path)


def test_the_limits_do_not_refuse_a_normal_profile(tmp_path: Path) -> None:
    text = "email: x@example.org\nkeywords:\n  - a\n# a comment: &x *x\nnote: '&x *x !!str'\n"
    assert load_profile(write(tmp_path / "ok.yaml", text)).note == "&x *x !!str"


def test_one_hostile_profile_leaves_the_others_loaded(tmp_path: Path) -> None:
    write(tmp_path / "alice.yaml", ALICE)
    for name, (text, _, _) in HOSTILE_PROFILES.items():
        write(tmp_path / f"{name.replace(' ', '-')}.yaml", text)
    write(tmp_path / "bomb.yaml", ALIAS_BOMB)
    profiles, errors = load_profiles(tmp_path)
    assert [p.emails for p in profiles] == [("alice@example.org",)]
    assert len(errors) == len(HOSTILE_PROFILES) + 1


def test_check_names_the_hostile_profile_and_goes_on(site: Site, cli: Cli) -> None:
    site.profile("alice", ALICE)
    bomb = site.profile("bomb", ALIAS_BOMB)
    deep = site.profile("deep", HOSTILE_PROFILES["deep"][0])
    result = cli("check", "--config", site.config)
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert [e.split(":")[1].strip() for e in errors] == [str(bomb), str(deep)]


@pytest.mark.parametrize(
    "text, what",
    [
        ("site: &s {title: x}\nsources: *s\n", "aliases"),
        ("site:\n  sender: a@example.org\n  title: !!binary aGk=\n", "tags"),
        ('site:\n  sender: a@example.org\nsources:\n  - {name: n, url: "f/a\\0b"}\n', "control character"),
        ("site:\n  sender: a@example.org\n  timezone: " + "Z" * 300 + "\n", "time zone"),
        ("site:\n  sender: a@example.org\nstate_dir: ~nobody-at-all/x\n", "state_dir"),
        ("site:\n  sender: a@example.org\nsources:\n  - {name: n, url: ~nobody-at-all/x}\n", "url"),
        ("site:\n  sender: a@example.org\nfetch: {deadline: 2024-01-01}\n", "whole number"),
        ("site: {sender: a@x.org}\ndelivery:\n  smtp: {host: h, ca_file: " + "x" * 300 + "}\n", "no such"),
    ],
)
def test_a_hostile_config_is_one_config_error(tmp_path: Path, text: str, what: str) -> None:
    path = write(tmp_path / "digest.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert what in str(caught.value)
    assert all(p.file == path for p in caught.value.problems)


def test_the_size_limit_is_a_parameter_of_loading(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", "a: 1\n")
    with pytest.raises(ConfigError, match="larger than 4 bytes"):
        yamlfile.load(path, max_bytes=4)


def test_a_run_with_hostile_profiles_delivers_to_everyone_else(site: Site, cli: Cli) -> None:
    site.profile("bob", "email: bob@example.org\nkeywords: [language model, 'NO']\n")
    bomb = site.profile("bomb", ALIAS_BOMB)
    tagged = site.profile("tagged", HOSTILE_PROFILES["timestamp tag"][0])
    result = cli("run", "--once", "--config", site.config, "--date", "2026-11-16")
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert sorted(p.name for p in (site.outbox / "2026-11-16").iterdir()) == [
        "alice@example.org.eml",
        "bob@example.org.eml",
    ]
    skipped = [line for line in result.stderr.splitlines() if "(profile skipped)" in line]
    assert [line.split(":")[1].strip() for line in skipped] == [str(bomb), str(tagged)]
