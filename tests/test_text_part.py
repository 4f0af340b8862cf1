"""The text part of a digest reads cleanly when a feed leaves fields out."""

from __future__ import annotations

from pathlib import Path

from .conftest import Site

NO_AUTHORS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>blog</title><link>https://example.org/</link>
<item><title>Counting quokkas from the air</title><link>https://example.org/papers/quokka</link>
<description>We count quokkas on Rottnest Island with drones.</description></item>
</channel></rss>
"""


def test_a_paper_without_authors_has_no_empty_author_line(site: Site, cli, tmp_path: Path) -> None:
    feed = tmp_path / "blog.xml"
    feed.write_text(NO_AUTHORS, encoding="utf-8")
    profile = site.profile("q", "email: q@example.org\nkeywords: [quokka]\n")

    result = cli("preview", profile, "--config", site.config, "--source", feed, "--out", tmp_path / "out")

    assert result.exit_code == 0, result.stderr
    lines = (tmp_path / "out" / "q.txt").read_text(encoding="utf-8").splitlines()
    title = next(n for n, line in enumerate(lines) if "from the air" in line)
    # The title, one blank line, the abstract: no line of blanks where the authors would be.
    assert lines[title + 1 : title + 3] == ["", "We count *quokkas* on Rottnest Island with drones."]
