"""The archive and an edition's page in headless Chromium at a phone's and a desktop's width,
light and dark: no horizontal overflow, readable contrast, tap targets a finger can hit."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM, Site, keep_screenshot, launch_chromium
from .test_web import Server, outbox, serving

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true", reason="headless Chromium is not installed"
)

# Contrast, tap targets and overflow, computed in the page.
MEASURE = (Path(__file__).parent / "page_measures.js").read_text(encoding="utf-8")


@pytest.fixture
def web(site: Site, cli: Any) -> Iterator[Server]:
    site.profile("alice", (site.profiles / "alice.yaml").read_text() + "max_papers: 2\ntrending: 2\n")
    for edition in ("2026-11-16", "2026-11-17"):
        cli("run", "--once", "--config", site.config, "--date", edition)
    with serving(site) as served:
        yield served


def archive_path(site: Site, web: Server) -> str:
    text = outbox(site, "2026-11-17")["alice@example.org"].get_body(("plain",)).get_content()
    found = re.search(r"Past editions: +(https://\S+)", text)
    assert found
    return web.local(found.group(1))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_archive_and_edition_pages_in_a_browser(
    site: Site, web: Server, width: int, scheme: str, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(os.environ.get("DIGEST_SCREENSHOTS", tmp_path))
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
        page.goto(f"http://127.0.0.1:{web.port}{archive_path(site, web)}")
        archive = page.evaluate(MEASURE, "main")
        keep_screenshot(page, shots / f"archive-{width}-{scheme}.png")
        page.click("ul.editions a >> nth=-1")  # the oldest edition
        page.wait_for_selector(".paper-title")
        edition = page.evaluate(MEASURE, ".trending")  # the section this branch adds to the email
        titles = page.locator(".paper-title").count()
        # The top of the edition's page, as it opens.
        keep_screenshot(page, shots / f"edition-{width}-{scheme}.png", full_page=False)
        page.locator(".trending").screenshot(path=str(shots / f"edition-trending-{width}-{scheme}.png"))
        browser.close()

    assert archive == {"overflow": 0, "low": [], "small": []}
    assert edition["overflow"] <= 0 and edition["low"] == []
    assert titles == 8 + 2  # every matched paper, and the two trending ones
