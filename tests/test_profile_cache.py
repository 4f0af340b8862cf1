"""Profiles cached between runs: unchanged files are not parsed again, changed ones always are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from digest.config import profiles
from digest.config.profiles import load_profiles
from digest.models import Profile


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the profile files actually parsed, in order (the real parser still runs)."""
    names: list[str] = []
    parse = profiles.load_profile

    def counting(path: Path) -> Profile:
        names.append(path.name)
        return parse(path)

    monkeypatch.setattr(profiles, "load_profile", counting)
    return names


def write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(body, "utf-8")
    return path


def test_unchanged_profiles_come_from_the_cache(tmp_path: Path, parsed: list[str]) -> None:
    folder, cache = tmp_path / "profiles", tmp_path / "var" / "profile-cache.json"
    write(folder, "ada.yaml", "email: ada@example.org\nkeywords: [graph neural networks]\nmax_papers: 5\n")
    write(folder, "bo.yaml", "email: [bo@example.org, lab@example.org]\nauthors: [Hinton]\nnote: '*hi*'\n")
    first, _ = load_profiles(folder, cache)
    second, errors = load_profiles(folder, cache)
    assert parsed == ["ada.yaml", "bo.yaml"]  # the second call parsed nothing
    assert second == first and not errors
    assert second[1].emails == ("bo@example.org", "lab@example.org") and second[0].max_papers == 5


def test_an_edited_or_removed_profile_is_read_again(tmp_path: Path, parsed: list[str]) -> None:
    folder, cache = tmp_path / "profiles", tmp_path / "profile-cache.json"
    ada = write(folder, "ada.yaml", "email: ada@example.org\nkeywords: [graphs]\n")
    bo = write(folder, "bo.yaml", "email: bo@example.org\nkeywords: [robots]\n")
    load_profiles(folder, cache)
    ada.write_text("email: ada@example.org\nkeywords: [graph neural networks]\n", "utf-8")
    bo.unlink()
    loaded, _ = load_profiles(folder, cache)
    assert [p.keywords for p in loaded] == [("graph neural networks",)]
    assert parsed == ["ada.yaml", "bo.yaml", "ada.yaml"]


def test_a_broken_profile_is_reported_on_every_load(tmp_path: Path) -> None:
    folder, cache = tmp_path / "profiles", tmp_path / "profile-cache.json"
    write(folder, "ok.yaml", "email: ok@example.org\nkeywords: [graphs]\n")
    write(folder, "typo.yaml", "email: typo@example.org\nkeywords: [graphs]\nmax_paper: 3\n")
    for _ in range(2):
        loaded, errors = load_profiles(folder, cache)
        assert [p.path.name for p in loaded] == ["ok.yaml"]
        assert len(errors) == 1 and "typo.yaml:3" in str(errors[0]) and "max_paper" in str(errors[0])


@pytest.mark.parametrize("content", ["{not json", '{"version": "0.0.0", "profiles": []}', '{"profiles": 3}'])
def test_a_damaged_or_old_cache_is_ignored(tmp_path: Path, parsed: list[str], content: str) -> None:
    folder, cache = tmp_path / "profiles", tmp_path / "profile-cache.json"
    write(folder, "ada.yaml", "email: ada@example.org\nkeywords: [graphs]\n")
    cache.write_text(content, "utf-8")
    loaded, _ = load_profiles(folder, cache)
    assert [p.emails for p in loaded] == [("ada@example.org",)]
    load_profiles(folder, cache)
    assert parsed == ["ada.yaml"]  # read once, then cached again
    assert content != cache.read_text("utf-8")


CACHE_ON_A_FULL_DISK = """\
import resource, signal, sys
from pathlib import Path
from digest.config.profiles import load_profiles
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))
profiles, errors = load_profiles(Path(sys.argv[1]), Path(sys.argv[2]))
print(len(profiles), len(errors))
"""


def test_a_cache_that_cannot_be_written_leaves_no_temporary_file(tmp_path: Path) -> None:
    folder, state = tmp_path / "profiles", tmp_path / "var"
    write(folder, "ada.yaml", "email: ada@example.org\nkeywords: [graph neural networks]\n")
    state.mkdir()
    command = [sys.executable, "-c", CACHE_ON_A_FULL_DISK, str(folder), str(state / "profile-cache.json")]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["1", "0"]  # the profiles load; only the cache is lost
    assert "not written" in result.stderr
    assert list(state.iterdir()) == []
