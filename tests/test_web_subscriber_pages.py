"""What a subscriber sees on the confirm and manage pages, over real HTTP on loopback (uvicorn)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import Site
from .test_web import Server, confirm_link, serving, subscribe


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
