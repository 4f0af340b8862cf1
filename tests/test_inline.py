"""The fast inliner gives every email the elements, attributes and text premailer gives it."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import pytest

from digest import sources
from digest.matching import PaperIndex, compile_profile, select_top
from digest.models import Digest, Links, Profile, SourceConfig
from digest.render import inline
from digest.render.inline import same_document
from digest.render.memo import make_room
from digest.render.renderer import Renderer, default_templates_dir, inline_styles
from digest.render.specimens import SpecimenPremailer
from digest.sources.fetch import fetch

from .conftest import ARXIV_SAMPLE, CORPUS, HF_SAMPLE
from .test_email import HOSTILE_ITEM

LINKS = Links(
    "https://d.example.org/u/t",
    "https://d.example.org/m/t",
    "mailto:d@example.org",
    "https://d.example.org/w/t",
)
PROFILES = [
    Profile("a.yaml", ("a@example.org",), keywords=("language model", "pretraining"), note="*Hi* & <b>!"),
    Profile("b.yaml", ("b@example.org",), keywords=("agents", "learning", "model"), max_papers=50),
    Profile("c.yaml", ("c@example.org",), keywords=("data",), authors=("Percy Liang",), max_papers=3),
]


def listings(tmp_path: Path) -> list[Path]:
    hostile = tmp_path / "hostile.xml"
    hostile.write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{HOSTILE_ITEM}</channel></rss>'
    )
    # A feed can hold the stand-ins the renderer fills in: they must come out as written.
    stand_ins = tmp_path / "stand-ins.xml"
    stand_ins.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        "<title>A language model dgstmarkabstractx dgstmarkwhyx dgsttextmarknumberx dgstmarkvotex "
        "dgstmarkheadx</title><link>https://example.org/p/1</link><description>Pretraining "
        "dgsttextmarknumberx dgsttextmarkvotex dgsttextmarkwhyx dgsttextwrapabstractw72s0x dgstmarktitlex "
        "dgstmarkrestx</description></item></channel></rss>"
    )
    found = [ARXIV_SAMPLE, HF_SAMPLE, hostile, stand_ins]
    if CORPUS.is_dir():
        names = ("arxiv_newfeed_atom_cs.AI_2025-08-20_TRUNCATED.xml", "hf_daily_papers_api.json",
                 "arxiv_api_atom_2026_all-testing_100entries.xml")  # fmt: skip
        found += [CORPUS / name for name in names]
    elif os.environ.get("CI") == "true":
        pytest.fail("the shared feed corpus is missing")
    return found


def digests(tmp_path: Path) -> list[Digest]:
    listing = sources.collect([SourceConfig(p.name, str(p)) for p in listings(tmp_path)], fetch)
    compiled = [compile_profile(p) for p in PROFILES]
    index = PaperIndex(listing.papers, compiled)
    made = []
    for profile in compiled:
        shown, matched = select_top(profile, index, frozenset(), profile.profile.max_papers)
        more = len(matched) - len(shown)
        made.append(
            Digest(dt.date(2026, 11, 16), profile.profile, profile.profile.emails[0], tuple(shown), more)
        )
    return made


def with_votes(digest: Digest) -> Links:
    """LINKS with a vote page per paper, different for every reader, as an edition's are."""
    reader = digest.recipient
    pages = {m.paper.id: f"https://d.example.org/v/{reader}/{n}" for n, m in enumerate(digest.matches)}
    return replace(LINKS, votes=pages)


def test_fast_inlining_matches_premailer_on_every_digest(tmp_path: Path) -> None:
    fast, slow = Renderer("Digest", fast_inline=True), Renderer("Digest", fast_inline=False)

    for digest in digests(tmp_path) * 2:  # the second time round, every paper block is reused
        links = with_votes(digest)
        quick, careful = fast.render(digest, links), slow.render(digest, links)

        assert same_document(quick.html, careful.html), digest.recipient
        assert quick.text == careful.text and quick.subject == careful.subject
        assert quick.digest == careful.digest  # the same papers moved past the size budget
    assert fast.inliner is not None  # it never had to fall back to premailer


