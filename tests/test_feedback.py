"""One-click feedback from the email, end to end over real HTTP on loopback: the link in a sent
digest, its page (a GET changes nothing), the button (the vote lands in the profile file with its
comments kept), undo, and the next `digest match` learning from it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from digest.config.profiles import load_profile
from digest.tokens import sign

from .conftest import Site
from .test_likes_ranker import archive, corpus
from .test_web import Server, outbox, serving

COMMENTED = """\
# Alice's reading list: keep this comment
email: alice@example.org
keywords: [pretraining, data selection]  # what she works on
"""


@pytest.fixture
def web(site: Site) -> Iterator[Server]:
    with serving(site) as served:
        yield served


def sent_digest(site: Site, cli: Any) -> tuple[str, str]:
    """Run an edition to the outbox; alice's email as (html, text)."""
    site.profile("alice", COMMENTED)
    result = cli("run", "--config", site.config)
    assert result.exit_code == 0, result.output
    (folder,) = [p.name for p in site.outbox.iterdir() if p.name != "confirmations"]
    message = outbox(site, folder)["alice@example.org"]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return html, text


def vote_links(html: str) -> list[tuple[str, str]]:
    """(link, label) of every vote link in the email's HTML, in order."""
    found = re.findall(r'<a href="(https://[^"]+/feedback/[^"]+)"[^>]*>(More|Less) like this</a>', html)
    return [(link.replace("&amp;", "&"), label) for link, label in found]


def test_every_paper_of_the_email_has_both_links_in_html_and_text(site: Site, cli: Any) -> None:
    html, text = sent_digest(site, cli)

    papers = html.count('class="paper-title"')
    links = vote_links(html)
    assert papers >= 2 and len(links) == 2 * papers
    assert [label for _, label in links] == ["More", "Less"] * papers
    assert len({link.split("?")[0] for link, _ in links}) == papers  # one signed page per paper
    assert text.count("More like this: https://digest.example.net/feedback/") == papers
    assert text.count("Less like this: https://digest.example.net/feedback/") == papers


def test_a_vote_from_the_email_lands_in_the_profile_and_the_next_match_learns(
    site: Site, cli: Any, web: Server
) -> None:
    archive(site, corpus())  # the site's past papers: enough to learn a taste against
    html, _ = sent_digest(site, cli)
    more, _ = vote_links(html)[0]
    heading = re.search(r'class="paper-title"[^>]*><a [^>]*>(.*?)</a>', html).group(1)  # type: ignore[union-attr]
    title = re.sub("<[^>]+>", "", heading)  # without its highlights
    profile = site.profiles / "alice.yaml"

    page = web.client.get(web.local(more))
    assert page.status_code == 200 and "More like this?" in page.text and "<button" in page.text
    assert profile.read_text() == COMMENTED  # a GET (a mail scanner, say) changes nothing

    done = web.client.post(web.local(more), data={"vote": "like"})

    assert done.status_code == 200 and "Added to the papers you like" in done.text
    assert 'value="none"' in done.text  # the undo button puts back what was there: no vote
    written = profile.read_text()
    assert "# Alice's reading list: keep this comment" in written and "# what she works on" in written
    (liked,) = load_profile(profile).like
    found = cli("match", profile, "--since", "7", "--json", "--config", site.config)
    picks = [json.loads(line) for line in found.stdout.splitlines()]
    reasons = [r for pick in picks for r in pick["reasons"] if r.startswith("like ")]
    assert reasons and all(r.startswith(f'like "{title[:20]}') for r in reasons), reasons
    assert any("like" in pick["via"] for pick in picks if pick["id"] != liked)  # its neighbours too


def test_repeated_opposite_and_undone_votes(site: Site, cli: Any, web: Server) -> None:
    html, _ = sent_digest(site, cli)
    more, _ = vote_links(html)[0]
    profile = site.profiles / "alice.yaml"
    link = web.local(more)

    web.client.post(link, data={"vote": "like"})
    after_one = profile.read_text()
    again = web.client.post(link, data={"vote": "like"})  # a replayed or repeated vote
    assert "Nothing to change" in again.text and profile.read_text() == after_one

    web.client.post(link, data={"vote": "dislike"})  # a change of mind moves it between the lists
    moved = load_profile(profile)
    assert moved.like == () and len(moved.dislike) == 1

    undone = web.client.post(link, data={"vote": "like"})  # the undo of that answer
    assert 'value="dislike"' in undone.text
    web.client.post(link, data={"vote": "none"})
    assert load_profile(profile).like == load_profile(profile).dislike == ()
    assert "# Alice's reading list: keep this comment" in profile.read_text()


def test_forged_rotated_and_paperless_links_change_nothing(site: Site, cli: Any, web: Server) -> None:
    html, _ = sent_digest(site, cli)
    more, _ = vote_links(html)[0]
    profile = site.profiles / "alice.yaml"
    token = more.split("/feedback/")[1].split("?")[0]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    other_purpose = sign("test-secret", "manage", "alice@example.org")
    no_paper = sign("test-secret", "vote", "alice@example.org")

    for bad in (forged, other_purpose, no_paper):
        answer = web.client.post(f"/feedback/{bad}", data={"vote": "like"})
        assert answer.status_code in (400, 410) and "This link does not work" in answer.text
    not_a_vote = web.client.post(web.local(more), data={"vote": "love"})
    assert not_a_vote.status_code == 400 and "is not a vote" in not_a_vote.text
    assert profile.read_text() == COMMENTED

    manage = sign("test-secret", "manage", "alice@example.org")
    web.client.post(f"/manage/{manage}", data={"action": "rotate"})  # "Replace my links"
    replaced = web.client.post(web.local(more), data={"vote": "like"})
    assert replaced.status_code == 410 and "replaced" in replaced.text
    assert profile.read_text() == COMMENTED


