"""The live keyword preview: the pure count, the rate limit, the endpoint over real HTTP, the
no-JavaScript Preview button, and typing in headless Chromium."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from digest.models import Paper
from digest.serve.live_preview import MAX_KEYWORDS, RateLimit, keywords_of, preview_keywords
from digest.tokens import sign

from .conftest import CHROMIUM, HF_SAMPLE, FeedServer, Site, keep_screenshot, launch_chromium
from .test_archive_browser import MEASURE
from .test_web import Server, serving

TODAY = dt.date(2026, 11, 16)
NO_CHROMIUM = CHROMIUM is None and os.environ.get("CI") != "true"


def paper(paper_id: str, title: str) -> Paper:
    return Paper(paper_id, title, "", (), f"https://arxiv.org/abs/{paper_id}")


def test_the_preview_counts_the_selected_papers_per_day() -> None:
    papers = [
        (TODAY, paper("1", "Pretraining data")),
        (TODAY, paper("2", "Protein folding")),
        (TODAY - dt.timedelta(days=2), paper("3", "Better pre-training")),
        (TODAY - dt.timedelta(days=6), paper("4", "Agents that plan")),
    ]

    found = preview_keywords("pretraining\n\n  agents  \n", papers, TODAY)

    assert found.keywords == ("pretraining", "agents") and found.total == 3 and found.archived == 4
    assert [day for day, _ in found.days] == [TODAY - dt.timedelta(days=n) for n in range(6, -1, -1)]
    assert dict(found.days)[TODAY] == 1 and dict(found.days)[TODAY - dt.timedelta(days=2)] == 1
    assert sum(count for _, count in found.days) == 3
    assert found.as_json()["papers"][0]["why"].startswith("'")


def test_keywords_past_the_limits_are_left_out_and_counted() -> None:
    text = "\n".join([f"word{n}" for n in range(MAX_KEYWORDS + 5)] + ["x" * 101, "--", "word1"])

    kept, left_out = keywords_of(text)

    assert len(kept) == MAX_KEYWORDS and left_out == 5 + 1 + 1 + 1
    assert preview_keywords("", [], TODAY).total == 0


def test_the_rate_limit_is_per_client_over_a_sliding_minute() -> None:
    limit = RateLimit(rate=2, window=60)

    assert [limit.allow("a", now=t) for t in (0, 1, 2)] == [True, True, False]
    assert limit.allow("b", now=2)  # another client has its own
    assert limit.allow("a", now=60.5)  # the first use left the window


@pytest.fixture
def archived(site: Site, cli: Any) -> Site:
    """A site whose archive holds today's papers (fetched once)."""
    assert cli("fetch", "--config", site.config).exit_code == 0
    return site


@pytest.fixture
def web(archived: Site) -> Iterator[Server]:
    with serving(archived) as served:
        yield served


def test_the_endpoint_answers_from_the_archive(web: Server) -> None:
    answer = web.client.get("/preview.json", params={"keywords": "language model\nzebra finches"})

    found = answer.json()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert answer.status_code == 200 and found["total"] > 0
    assert len(found["days"]) == 7 and found["days"][-1] == {**found["days"][-1], "day": today}
    assert found["days"][-1]["count"] == found["total"]  # everything was fetched today
    assert all("language model" in paper["why"] for paper in found["papers"])


def test_the_endpoint_is_rate_limited(web: Server) -> None:
    web.app.state.site.live.limit = RateLimit(rate=2)

    answers = [web.client.get("/preview.json", params={"keywords": "agents"}) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "60" and "Too many" in answers[2].json()["error"]


def test_previews_never_fetch_a_source(site: Site, cli: Any, feed_server: FeedServer) -> None:
    listing = feed_server.serve("/hf.json", HF_SAMPLE.read_bytes())
    config = site.config.read_text()
    site.config.write_text(config.replace(str(HF_SAMPLE), listing), encoding="utf-8")
    cli("fetch", "--config", site.config)
    fetched = len(feed_server.requests)

    with serving(site) as web:
        found = web.client.get("/preview.json", params={"keywords": "diffusion"}).json()
        page = web.client.post("/subscribe", data={"keywords": "diffusion", "action": "preview"})

    assert fetched == 1 and len(feed_server.requests) == 1
    assert found["total"] >= 1 and "Denoising Diffusion" in page.text


def test_the_preview_button_works_without_javascript(archived: Site, web: Server) -> None:
    typed = {"email": "new@example.org", "keywords": "language model", "name": "Nell", "action": "preview"}

    page = web.client.post("/subscribe", data=typed)

    assert page.status_code == 200 and "These keywords over the last 7 days" in page.text
    assert 'value="new@example.org"' in page.text and ">language model</textarea>" in page.text
    assert "Check your inbox" not in page.text
    assert not (archived.outbox / "confirmations").exists()


def test_the_manage_preview_shows_what_was_typed_and_saves_nothing(archived: Site, web: Server) -> None:
    before = (archived.profiles / "alice.yaml").read_text()
    link = f"/manage/{sign('test-secret', 'manage', 'alice@example.org')}"

    page = web.client.post(link, data={"keywords": "diffusion\nagents", "action": "preview"})

    assert page.status_code == 200 and "These keywords over the last 7 days" in page.text
    assert "diffusion\nagents</textarea>" in page.text and "Saved" not in page.text
    assert (archived.profiles / "alice.yaml").read_text() == before


@pytest.mark.skipif(NO_CHROMIUM, reason="headless Chromium is not installed")
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_typing_keywords_shows_the_preview_in_a_browser(
    web: Server, width: int, scheme: str, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(os.environ.get("DIGEST_SCREENSHOTS", tmp_path))
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"http://127.0.0.1:{web.port}/subscribe")
        page.type("#keywords", "language model", delay=20)  # debounced: one request after the typing
        page.wait_for_selector("#preview .preview-total")
        total = page.inner_text("#preview .preview-total")
        days = page.locator("#preview .preview-days li").count()
        titles = page.locator("#preview .preview-papers a").count()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        preview, buttons = page.evaluate(MEASURE, "#preview"), page.evaluate(MEASURE, ".buttons")
        keep_screenshot(page, shots / f"live-preview-{width}-{scheme}.png")
        browser.close()

    assert "would have been selected" in total and int(total.split()[0]) >= 1
    assert days == 7 and titles >= 1
    assert overflow <= 0 and errors == []
    assert preview["low"] == [] and preview["small"] == [] and buttons["small"] == []


@pytest.mark.skipif(NO_CHROMIUM, reason="headless Chromium is not installed")
def test_the_manage_page_previews_as_keywords_are_edited(web: Server, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(os.environ.get("DIGEST_SCREENSHOTS", tmp_path))
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 375, "height": 900})
        page.goto(f"http://127.0.0.1:{web.port}/manage/{sign('test-secret', 'manage', 'alice@example.org')}")
        page.wait_for_selector("#preview .preview-total")  # the saved keywords, previewed on arrival
        before = page.inner_text("#preview .preview-total")
        page.fill("#keywords", "")
        page.type("#keywords", "diffusion", delay=20)
        page.locator("#preview .preview-papers").get_by_text("'diffusion' in").first.wait_for()
        after = page.inner_text("#preview .preview-total")
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        keep_screenshot(page, shots / "live-preview-manage-375.png")
        browser.close()

    assert int(before.split()[0]) > int(after.split()[0]) >= 1
    assert overflow <= 0