def test_a_specimen_page_gets_the_body_premailer_gives_it_from_rules_read_once() -> None:
    head = (default_templates_dir() / "digest.css").read_text()
    media = (default_templates_dir() / "digest-media.css").read_text()
    page = (
        f"<html><head><style>{head}</style><style>{media}</style></head><body>"
        '<table class="container"><tr><td class="pad paper"><p class="vote"><a href="x">y</a></p>'
        "</td></tr></table></body></html>"
    )
    body = _body(inline_styles(page))

    for _ in range(2):  # the second time, the stylesheets' rules come from the memo
        specimen = inline_styles(page, kind=SpecimenPremailer)
        assert _body(specimen) == body
        assert "@media" not in specimen  # the <head>'s leftover rules are not written


def _body(html: str) -> str:
    return html[html.index("<body") :]


def test_an_inliner_that_forgot_its_states_inlines_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [(digest, with_votes(digest)) for digest in digests(tmp_path) * 2]
    remembering = Renderer("Digest")
    expected = [remembering.render(digest, links).html for digest, links in made]
    monkeypatch.setattr(inline, "STACKS", 3)  # fewer than one page opens: forgotten before each page
    forgetting = Renderer("Digest")

    assert [forgetting.render(digest, links).html for digest, links in made] == expected
    assert forgetting.inliner is not None and remembering.inliner is not None
    assert len(forgetting.inliner._steps) < len(remembering.inliner._steps)  # only the last page's


def test_the_check_notices_a_difference_and_falls_back(tmp_path: Path) -> None:
    renderer = Renderer("Digest")
    assert renderer.inliner is not None
    renderer.inliner.inline = lambda page, expand=None: page  # type: ignore[method-assign]  # forgets all styles

    rendered = renderer.render(digests(tmp_path)[0], LINKS)

    assert renderer.inliner is None
    assert 'style="' in rendered.html  # premailer did it


@pytest.mark.parametrize(
    "number_line",
    [
        '{{ number | string | wordwrap(10) }}. {{ item.title_text | wordwrap(69, wrapstring="\\n   ") }}',
        "{{ (number ~ '. ' ~ item.title_text) | wordwrap(40) }}",  # a stand-in wrapped with other text
    ],
)
def test_an_operator_text_template_gives_what_rendering_each_email_gives(
    tmp_path: Path, number_line: str
) -> None:
    shipped = (default_templates_dir() / "paper.txt.j2").read_text()
    templates = tmp_path / "templates"
    templates.mkdir()
    line = next(line for line in shipped.splitlines() if line.startswith("{{ number }}."))
    (templates / "paper.txt.j2").write_text(shipped.replace(line, number_line))
    fast = Renderer("Digest", templates, fast_inline=True)
    slow = Renderer("Digest", templates, fast_inline=False)

    for digest in digests(tmp_path):
        reordered = replace(digest, matches=digest.matches[::-1])  # each paper under another number
        for version in (digest, reordered):
            links = with_votes(version)
            assert fast.render(version, links).text == slow.render(version, links).text, digest.recipient


def test_a_full_memo_forgets_its_older_half_and_keeps_the_newest() -> None:
    memo: dict[int, int] = {}
    for number in range(25):
        make_room(memo, limit=10)
        memo[number] = number

    assert len(memo) <= 10
    assert 24 in memo and 0 not in memo


def test_an_operator_paper_template_printing_the_whole_abstract_gives_what_premailer_gives(
    tmp_path: Path,
) -> None:
    """A template written before the abstract came in two parts prints `item.abstract` whole."""
    shipped = (default_templates_dir() / "paper.html.j2").read_text()
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "paper.html.j2").write_text(
        shipped.replace("marked(item.abstract_head)", "marked(item.abstract)").replace(
            "{%- if item.abstract_rest %}", "{%- if false %}"
        )
    )
    fast = Renderer("Digest", templates, fast_inline=True)
    slow = Renderer("Digest", templates, fast_inline=False)

    for digest in digests(tmp_path):
        links = with_votes(digest)
        quick, careful = fast.render(digest, links).html, slow.render(digest, links).html
        assert same_document(quick, careful), digest.recipient
        assert 'class="abstract-rest"' not in quick
    assert fast.inliner is not None
