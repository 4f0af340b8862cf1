"""`digest check` warns of liked and disliked papers the archive lacks, one line each with file,
line and field, saying what a run will do about each; it never asks arXiv itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from digest.config.liked_papers import MAX_VOTES
from digest.store import DATABASE_NAME, PaperArchive
from digest.store.connection import connect

from .conftest import FeedServer, Site
from .test_check import assert_failed_cleanly, error_lines, line_of
from .test_likes_ranker import archive, corpus

Cli = Callable[..., Result]
ARCHIVED = "2501.00000"  # the first paper of test_likes_ranker's corpus


def warnings(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Warning:")]


def use_api(site: Site, url: str) -> None:
    site.config.write_text(site.config.read_text().replace('arxiv_api: "off"', f"arxiv_api: {url}"))


def test_check_names_each_vote_the_archive_lacks_and_asks_no_one(
    site: Site, cli: Cli, feed_server: FeedServer
) -> None:
    archive(site, corpus())
    use_api(site, feed_server.url("/api/query"))
    text = (
        f"email: v@example.org\nlike:\n  - {ARCHIVED}\n  - arXiv:2409.99999v2\n"
        "  - 10.1101/2026.01.02.123456\ndislike: [2401.00007]\n"
    )
    path = site.profile("votes", text)

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    tail = "is not in the paper archive"
    assert warnings(result) == [
        f"Warning: {path}:{line_of(path, '2409.99999')}: like[1]: 2409.99999 {tail}"
        " (the next run or match looks it up on arXiv), so it does not count yet",
        f"Warning: {path}:{line_of(path, '10.1101')}: like[2]: 10.1101/2026.01.02.123456 {tail}"
        " (only arXiv ids can be looked up; it counts once a listing brings it), so it does not count yet",
        f"Warning: {path}:{line_of(path, 'dislike')}: dislike[0]: 2401.00007 {tail}"
        " (the next run or match looks it up on arXiv), so it does not count yet",
    ]
    assert feed_server.paths() == []  # check went nowhere


def test_check_says_when_arxiv_lacks_a_paper_or_the_look_up_is_off(site: Site, cli: Cli) -> None:
    archive(site, corpus())
    db = connect(site.config.parent / "var" / DATABASE_NAME)
    try:
        PaperArchive(db).remember_unknown_to_arxiv(["2409.99999"])
    finally:
        db.close()
    path = site.profile("votes", "email: v@example.org\nlike: [2409.99999, 2409.88888]\n")

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    found = warnings(result)
    assert len(found) == 2
    assert found[0].startswith(f"Warning: {path}:2: like[0]: 2409.99999 is not in the paper archive")
    assert "(arXiv has no such paper (asked 2" in found[0]
    assert found[1].startswith(f"Warning: {path}:2: like[1]: 2409.88888 is not in the paper archive")
    assert "(the arXiv look-up is off: fetch.arxiv_api)" in found[1]


def test_check_without_a_state_database_warns_of_every_vote_and_creates_none(site: Site, cli: Cli) -> None:
    path = site.profile("votes", f"email: v@example.org\nkeywords: [robots]\nlike: [{ARCHIVED}]\n")
    state = site.config.parent / "var"

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert [w.split(" is not")[0] for w in warnings(result)] == [f"Warning: {path}:3: like[0]: {ARCHIVED}"]
    assert not (state / DATABASE_NAME).exists()


def test_check_is_quiet_about_votes_the_archive_holds(site: Site, cli: Cli, tmp_path: Path) -> None:
    archive(site, corpus())
    site.profile("votes", f"email: v@example.org\nlike: [{ARCHIVED}]\ndislike: [2501.00001]\n")

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert warnings(result) == []


def test_a_like_list_of_ten_thousand_entries_is_one_problem_and_the_others_are_checked(
    site: Site, cli: Cli
) -> None:
    likes = "".join(f"  - 2401.{n:05d}\n" for n in range(10_000))
    pasted = site.profile("pasted", f"email: p@example.org\nlike:\n{likes}")
    broken = site.profile("broken", "email: b@example.org\nlike: [not an id]\n")

    result = cli("check", "--config", site.config)

    assert_failed_cleanly(result)
    assert sorted(error_lines(result)) == sorted(
        [
            f"Error: {pasted}:2: like: 10000 entries, at most {MAX_VOTES}",
            f"Error: {broken}:2: like[0]: 'not an id' is not a paper id",
        ]
    )


def test_a_full_like_list_the_archive_lacks_is_one_warning_per_id_at_its_line(site: Site, cli: Cli) -> None:
    archive(site, corpus())
    likes = "".join(f"  - 2401.{n:05d}\n" for n in range(MAX_VOTES))
    path = site.profile("full", f"email: f@example.org\nlike:\n{likes}")

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    found = warnings(result)
    assert len(found) == MAX_VOTES
    last = MAX_VOTES - 1
    assert found[-1].startswith(f"Warning: {path}:{last + 3}: like[{last}]: 2401.{last:05d} is not in")
