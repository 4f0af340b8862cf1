"""What a person sees, measured in headless Chromium: the email, its web view and every page of
the site at 375, 640 and 1280 px, in light and dark mode (prefers-color-scheme).

Each screen is checked in the browser: nothing wider than the window; every visible text at a
contrast of 4.5:1 at least against the background it is drawn on (WCAG); on a phone, every link,
button and field at least 44 px each way; the contents list of a digest scrolls to its papers.
A screenshot of each, and its HTML, is kept (in DIGEST_SCREENSHOTS when set, else under pytest's
temporary folder) for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from digest.cli import main
from digest.tokens import sign

from .conftest import (
    ALICE,
    ARXIV_SAMPLE,
    CHROMIUM,
    HF_SAMPLE,
    SITE_CONFIG,
    Site,
    keep_screenshot,
    launch_chromium,
)
from .test_web import confirm_link, outbox, serving

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true", reason="headless Chromium is not installed"
)
sync_api = pytest.importorskip("playwright.sync_api")

WIDTHS = (375, 640, 1280)
SCHEMES = ("light", "dark")
PHONE = 375
EDITION = "2026-11-16"

# Runs in the page: the layout's width, the texts that read badly and the targets too small.
MEASURE = Path(__file__).with_name("design_measure.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every screen a subscriber meets, as HTML, in the order a subscriber meets them."""
    root = tmp_path_factory.mktemp("design")
    config = root / "config" / "digest.yaml"
    config.parent.mkdir()
    # Every part of an email: the operator's intro and footer with links, a reader's note, a
    # source that failed (its alert box).
    notes = (
        '  intro: "This week: [the reading list](https://example.org/list)."\n'
        '  footer: "Run by the [lab](https://example.org/lab)."\n'
    )
    text = SITE_CONFIG.format(arxiv=ARXIV_SAMPLE, hf=HF_SAMPLE).replace("sources:", notes + "sources:")
    gone = f"  - name: gone\n    url: {root / 'gone.xml'}\n"
    text = text.replace("  - name: hf", gone + "  - name: hf")
    config.write_text(text, encoding="utf-8")
    site = Site(root, config)
    site.profile(
        "alice",
        ALICE + 'note: "Reading group: *bring one paper* on [Friday](https://example.org/f)."\ntrending: 3\n',
    )
    run = CliRunner().invoke(main, ["run", "--once", "--config", str(config), "--date", EDITION])
    assert run.exit_code == 0, run.output
    email = outbox(site, EDITION)["alice@example.org"]
    found: dict[str, str] = {"email": email.get_body(("html",)).get_content()}  # type: ignore[union-attr]
    text = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with serving(site) as web:
        get, post = web.client.get, web.client.post
        link = {name: web.local(re.search(rf"https://\S+/{name}/\S+", text).group(0))  # type: ignore[union-attr]
                for name in ("digest", "feedback", "manage", "unsubscribe", "archive")}  # fmt: skip
        found["web view"] = get(link["digest"]).text
        found["archive"] = get(link["archive"]).text
        found["subscribe"] = get("/").text
        found["subscribe error"] = post("/subscribe", data={"email": "not an address", "keywords": "x"}).text
        found["check inbox"] = post(
            "/subscribe", data={"email": "zed@example.org", "keywords": "agents"}
        ).text
        web.mailed()
        confirm = web.local(confirm_link(site, "zed@example.org"))
        found["confirm"] = get(confirm).text
        found["confirmed"] = post(confirm).text
        found["confirm used"] = get(confirm).text
        found["vote"] = get(link["feedback"].replace("?vote=dislike", "") + "?vote=like").text
        found["voted"] = post(link["feedback"].split("?")[0], data={"vote": "like"}).text
        found["manage"] = get(link["manage"]).text
        found["manage error"] = post(link["manage"], data={"keywords": "x", "max_papers": "lots"}).text
        gone = sign("test-secret", "view:2026-01-05", "alice@example.org")
        found["edition gone"] = get(f"/digest/2026-01-05/{gone}").text
        found["not found"] = get("/no/such/page").text
        found["server error"] = web.app.state.site.error_page(500, "Something went wrong on our side.")
        found["unsubscribe"] = get(link["unsubscribe"]).text
        found["unsubscribed"] = post(link["unsubscribe"]).text
        found["manage after leaving"] = get(link["manage"]).text
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("DIGEST_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shown(browser: Any, html: str, width: int, scheme: str) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page.set_content(html, wait_until="load")
    return page


SCREENS = ("email", "web view", "archive", "subscribe", "subscribe error", "check inbox", "confirm",
           "confirmed", "confirm used", "vote", "voted", "manage", "manage error", "edition gone",
           "not found", "server error", "unsubscribe", "unsubscribed", "manage after leaving")  # fmt: skip


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", SCREENS)
def test_every_screen_fits_reads_and_takes_a_finger(
    screens: dict[str, str], browser: Any, shots: Path, name: str, width: int, scheme: str
) -> None:
    page = shown(browser, screens[name], width, scheme)
    found = page.evaluate(MEASURE, PHONE if width <= PHONE else 0)
    shot = shots / f"{name.replace(' ', '-')}-{width}-{scheme}.png"
    keep_screenshot(page, shot)
    shot.with_name(f"{name.replace(' ', '-')}.html").write_text(screens[name], encoding="utf-8")
    page.close()

    assert found["width"] <= width, f"{name} is {found['width']} px wide on a {width} px screen"
    assert found["texts"] > 0
    assert found["faint"] == [], f"{name}: text under 4.5:1 in {scheme} mode: {found['faint']}"
    assert found["small"] == [], f"{name}: targets under 44 px on a phone: {found['small']}"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["email", "web view"])
