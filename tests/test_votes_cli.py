"""`digest like` and `digest dislike` through the command line, on profile files on disk."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from digest.config.profiles import load_profile

from .conftest import Site
from .test_check import assert_failed_cleanly, error_lines

Cli = Callable[..., Result]

COMMENTED = """\
# Alice's profile: keep these notes
email: alice@example.org
keywords: [pretraining]   # the main topic
like:
  - 2406.10670   # DoReMi, unquoted
dislike: [2401.00001]
"""


def test_a_like_is_added_and_comments_are_kept(site: Site, cli: Cli) -> None:
    path = site.profile("alice", COMMENTED)

    result = cli(
        "like", path, "arXiv:2305.10429v2", "https://arxiv.org/abs/2410.00002", "--config", site.config
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["like: added 2305.10429", "like: added 2410.00002"]
    assert load_profile(path).like == ("2406.10670", "2305.10429", "2410.00002")
    text = path.read_text(encoding="utf-8")
    for comment in ("# Alice's profile: keep these notes", "# the main topic", "# DoReMi, unquoted"):
        assert comment in text


def test_a_repeated_vote_changes_nothing(site: Site, cli: Cli) -> None:
    path = site.profile("alice", COMMENTED)
    before = path.read_bytes()

    result = cli("like", path, "2406.10670v3", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["like: 2406.10670 was already there"]
    assert path.read_bytes() == before


def test_a_vote_against_an_earlier_one_moves_the_paper(site: Site, cli: Cli) -> None:
    path = site.profile("alice", COMMENTED)

    disliked = cli("dislike", path, "2406.10670", "--config", site.config)
    liked = cli("like", path, "2401.00001", "--config", site.config)

    assert disliked.exit_code == liked.exit_code == 0, disliked.output + liked.output
    assert disliked.stdout.splitlines() == ["dislike: added 2406.10670 (moved from like)"]
    profile = load_profile(path)
    assert (profile.like, profile.dislike) == (("2401.00001",), ("2406.10670",))
    assert "# the main topic" in path.read_text(encoding="utf-8")


def test_a_like_for_a_profile_without_likes_starts_the_list(site: Site, cli: Cli) -> None:
    path = site.profile("bob", "email: bob@example.org\nkeywords: [robots]\n")

    result = cli("like", path, "10.1101/2026.01.02.123456", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert load_profile(path).like == ("10.1101/2026.01.02.123456",)


def test_ids_that_are_not_ids_change_nothing(site: Site, cli: Cli) -> None:
    path = site.profile("alice", COMMENTED)
    before = path.read_bytes()

    result = cli("like", path, "2305.10429", "my favourite paper", "--config", site.config)

    assert_failed_cleanly(result)
    assert error_lines(result) == [f"Error: {path}: 'my favourite paper' is not a paper id"]
    assert path.read_bytes() == before


def test_a_broken_profile_is_not_voted_into(site: Site, cli: Cli) -> None:
    path = site.profile("alice", "email: alice@example.org\nkeyword: [typo]\n")
    before = path.read_bytes()

    result = cli("like", path, "2305.10429", "--config", site.config)

    assert_failed_cleanly(result)
    assert path.read_bytes() == before
