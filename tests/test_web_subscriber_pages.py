"""What a subscriber sees on the confirm and manage pages, over real HTTP on loopback (uvicorn)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from digest.config.profiles import load_profile
from digest.tokens import sign

from .conftest import Site
from .test_web import Server, confirm_link, outbox, serving, subscribe


@pytest.fixture
def web(site: Site) -> Iterator[Server]:
    with serving(site) as served:
        yield served


# Issue 15, item 6: the confirm page says what is being confirmed.


def test_the_confirm_page_shows_the_address_and_keywords_it_confirms(site: Site, web: Server) -> None:
    subscribe(web, "zed@example.org", "pretraining\ndata <selection>")
    link = web.local(confirm_link(site, "zed@example.org"))

    page = web.client.get(link)

    assert page.status_code == 200 and "<button" in page.text
    assert "zed@example.org" in page.text
    assert "pretraining" in page.text and "data &lt;selection&gt;" in page.text  # escaped, not markup
    assert not (site.profiles / "zed-at-example-org.yaml").exists()  # a GET still changes nothing


# Issue 15, item 2: a profiles folder the server cannot write gets a designed page, not a bare 500.


def manage_link(address: str = "alice@example.org") -> str:
    return f"/manage/{sign('test-secret', 'manage', address)}"


def test_a_manage_save_the_profiles_folder_refuses_is_a_page_saying_what_to_tell_the_operator(
    site: Site, web: Server
) -> None:
    before = (site.profiles / "alice.yaml").read_text()
    (site.profiles / ".locks").write_text("in the way")  # the server cannot write in the folder

    answer = web.client.post(manage_link(), data={"keywords": "diffusion"})

    assert answer.status_code == 503 and "<h1>" in answer.text and "not saved" in answer.text.lower()
    assert "Tell the site&#39;s operator: the server cannot write its profiles folder" in answer.text
    assert 'name="keywords"' in answer.text and "diffusion" in answer.text  # what they typed is kept
    assert str(site.root) not in answer.text
    assert (site.profiles / "alice.yaml").read_text() == before


def test_a_confirmation_the_profiles_folder_refuses_says_what_to_tell_the_operator(
    site: Site, web: Server
) -> None:
    subscribe(web, "zed@example.org")
    link = web.local(confirm_link(site, "zed@example.org"))
    (site.profiles / ".locks").write_text("in the way")

    failed = web.client.post(link)

    assert failed.status_code == 503 and "your link still works" in failed.text
    assert "Tell the site&#39;s operator: the server cannot write its profiles folder" in failed.text
    (site.profiles / ".locks").unlink()
    assert "You are subscribed" in web.client.post(link).text


# Issue 15, item 3: manage edits the file that lists the address, and never silently splits it.

GROUP = """\
# The reading group, kept by the operator.
email: [carol@example.org, bob@example.org]
name: Reading group
keywords: [diffusion]
exclude: [survey]
authors: ["Percy Liang"]
categories: [cs.LG]
"""


def full_form(**fields: str) -> dict[str, str]:
    form = {"keywords": "", "exclude": "", "authors": "", "frequency": "daily", "max_papers": "20"}
    return form | fields


def test_manage_shows_every_field_of_a_shared_profile_and_says_it_is_shared(site: Site, web: Server) -> None:
    site.profile("group", GROUP)

    page = web.client.get(manage_link("bob@example.org"))

    assert page.status_code == 200
    for shown in ("diffusion", "survey", "Percy Liang", 'value="weekly"', 'name="max_papers"'):
        assert shown in page.text
    assert "shared by 2 addresses" in page.text and 'value="own"' in page.text
    assert "carol@example.org" not in page.text  # the other members stay private


def test_saving_a_shared_profile_edits_that_file_and_writes_no_second_one(site: Site, web: Server) -> None:
    site.profile("group", GROUP)
    form = full_form(keywords="protein design", exclude="survey", authors="Percy Liang", max_papers="5")

    saved = web.client.post(manage_link("bob@example.org"), data=form)

    assert saved.status_code == 200 and "Saved" in saved.text
    assert sorted(p.name for p in site.profiles.glob("*.yaml")) == ["alice.yaml", "group.yaml"]
    group = load_profile(site.profiles / "group.yaml")
    assert group.keywords == ("protein design",) and group.authors == ("Percy Liang",)
    assert group.max_papers == 5 and group.emails == ("carol@example.org", "bob@example.org")
    assert (site.profiles / "group.yaml").read_text().startswith("# The reading group")


def test_an_address_of_a_shared_profile_can_get_its_own_file_with_the_same_settings(
    site: Site, web: Server
) -> None:
    site.profile("group", GROUP)

    answer = web.client.post(manage_link("bob@example.org"), data={"action": "own"})

    assert answer.status_code == 200 and "shared by" not in answer.text
    group = load_profile(site.profiles / "group.yaml")
    own = load_profile(site.profiles / "bob-at-example-org.yaml")
    assert group.emails == ("carol@example.org",)
    assert own == dataclasses.replace(group, file=own.file, emails=("bob@example.org",))
    assert "now has its own settings, copied" in answer.text


def test_an_authors_only_profile_saves_frequency_and_max_papers_and_keeps_its_authors(
    site: Site, web: Server
) -> None:
    dan = "# Dan follows people, not topics.\nemail: dan@example.org\nauthors: [Yejin Choi, 'Liang, Percy']\n"
    site.profile("dan", dan)
    link = manage_link("dan@example.org")
    shown = web.client.get(link).text
    authors = shown.split('name="authors">')[1].split("</textarea>")[0]  # as the browser sends it back

    saved = web.client.post(link, data=full_form(authors=authors, frequency="weekly", max_papers="7"))

    assert saved.status_code == 200 and "Saved" in saved.text
    saved_dan = load_profile(site.profiles / "dan.yaml")
    assert (saved_dan.authors, saved_dan.keywords) == (("Yejin Choi", "Liang, Percy"), ())
    assert (saved_dan.frequency, saved_dan.max_papers) == ("weekly", 7)
    assert (site.profiles / "dan.yaml").read_text().startswith("# Dan follows people")
    assert sorted(p.name for p in site.profiles.glob("*.yaml")) == ["alice.yaml", "dan.yaml"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"keywords": "", "authors": ""}, "one keyword or author"),
        ({"keywords": "x", "max_papers": "0"}, "between 1 and 500"),
        ({"keywords": "x", "max_papers": "many"}, "between 1 and 500"),
        ({"keywords": "x", "frequency": "hourly"}, "daily or weekly"),
        ({"keywords": "x", "exclude": "!!!"}, "no letters or digits"),
    ],
)
def test_manage_refuses_bad_settings_with_the_reason(
    site: Site, web: Server, fields: dict[str, str], error: str
) -> None:
    before = (site.profiles / "alice.yaml").read_text()

    answer = web.client.post(manage_link(), data=full_form(**fields))

    assert answer.status_code == 400 and error in answer.text
    assert (site.profiles / "alice.yaml").read_text() == before


def test_confirming_an_address_of_a_shared_profile_moves_it_to_its_own_file_not_to_a_second_listing(
    site: Site, web: Server
) -> None:
    site.profile("group", GROUP)
    subscribe(web, "bob@example.org", "graph learning")

    assert "You are subscribed" in web.client.post(web.local(confirm_link(site, "bob@example.org"))).text

    group = load_profile(site.profiles / "group.yaml")
    own = load_profile(site.profiles / "bob-at-example-org.yaml")
    assert group.emails == ("carol@example.org",)  # listed once, so its new keywords are the ones used
    assert own.keywords == ("graph learning",) and own.authors == group.authors == ("Percy Liang",)


# Issue 15, item 6: the manage page of an address that left says so, and the way back is a confirmation.


def test_after_an_unsubscribe_the_manage_page_says_so_and_offers_a_new_confirmation(
    site: Site, web: Server, cli: Any
) -> None:
    link = manage_link()
    before = (site.profiles / "alice.yaml").read_text()
    assert cli("unsubscribe", "alice@example.org", "--config", site.config).exit_code == 0

    page = web.client.get(link)
    saved = web.client.post(link, data=full_form(keywords="diffusion"))
    asked = web.client.post(link, data={"action": "resubscribe"})
    web.mailed()

    assert "alice@example.org is unsubscribed" in page.text and 'value="resubscribe"' in page.text
    assert "Saved" not in saved.text and "is unsubscribed" in saved.text
    assert (site.profiles / "alice.yaml").read_text() == before
    assert asked.status_code == 200 and "Check your inbox" in asked.text
    confirmation = web.local(confirm_link(site, "alice@example.org"))
    assert "the profile this address had before" in web.client.get(confirmation).text
    assert "You are subscribed" in web.client.post(confirmation).text
    assert "is unsubscribed" not in web.client.get(link).text
    assert (site.profiles / "alice.yaml").read_text() == before  # her profile as it was
    cli("run", "--once", "--config", site.config, "--date", "2026-11-16")
    assert "alice@example.org" in outbox(site, "2026-11-16")
    mailed = outbox(site, "confirmations")["alice@example.org"].get_content()
    assert "with the profile this address had before it unsubscribed" in mailed and "  - " not in mailed


def test_an_address_whose_profile_has_a_mistake_is_told_so_and_gets_no_second_file(
    site: Site, web: Server
) -> None:
    broken = site.profile("eve", "email: eve@example.org\nkeywords: [diffusion]\nmax_paper: 5\n")  # a typo
    link = manage_link("eve@example.org")

    page = web.client.get(link)
    saved = web.client.post(link, data=full_form(keywords="protein design"))
    subscribe(web, "eve@example.org", "graph learning")
    confirmed = web.client.post(web.local(confirm_link(site, "eve@example.org")))

    assert "has a mistake" in page.text
    assert saved.status_code == 503 and "Saved" not in saved.text
    assert confirmed.status_code == 503 and "your link still works" in confirmed.text
    assert sorted(p.name for p in site.profiles.glob("*.yaml")) == ["alice.yaml", "eve.yaml"]
    assert "max_paper: 5" in broken.read_text()
