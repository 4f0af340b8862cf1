"""A profile's `like:`, `dislike:` and `similarity:` keys: read, normalized and checked like every key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from digest.config.liked_papers import MAX_VOTES
from digest.config.profiles import load_profile, load_profiles
from digest.models import paper_id_of

from .conftest import Site
from .test_check import assert_failed_cleanly, error_lines, line_of

Cli = Callable[..., Result]


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("2406.10670", "2406.10670"),
        ("2406.10670v3", "2406.10670"),
        ("arXiv:2305.10429v2", "2305.10429"),
        ("https://arxiv.org/abs/2305.10429v2", "2305.10429"),
        ("https://arxiv.org/pdf/2305.10429v1.pdf", "2305.10429"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("10.1101/2026.01.02.123456", "10.1101/2026.01.02.123456"),
        ("https://doi.org/10.1101/2026.01.02.ABC", "10.1101/2026.01.02.abc"),
        ("doi:10.1038/s41586-021-03819-2", "10.1038/s41586-021-03819-2"),
        ("https://doi.org/10.48550/arXiv.2406.10670", "2406.10670"),  # arXiv's DOI names the arXiv paper
    ],
)
def test_paper_ids_are_normalized_as_sources_name_papers(written: str, canonical: str) -> None:
    assert paper_id_of(written) == canonical


@pytest.mark.parametrize(
    "written", ["", "pretraining", "2406", "arXiv:", "https://example.org/abs/2406.10670"]
)
def test_text_that_is_no_paper_id_is_none(written: str) -> None:
    assert paper_id_of(written) is None


def test_a_profile_with_likes_and_no_keywords_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    # Unquoted, YAML reads 2406.10670 as the float 2406.1067: the id must keep its last digit.
    path.write_text(
        "email: a@example.org\n"
        'like: [2406.10670, "arXiv:2305.10429v2", "10.1101/2026.01.02.123456", 2406.10670v2]\n'
        "dislike: [2401.00001]\nsimilarity: loose\n",
        encoding="utf-8",
    )

    profile = load_profile(path)

    assert profile.keywords == ()
    assert profile.like == ("2406.10670", "2305.10429", "10.1101/2026.01.02.123456")
    assert profile.dislike == ("2401.00001",)
    assert profile.similarity == "loose"


def test_bad_ids_are_each_reported_with_file_line_and_field(site: Site, cli: Cli) -> None:
    path = site.profile(
        "alice", "email: alice@example.org\nlike:\n  - 2406.10670\n  - my favourite paper\n  - 12\n"
    )

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert error_lines(result) == [
        f"Error: {path}:4: like[1]: 'my favourite paper' is not a paper id",
        f"Error: {path}:5: like[2]: '12' is not a paper id",
    ]


def test_a_paper_both_liked_and_disliked_names_both_lines(site: Site, cli: Cli) -> None:
    text = (
        "email: alice@example.org\nkeywords: [x]\nlike: [2406.10670]\n"
        "dislike:\n  - 2401.00001\n  - arXiv:2406.10670v1\n"
    )
    path = site.profile("alice", text)

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert error_lines(result) == [
        f"Error: {path}:{line_of(path, 'arXiv:2406')}: dislike[1]: 2406.10670 is also in like (line 3)"
    ]


def test_a_like_list_over_the_limit_is_one_problem(site: Site, cli: Cli) -> None:
    ids = ", ".join(f'"2401.{n:05d}"' for n in range(MAX_VOTES + 1))
    path = site.profile("alice", f"email: alice@example.org\nkeywords: [x]\nlike: [{ids}]\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert error_lines(result) == [f"Error: {path}:3: like: {MAX_VOTES + 1} entries, at most {MAX_VOTES}"]


def test_an_unknown_similarity_is_a_problem(site: Site, cli: Cli) -> None:
    path = site.profile("alice", "email: alice@example.org\nlike: [2406.10670]\nsimilarity: lenient\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert error_lines(result) == [
        f"Error: {path}:3: similarity: 'lenient' is not one of: strict, normal, loose"
    ]


def test_a_broken_like_list_leaves_other_profiles_valid(site: Site, tmp_path: Path) -> None:
    site.profile("bob", "email: bob@example.org\nlike: {a: 1}\n")

    profiles, errors = load_profiles(site.profiles)

    assert [p.emails for p in profiles] == [("alice@example.org",)]
    assert [str(e.problems[0]).split(": ", 1)[1] for e in errors] == ["like: expected a list of paper ids"]