def test_the_contents_list_scrolls_to_each_paper(screens: dict[str, str], browser: Any, name: str) -> None:
    page = shown(browser, screens[name], PHONE, "light")
    entries = page.locator(".contents a")
    count = entries.count()
    landed = []
    for number in range(count):
        page.evaluate("window.scrollTo(0, 0)")
        entries.nth(number).click()
        landed.append(page.evaluate(LANDED, f"paper-{number + 1}"))
    page.close()

    assert count == 8  # alice's 8 papers: more than 5, so the list is there
    assert all(landed), landed


# Where the target stands after the jump: at the top, or as high as the end of the page allows.
LANDED = """(id) => {
  const top = document.getElementById(id).getBoundingClientRect().top;
  const bottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1;
  return window.scrollY > 0 && (Math.abs(top) <= 2 || (bottom && top > 0 && top < window.innerHeight));
}"""


def test_the_measure_sees_faint_text_small_targets_and_overflow(browser: Any) -> None:
    """The checks above can fail: a page with each fault is caught on each."""
    faulty = """<body style="margin:0;background:#fff">
      <p style="color:#aaa">faint grey</p>
      <div style="background:#111"><p style="color:#333">dark on dark</p></div>
      <a href="#" style="font-size:12px">tiny</a>
      <div style="width:600px">wide</div></body>"""
    page = shown(browser, faulty, PHONE, "light")
    found = page.evaluate(MEASURE, PHONE)
    page.close()

    assert [f["text"] for f in found["faint"]] == ["faint grey", "dark on dark"]
    assert [s["text"] for s in found["small"]] == ["tiny"]
    assert found["width"] == 600


def test_the_screens_say_what_they_are_about(screens: dict[str, str]) -> None:
    """What the issue asks of the pages' words, beside their looks."""
    assert "zed@example.org" in screens["confirm"] and "agents" in screens["confirm"]
    assert "<button" not in screens["confirm used"] and "already been used" in screens["confirm used"]
    assert "first digest" in screens["confirmed"]
    assert (
        'aria-invalid="true"' in screens["subscribe error"]
        and 'id="email-error"' in screens["subscribe error"]
    )
    assert 'id="max_papers-error"' in screens["manage error"]
    for part in ('class="intro"', 'class="note"', "Run by the"):
        assert part in screens["email"] and part in screens["web view"], part  # all measured above
    assert 'class="alert"' in screens["email"]  # a source that failed the edition
    footer = screens["email"].split('class="footer"')[1]
    assert "alice@example.org" in footer and "profile" not in footer  # no internal slug
