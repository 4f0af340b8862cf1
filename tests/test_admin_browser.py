"""The console in headless Chromium at a phone's width and a desktop's, after a real edition:
sign in, read the counts, resend the uncertain message, unsubscribe someone, sign out.

Screenshots of every page go to the test's folder (pytest --basetemp=DIR keeps them) to be looked at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .admin_client import PASSWORD, console
from .conftest import CHROMIUM, Site, keep_screenshot, launch_chromium
from .console_scenario import EDITION, SENT, UNCERTAIN, Cli, ledger_counts, run_edition
from .smtp_relay import Relay, serving

PAGES = ("/admin", "/admin/subscribers", "/admin/editions", f"/admin/edition/{EDITION}", "/admin/sources",
         "/admin/suppressions", f"/admin/subscriber?address={SENT[0]}")  # fmt: skip


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true", reason="headless Chromium is not installed"
)
@pytest.mark.parametrize("width", [375, 1280])
def test_the_console_in_a_browser(
    site: Site, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, width: int
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with serving() as relay:
        run_edition(site, cli, relay)
        with console(site, monkeypatch) as served, sync_api.sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": width, "height": 900})
            errors: list[str] = []
            page.on("console", lambda note: errors.extend([note.text] if note.type == "error" else []))
            base = f"http://127.0.0.1:{served.port}"
            widths = browse(page, base, tmp_path / f"{width}px", relay)
            browser.close()
    assert errors == []  # no script refused, no style refused by the page's policy
    assert all(scrolled <= width for scrolled in widths.values()), widths
    assert ledger_counts(site)["uncertain"] == 0


def browse(page: object, base: str, shots: Path, relay: Relay) -> dict[str, int]:
    """Walk the console as the operator would; the page width of each, screenshots on the way."""
    shots.mkdir(parents=True)
    page.goto(base + "/admin")  # type: ignore[attr-defined]
    assert page.inner_text("h1") == "Sign in to the console"  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.click("main button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("h1:text('Overview')")  # type: ignore[attr-defined]
    tiles = page.inner_text(".tiles")  # type: ignore[attr-defined]
    assert re.findall(r"\d+", tiles) == ["3", "1", "1", "2"]
    widths = {}
    for path in PAGES:
        page.goto(base + path)  # type: ignore[attr-defined]
        widths[path] = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        name = re.sub(r"\W+", "-", path.strip("/")) or "admin"
        keep_screenshot(page, shots / f"{name}.png")
    page.goto(f"{base}/admin/edition/{EDITION}")  # type: ignore[attr-defined]
    page.click("text=Resend 1 uncertain message")  # type: ignore[attr-defined]
    page.wait_for_selector("text=Resent: 1 message handed over")  # type: ignore[attr-defined]
    assert len(relay.to(UNCERTAIN)) == 2
    page.goto(f"{base}/admin/subscriber?address={SENT[1]}")  # type: ignore[attr-defined]
    page.click("main button:text('Unsubscribe')")  # type: ignore[attr-defined]
    page.wait_for_selector("text=Unsubscribed: no digest goes")  # type: ignore[attr-defined]
    keep_screenshot(page, shots / "after-unsubscribe.png")
    page.click("text=Sign out")  # type: ignore[attr-defined]
    page.wait_for_selector("h1:text('Signed out')")  # type: ignore[attr-defined]
    page.goto(base + "/admin")  # type: ignore[attr-defined]
    assert page.inner_text("h1") == "Sign in to the console"  # type: ignore[attr-defined]
    return widths
