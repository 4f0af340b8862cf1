"""The learned ranker behind `like:`: it selects papers no keyword matched, lifts keyword matches,
says why, and steps aside when it cannot learn. Real parts: the state database on disk and the CLI.

The papers are written here: a few topics, each with its own vocabulary, over shared filler words.
"""

from __future__ import annotations

import email
import email.policy
import json
import random
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from click.testing import Result

from digest.models import Paper
from digest.relevance import ModelCache, fingerprint, taste_key
from digest.relevance.cache import CACHE_FILE
from digest.store import DATABASE_NAME, PaperArchive
from digest.store.connection import connect

from .conftest import FeedServer, Site
from .test_check import line_of
from .test_lookup import API, FOUND_AND_PLACEHOLDER, served_path

Cli = Callable[..., Result]

TOPICS = {
    "mixture": "data mixture domain weights proxy model reweighting pretraining corpus sampling",
    "protein": "protein folding structure prediction residues amino acid backbone docking",
    "robot": "robot grasping manipulation gripper tactile sensor trajectory control",
    "galaxy": "galaxy redshift dark matter halo telescope survey cosmology spectra",
    "speech": "speech recognition acoustic phoneme audio waveform speaker transcription",
    "graph": "graph neural network node edge message passing molecule property",
}
FILLER = [
    "we",
    "propose",
    "method",
    "results",
    "show",
    "approach",
    "performance",
    "experiments",
    "study",
    "novel",
    "framework",
]


def paper(paper_id: str, topic: str, rng: random.Random, title: str | None = None) -> Paper:
    words = TOPICS[topic].split()
    abstract = " ".join(rng.choice(words if rng.random() < 0.6 else FILLER) for _ in range(60))
    title = title or " ".join(rng.sample(words, 4)).title()
    return Paper(paper_id, title, abstract + ".", ("A. Author",), f"https://arxiv.org/abs/{paper_id}")


def archive(site: Site, papers: list[Paper]) -> None:
    state = site.config.parent / "var"
    state.mkdir(exist_ok=True)
    db = connect(state / DATABASE_NAME, create=True)
    try:
        PaperArchive(db).remember(papers)
    finally:
        db.close()


def corpus(per_topic: int = 12) -> list[Paper]:
    rng = random.Random(16)
    papers = []
    for t, topic in enumerate(TOPICS):
        papers += [paper(f"2501.{t:02d}{n:03d}", topic, rng) for n in range(per_topic)]
    return papers


LIKED = "2501.00000"  # the first data-mixture paper
DOREMI = "DoReMi: Optimizing Data Mixtures Speeds Up Language Model Pretraining"


def liked_corpus() -> list[Paper]:
    papers = corpus()
    papers[0] = paper(LIKED, "mixture", random.Random(1), DOREMI)
    return papers


def matched(cli: Cli, site: Site, profile: Path) -> tuple[list[dict[str, object]], Result]:
    result = cli("match", profile, "--since", "7", "--json", "--config", site.config)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()], result


def test_likes_alone_select_the_liked_papers_neighbours_and_say_why(site: Site, cli: Cli) -> None:
    archive(site, liked_corpus())
    profile = site.profile("likes", f"email: l@example.org\nlike: [{LIKED}]\n")

    found, _ = matched(cli, site, profile)

    ids = [f["id"] for f in found]
    assert ids and all(str(i).startswith("2501.00") for i in ids)  # data-mixture papers only
    assert LIKED in ids  # the liked paper is like itself (a run skips it once it was sent)
    assert len(ids) >= 6
    first = found[0]
    assert first["via"] == ["like"]
    assert isinstance(first["learned"], float) and first["learned"] >= 0.5
    reason = str(first["reasons"][0])  # type: ignore[index]
    assert reason.startswith('like "DoReMi: Optimizing Data Mixtures Speeds Up Langua…" (')


def test_likes_lift_the_keyword_match_closest_to_what_was_liked(site: Site, cli: Cli) -> None:
    papers = liked_corpus()
    rng = random.Random(3)
    near = paper("2502.00001", "mixture", rng, "Benchmarks For Data Mixture Sampling")
    far = paper("2502.00002", "galaxy", rng, "Benchmarks For Galaxy Redshift Surveys")
    archive(site, [*papers, near, far])
    plain = site.profile("plain", "email: p@example.org\nkeywords: [benchmarks]\n")
    liking = site.profile("liking", f"email: l@example.org\nkeywords: [benchmarks]\nlike: [{LIKED}]\n")

    without, _ = matched(cli, site, plain)
    with_likes, _ = matched(cli, site, liking)

    assert {f["id"] for f in without} == {near.id, far.id}
    order = [f["id"] for f in with_likes if f["id"] in (near.id, far.id)]
    assert order == [near.id, far.id]
    lifted = next(f for f in with_likes if f["id"] == near.id)
    assert lifted["via"] == ["keywords", "like"]
    assert str(lifted["reasons"][-1]).startswith('like "DoReMi')  # type: ignore[index]
    assert next(f for f in with_likes if f["id"] == far.id)["via"] == ["keywords"]


