"""The email: inert with hostile feeds, under its size budget, standard headers, readable TeX."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from digest.models import Match, Paper, Reason, Span
from digest.render.renderer import quote_entities
from digest.render.views import paper_view

from .conftest import Site

HOSTILE_ITEM = """
<item>
  <title>Pretraining &lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt;</title>
  <link>javascript:alert(3)</link>
  <guid>hostile-1</guid>
  <description>&lt;p onclick="alert(4)"&gt;Pretraining with
    &lt;a href="javascript:alert(5)"&gt;a link&lt;/a&gt;
    &lt;img src="https://tracker.example/pixel.gif"&gt; &lt;form action="https://evil.example"&gt;
    &lt;input name=x&gt;&lt;/form&gt; &lt;iframe src="https://evil.example"&gt;&lt;/iframe&gt;
    &lt;style&gt;body{{display:none}}&lt;/style&gt; and $\\alpha$-stable maths.&lt;/p&gt;</description>
  <author>mallory@example.org (Mallory&#13;&#10;Bcc: victim@example.org)</author>
</item>
<item>
  <title>Pretraining with a data: link</title>
  <link>data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==</link>
  <guid>hostile-2</guid>
  <description>Plain text.</description>
</item>
"""


FORBIDDEN_TAGS = frozenset({"script", "iframe", "object", "embed", "form", "input", "img", "link", "base"})


class ActiveMarkup(HTMLParser):
    """Collects every tag or attribute that could run, load or submit something."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS or (tag == "meta" and "http-equiv" in dict(attrs)):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "srcset":
                self.found.append(f"{tag} {name}")
            if name in ("href", "src", "action") and not re.match(r"https?://", value or ""):
                self.found.append(f"{tag} {name}={value}")


def active_markup(html: str) -> list[str]:
    parser = ActiveMarkup()
    parser.feed(html)
    return parser.found


def feed(tmp_path: Path, items: str, name: str = "feed.xml") -> Path:
    path = tmp_path / name
    path.write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )
    return path


def preview(cli: Any, site: Site, profile: Path, source: Path | None, out: Path) -> dict[str, Path]:
    sources = ["--source", source] if source else []
    result = cli("preview", profile, "--config", site.config, *sources, "--out", out)
    assert result.exit_code == 0, result.stderr
    return {path.suffix: path for path in out.iterdir()}


def parse(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        return email.message_from_binary_file(handle, policy=policy.default)  # type: ignore[return-value]


def test_hostile_feed_renders_inert(site: Site, cli: Any, tmp_path: Path) -> None:
    profile = site.profile(
        "eve", 'email: eve@example.org\nname: "Eve\\r\\nBcc: all@example.org"\nkeywords: [pretraining]\n'
    )

    files = preview(cli, site, profile, feed(tmp_path, HOSTILE_ITEM), tmp_path / "out")

    html = files[".html"].read_text()
    assert "Pretraining" in html and "α-stable" in html
    assert active_markup(html) == []
    assert "tracker.example" not in html and "evil.example" not in html
    message = parse(files[".eml"])
    assert message["Bcc"] is None and message["To"] == '"Eve Bcc: all@example.org" <eve@example.org>'
    assert active_markup(message.get_body(("html",)).get_content()) == []
    assert "javascript:" not in files[".txt"].read_text() and "data:text" not in files[".txt"].read_text()


def test_two_hundred_matches_stay_under_the_html_budget(site: Site, cli: Any, tmp_path: Path) -> None:
    abstract = "Pretraining " + "with a long and careful description of the method " * 40
    items = "".join(
        f"<item><title>Pretraining study {n}</title><link>https://example.org/{n}</link>"
        f"<guid>p{n}</guid><description>{abstract}</description></item>"
        for n in range(200)
    )
    profile = site.profile("big", "email: big@example.org\nkeywords: [pretraining]\nmax_papers: 500\n")

    files = preview(cli, site, profile, feed(tmp_path, items), tmp_path / "out")

    message = parse(files[".eml"])
    html = message.get_body(("html",)).get_content()
    assert 60 * 1024 < len(html.encode()) <= 100 * 1024
    shown = html.count('class="paper-title"')
    more = int(re.search(r"(\d+) more are on the web", html).group(1))  # type: ignore[union-attr]
    assert shown + more == 200 and shown >= 35  # short abstracts, their vote links, the contents list
    text = message.get_body(("plain",)).get_content()
    assert f"{more} more are on the web: https://digest.example.net/digest/" in text
    assert len(re.findall(r"^\d+\. \*Pretraining\* study \d+$", text, re.MULTILINE)) == shown


def test_message_has_every_header_and_parts_in_order(site: Site, cli: Any, tmp_path: Path) -> None:
    files = preview(cli, site, site.profiles / "alice.yaml", None, tmp_path)

    message = parse(files[".eml"])

    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                   "List-Unsubscribe-Post", "MIME-Version"):  # fmt: skip
        assert message[header], header
    assert message["Subject"].startswith("Test Digest: 8 new papers on pretraining, language model")
    assert re.fullmatch(r"<\d{8}\.[0-9a-f]{24}@digest\.example\.net>", message["Message-ID"])
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())


def test_a_highlight_cut_by_the_abstract_limit_is_dropped_not_spread_onto_the_ellipsis() -> None:
    abstract = "x" * 590 + "pretraining" + "y" * 100  # no space: cut hard at 600 characters
    start = abstract.index("pretraining")
    reason = Reason("keyword", "pretraining", "abstract", (Span(start, start + len("pretraining")),))
    match = Match(Paper("p1", "A title", abstract, ("A. Author",), "https://example.org/p1"), 1.0, (reason,))

    view = paper_view(match, abstract_chars=600)

    assert view.trimmed and view.abstract_text.endswith("…")
    assert "*" not in view.abstract_text and not any(hit for _, hit in view.abstract)


_ENTITY_PARTS = ["&", "#", "3", "4", "9", ";", "&#39;", "&#34;", "&#3", "&amp;", "a"]


@given(st.lists(st.sampled_from(_ENTITY_PARTS), max_size=30))
def test_the_budget_counts_quote_entities_as_str_count_does(parts: list[str]) -> None:
    html = "".join(parts)
    assert quote_entities(html) == html.count("&#39;") + html.count("&#34;")
