"""What a reader sees: the preview in headless Chromium at phone and desktop widths.

Chromium comes from Debian (`.ci/run` installs it). Headless windows are at least 500 px wide,
so the preview is shown in a frame of the width under test, as a phone's screen would be; a
measuring script added to a copy of it (the email itself carries none) reports the layout.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARXIV_SAMPLE, CORPUS, HF_SAMPLE, Site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true", reason="headless Chromium is not installed"
)
# Without these, Chromium reaches for Google's servers at start, which this network refuses.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=3000"]  # fmt: skip

MEASURE = """<script>
(function () {
  var titles = Array.prototype.map.call(document.querySelectorAll('.paper-title'), function (e) {
    var r = e.getBoundingClientRect();
    return {text: e.textContent.trim(), left: r.left, right: r.right, width: r.width, height: r.height};
  });
  document.body.setAttribute('data-measure', JSON.stringify({
    viewport: window.innerWidth, scroll: document.documentElement.scrollWidth, titles: titles}));
})();
</script></body>"""

FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="screen" style="border:0;width:{width}px;height:2400px" srcdoc="{page}"></iframe>
<script>
document.getElementById('screen').onload = function () {{
  document.body.setAttribute('data-measure', this.contentDocument.body.getAttribute('data-measure'));
}};
</script></body></html>"""


def chromium(args: list[str], profile_dir: Path) -> str:
    assert CHROMIUM, "CI must install chromium (see .ci/run)"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile_dir}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def framed(page: Path, width: int, work: Path, measured: bool) -> Path:
    """`page` in a frame `width` px wide, with the measuring script inside if asked."""
    text = page.read_text(encoding="utf-8")
    if measured:
        text = text.replace("</body>", MEASURE)
    frame = work / f"{page.stem}-{width}{'-measured' if measured else ''}.html"
    frame.write_text(FRAME.format(width=width, page=html.escape(text, quote=True)), encoding="utf-8")
    return frame


def measure(page: Path, width: int, work: Path) -> dict[str, Any]:
    probe = framed(page, width, work, measured=True)
    dom = chromium([f"--window-size={width + 60},1400", "--dump-dom", probe.as_uri()], work / "chrome")
    found = re.search(r'data-measure="([^"]*)"', dom)
    assert found, "the measuring script did not run"
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


def sources() -> list[Path]:
    """Real captures where the corpus is beside the checkout; our own samples otherwise."""
    names = [
        "arxiv_rss_new_multi_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_4items.xml",
        "arxiv_newfeed_atom_cs.AI_2025-08-20_TRUNCATED.xml",
        "hf_daily_papers_api.json",
    ]
    real = [CORPUS / name for name in names]
    return real if all(p.exists() for p in real) else [ARXIV_SAMPLE, HF_SAMPLE]


@pytest.fixture(scope="module")
def preview_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from digest.cli import main

    from .conftest import ALICE, SITE_CONFIG

    root = tmp_path_factory.mktemp("browser")
    site = Site(root, root / "config" / "digest.yaml")
    site.config.write_text(SITE_CONFIG.format(arxiv=ARXIV_SAMPLE, hf=HF_SAMPLE))
    profile = site.profile("reader", ALICE.replace("keywords: [", "keywords: [agents, learning, models, "))
    args = ["preview", str(profile), "--config", str(site.config), "--out", str(root / "out")]
    for source in sources():
        args += ["--source", str(source)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return root / "out" / "reader.html"


@pytest.mark.parametrize("width", [375, 640])
def test_preview_fits_the_screen_and_shows_every_title(
    preview_page: Path, width: int, tmp_path: Path
) -> None:
    found = measure(preview_page, width, tmp_path)

    assert found["viewport"] == width
    assert found["scroll"] <= width, f"the layout is {found['scroll']} px wide on a {width} px screen"
    assert len(found["titles"]) >= 10
    for title in found["titles"]:
        assert title["text"] and title["width"] > 0 and title["height"] > 0, title
        assert title["left"] >= 0 and title["right"] <= width, title


@pytest.mark.parametrize("width", [375, 640])
def test_preview_screenshot(preview_page: Path, width: int, tmp_path: Path) -> None:
    """A picture to look at (kept under pytest's temporary folder); it must be a real PNG."""
    shot = tmp_path / f"preview-{width}.png"

    frame = framed(preview_page, width, tmp_path, measured=False)
    chromium(
        [f"--window-size={max(width, 500)},1400", f"--screenshot={shot}", frame.as_uri()], tmp_path / "chrome"
    )

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