def test_a_vote_after_unsubscribing_is_refused_and_writes_nothing(site: Site, cli: Any, web: Server) -> None:
    html, _ = sent_digest(site, cli)
    more, _ = vote_links(html)[0]
    assert cli("unsubscribe", "alice@example.org", "--config", site.config).exit_code == 0

    answer = web.client.post(web.local(more), data={"vote": "like"})

    assert answer.status_code == 410 and "unsubscribed" in answer.text
    assert (site.profiles / "alice.yaml").read_text() == COMMENTED


def test_a_profile_the_server_cannot_write_is_a_clear_page_and_the_link_keeps_working(
    site: Site, cli: Any, web: Server
) -> None:
    html, _ = sent_digest(site, cli)
    more, _ = vote_links(html)[0]
    locks = site.profiles / ".locks"
    if locks.is_dir():
        for lock in locks.iterdir():
            lock.unlink()
        locks.rmdir()
    locks.write_text("in the way")  # the server cannot take the profile's lock: nothing is written

    refused = web.client.post(web.local(more), data={"vote": "like"})
    assert refused.status_code == 503 and "your link still works" in refused.text
    assert (site.profiles / "alice.yaml").read_text() == COMMENTED

    locks.unlink()
    worked = web.client.post(web.local(more), data={"vote": "like"})
    assert worked.status_code == 200 and len(load_profile(site.profiles / "alice.yaml").like) == 1


def test_a_vote_from_a_shared_profile_gives_the_reader_a_file_of_their_own(
    site: Site, cli: Any, web: Server
) -> None:
    shared = "email: [alice@example.org, bob@example.org]\nkeywords: [pretraining, data selection]\n"
    site.profile("alice", shared)
    cli("run", "--config", site.config)
    (folder,) = [p.name for p in site.outbox.iterdir()]
    html = outbox(site, folder)["alice@example.org"].get_body(("html",)).get_content()  # type: ignore[union-attr]
    more, _ = vote_links(html)[0]

    page = web.client.get(web.local(more))
    assert "shares its settings with 1 other address" in page.text
    web.client.post(web.local(more), data={"vote": "like"})

    profiles = {p.name: load_profile(p) for p in site.profiles.glob("*.yaml")}
    owners = {name: profile.emails for name, profile in profiles.items()}
    own = next(name for name, emails in owners.items() if emails == ("alice@example.org",))
    assert len(profiles[own].like) == 1
    assert all(not p.like for name, p in profiles.items() if name != own)  # bob's digest is as it was


def test_the_manage_page_lists_votes_and_removes_one_keeping_comments(
    site: Site, cli: Any, web: Server
) -> None:
    html, _ = sent_digest(site, cli)
    (first, _), _, (second, _), _ = vote_links(html)[:4]
    web.client.post(web.local(first), data={"vote": "like"})
    web.client.post(web.local(second), data={"vote": "dislike"})
    profile = site.profiles / "alice.yaml"
    (liked,), (disliked,) = load_profile(profile).like, load_profile(profile).dislike
    manage = f"/manage/{sign('test-secret', 'manage', 'alice@example.org')}"

    page = web.client.get(manage).text
    assert "More like these" in page and "Less like these" in page
    assert f'name="paper" value="{liked}"' in page and f'name="paper" value="{disliked}"' in page

    removed = web.client.post(manage, data={"action": "forget", "paper": liked})

    assert removed.status_code == 200 and "Removed." in removed.text
    assert f'value="{liked}"' not in removed.text and f'value="{disliked}"' in removed.text
    after = load_profile(profile)
    assert after.like == () and after.dislike == (disliked,)
    assert "# Alice's reading list: keep this comment" in profile.read_text()


def test_a_profile_with_likes_may_save_without_keywords_on_the_manage_page(site: Site, web: Server) -> None:
    profile = site.profile("alice", "email: alice@example.org\nkeywords: [pretraining]\nlike: [2305.10429]\n")
    manage = f"/manage/{sign('test-secret', 'manage', 'alice@example.org')}"
    form = {"keywords": "", "authors": "", "exclude": "", "frequency": "daily", "max_papers": "20"}

    saved = web.client.post(manage, data=form)

    assert saved.status_code == 200 and "Saved." in saved.text
    after = load_profile(profile)
    assert after.keywords == () and after.like == ("2305.10429",)
    site.profile("bob", "email: bob@example.org\nkeywords: [pretraining]\n")
    bob = f"/manage/{sign('test-secret', 'manage', 'bob@example.org')}"
    refused = web.client.post(bob, data=form)  # nothing at all to select by
    assert refused.status_code == 400 and "At least one keyword or author is needed" in refused.text
