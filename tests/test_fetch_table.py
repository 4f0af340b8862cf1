"""`digest fetch` without --json: a table with a header that fits the terminal."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from digest.cli.main import main

from .conftest import Site

LONG = "Scaling laws for $\\alpha$-stable noise in stochastic gradient descent with very long titles indeed"
FEED = f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>blog</title><link>https://example.org/</link>
<item><title>{LONG}</title><link>https://example.org/long</link><description>x</description></item>
<item><title>Short $\\beta$ title</title><link>https://example.org/short</link><description>x</description></item>
</channel></rss>
"""


def fetch_table(site: Site, tmp_path: Path, columns: int) -> list[str]:
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED, encoding="utf-8")
    args = ["fetch", "--config", str(site.config), "--source", str(feed)]
    result = CliRunner().invoke(main, args, env={"COLUMNS": str(columns)}, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def test_the_table_has_a_header_and_fits_the_terminal(site: Site, tmp_path: Path) -> None:
    lines = fetch_table(site, tmp_path, 100)

    assert lines[0].split() == ["ID", "DATE", "CATEGORY", "VOTES", "TITLE"]
    assert all(len(line) <= 100 for line in lines), [len(line) for line in lines]
    assert len(lines) == 3


def test_cut_titles_end_with_an_ellipsis_and_simple_tex_is_converted(site: Site, tmp_path: Path) -> None:
    long_row, short_row = fetch_table(site, tmp_path, 100)[1:]

    assert long_row.endswith("…") and "α-stable" in long_row and "$" not in long_row
    assert short_row.endswith("Short β title")
    wide = fetch_table(site, tmp_path, 200)[1]
    assert wide.endswith("with very long titles indeed")  # room for all of it: nothing cut