def test_excludes_win_over_likes(site: Site, cli: Cli) -> None:
    papers = liked_corpus()
    archive(site, papers)
    liking = site.profile("a", f"email: a@example.org\nlike: [{LIKED}]\n")
    excluding = site.profile("b", f"email: b@example.org\nlike: [{LIKED}]\nexclude: [sampling]\n")
    with_word = {p.id for p in papers if "sampling" in f"{p.title} {p.abstract}".lower()}

    liked, _ = matched(cli, site, liking)
    left, _ = matched(cli, site, excluding)

    assert {f["id"] for f in liked} & with_word  # the exclude has something to drop
    assert {f["id"] for f in left} == {f["id"] for f in liked} - with_word


def test_a_disliked_paper_pushes_its_neighbours_out(site: Site, cli: Cli) -> None:
    papers = liked_corpus()
    archive(site, papers)
    liking = site.profile("a", f"email: a@example.org\nlike: [{LIKED}]\nsimilarity: loose\n")
    disliking = site.profile(
        "b", f"email: b@example.org\nlike: [{LIKED}]\ndislike: [2501.00001]\nsimilarity: loose\n"
    )

    liked_only, _ = matched(cli, site, liking)
    both, _ = matched(cli, site, disliking)

    def rank(found: list[dict[str, object]], paper_id: str) -> int:
        return [f["id"] for f in found].index(paper_id) if paper_id in [f["id"] for f in found] else 99

    assert rank(both, "2501.00001") > rank(liked_only, "2501.00001")


def test_a_liked_id_the_archive_lacks_is_a_warning_with_file_and_line(site: Site, cli: Cli) -> None:
    archive(site, liked_corpus())
    profile = site.profile("likes", f"email: l@example.org\nlike:\n  - {LIKED}\n  - arXiv:2409.99999v2\n")

    found, result = matched(cli, site, profile)

    assert found  # the known like still counts
    line = line_of(profile, "2409.99999")
    assert f"{profile}:{line}: like[1]: 2409.99999 is not in the paper archive" in result.stderr


def test_an_archive_too_small_to_learn_from_leaves_keywords_alone(site: Site, cli: Cli) -> None:
    archive(site, liked_corpus()[:20])
    profile = site.profile("likes", f"email: l@example.org\nkeywords: [galaxy]\nlike: [{LIKED}]\n")

    found, result = matched(cli, site, profile)

    assert (
        f"Warning: {profile}:3: like: the paper archive holds 19 papers, too few to learn likes from"
        " (at least 50): keywords alone select\n"
    ) in result.stderr
    assert found == []  # no galaxy paper among the first 20, and likes select nothing


def test_the_model_is_cached_in_the_state_dir_by_its_inputs(site: Site, cli: Cli) -> None:
    archive(site, liked_corpus())
    profile = site.profile("likes", f"email: l@example.org\nlike: [{LIKED}]\n")
    cache = site.config.parent / "var" / CACHE_FILE

    first, _ = matched(cli, site, profile)
    trained = cache.stat().st_mtime_ns, cache.read_bytes()
    again, _ = matched(cli, site, profile)
    unchanged = cache.stat().st_mtime_ns, cache.read_bytes()
    profile.write_text(f"email: l@example.org\nlike: [{LIKED}]\nsimilarity: strict\n", encoding="utf-8")
    stricter, _ = matched(cli, site, profile)

    assert first == again and unchanged == trained  # the second run trained nothing, wrote nothing
    assert cache.read_bytes() != trained[1]  # a changed input trains anew
    assert len(stricter) <= len(first)
    assert ModelCache(cache.parent).tastes.keys() >= {*ModelCache(cache.parent).tastes}


def atom_feed(papers: list[Paper]) -> bytes:
    """An arXiv API result set of these papers, as the query API writes one."""
    from xml.sax.saxutils import escape

    entries = "".join(
        f"<entry><id>http://arxiv.org/abs/{p.id}v1</id><title>{escape(p.title)}</title>"
        f"<updated>2026-11-20T10:00:00Z</updated><published>2026-11-20T10:00:00Z</published>"
        f"<summary>{escape(p.abstract)}</summary><author><name>A. Author</name></author>"
        f'<link href="https://arxiv.org/abs/{p.id}v1" rel="alternate" type="text/html"/>'
        f'<arxiv:primary_category term="cs.LG"/><category term="cs.LG"/></entry>'
        for p in papers
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom"><id>https://arxiv.org/api/x</id>'
        f"<title>arXiv Query</title>{entries}</feed>"
    ).encode()


def test_the_email_says_why_the_likes_chose_a_paper(site: Site, cli: Cli, tmp_path: Path) -> None:
    feed = tmp_path / "listing.xml"
    feed.write_bytes(atom_feed(liked_corpus()))
    site.profile("alice", f"email: alice@example.org\nlike: [{LIKED}]\n")

    result = cli("run", "--once", "--source", feed, "--config", site.config)

    assert result.exit_code == 0, result.output
    [file] = list(site.outbox.rglob("*.eml"))
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    parts = {kind: message.get_body((kind,)) for kind in ("plain", "html")}
    text, html = (part.get_content() for part in parts.values() if isinstance(part, EmailMessage))
    assert 'like "DoReMi: Optimizing Data Mixtures' in text
    assert "like &#34;DoReMi: Optimizing Data Mixtures" in html or 'like "DoReMi: Optimizing Data' in html


def test_a_backtest_marks_what_keywords_and_what_likes_selected(site: Site, cli: Cli) -> None:
    papers = liked_corpus()
    near = paper("2502.00001", "mixture", random.Random(3), "Benchmarks For Data Mixture Sampling")
    archive(site, [*papers, near])
    profile = site.profile("b", f"email: b@example.org\nkeywords: [benchmarks]\nlike: [{LIKED}]\n")

    result = cli("match", profile, "--since", "7", "--config", site.config)

    heads = [line for line in result.stdout.splitlines() if line[:4].strip().rstrip(".").isdigit()]
    assert heads[0].endswith("Benchmarks For Data Mixture Sampling  (via keywords + like)")
    assert all(head.endswith("(via like)") for head in heads[1:])
    assert len(heads) > 2


def test_a_liked_id_the_archive_lacks_is_looked_up_on_arxiv_once(
    site: Site, cli: Cli, feed_server: FeedServer
) -> None:
    archive(site, liked_corpus())
    wanted = ["2401.00002", "2401.00001"]
    asked = served_path(sorted(wanted))  # one request for every id the archive lacks
    feed_server.serve(asked, FOUND_AND_PLACEHOLDER)  # one paper found, one arXiv does not know
    site.config.write_text(
        site.config.read_text().replace('arxiv_api: "off"', f"arxiv_api: {feed_server.url(API)}")
    )
    likes = "".join(f"  - {i}\n" for i in (LIKED, *wanted))
    profile = site.profile("likes", f"email: l@example.org\nlike:\n{likes}")

    _, first = matched(cli, site, profile)
    _, second = matched(cli, site, profile)

    assert "2401.00002" not in first.stderr  # found, archived and counted
    line = line_of(profile, "2401.00001")
    assert f"{profile}:{line}: like[2]: 2401.00001 is not in the paper archive (arXiv has no such paper)" in (
        first.stderr
    )
    assert feed_server.paths().count(asked) == 1  # the second match asked nothing
    assert "2401.00002" not in second.stderr


def test_preview_says_which_likes_did_not_count(site: Site, cli: Cli, tmp_path: Path) -> None:
    archive(site, liked_corpus())
    profile = site.profile("likes", f"email: l@example.org\nlike:\n  - {LIKED}\n  - 2409.99999\n")

    result = cli("preview", profile, "--out", tmp_path / "out", "--config", site.config)

    assert result.exit_code == 0, result.output
    line = line_of(profile, "2409.99999")
    assert f"Warning: {profile}:{line}: like[1]: 2409.99999 is not in the paper archive" in result.stderr


def test_a_tastes_key_is_the_fingerprint_of_its_inputs() -> None:
    # Keys of models cached before taste_key existed must still be found.
    liked, disliked = ["2601.00001:ab12", "10.1000/é:cd34"], ["2601.00002:ef56"]
    for similarity in (None, "strict"):
        expected = fingerprint("space", liked, disliked, similarity)
        assert taste_key("space", liked, disliked, similarity) == expected
