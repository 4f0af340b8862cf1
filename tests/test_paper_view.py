"""The design's pieces that need no browser: the phone's part of an abstract, the contents list."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from digest.render.fast_paths import _links, _sample
from digest.render.renderer import CONTENTS_FROM, Renderer
from digest.render.views import PHONE_ABSTRACT_CHARS, paper_view, split_pieces


def test_a_phone_shows_the_abstract_up_to_a_word_with_its_highlights_kept() -> None:
    pieces = (("We study ", False), ("pretraining", True), (" data " * 80, False), ("pretraining", True))
    head, rest = split_pieces(pieces, PHONE_ABSTRACT_CHARS)

    text = "".join(p for p, _ in head)
    assert len(text) <= PHONE_ABSTRACT_CHARS and not text.endswith("dat")  # cut between words
    assert head[1] == ("pretraining", True) and rest[-1] == ("pretraining", True)
    assert "".join(p for p, _ in head + rest) == "".join(p for p, _ in pieces)  # nothing lost


def test_a_short_abstract_is_not_cut_and_a_cut_inside_a_highlight_keeps_both_halves_marked() -> None:
    short = (("A short abstract about ", False), ("agents", True), (".", False))
    assert split_pieces(short, PHONE_ABSTRACT_CHARS) == (short, ())

    long_hit = (("x " * 130, False), ("language model pretraining " * 6, True))
    head, rest = split_pieces(long_hit, PHONE_ABSTRACT_CHARS)
    assert head[-1][1] and rest[0][1]


def test_the_contents_list_comes_with_more_than_five_papers_only() -> None:
    renderer = Renderer("Digest")
    few = _sample("a@example.org")  # three papers
    many = replace(few, matches=few.matches * 2)

    links = _links("a@example.org")
    short, long = renderer.render(few, links), renderer.render(many, links)

    assert len(few.matches) <= CONTENTS_FROM < len(many.matches)
    assert 'class="pad contents"' not in short.html
    assert long.html.count('href="#paper-') == len(many.matches) and 'id="paper-6"' in long.html


def test_a_view_carries_its_title_without_highlights_for_the_contents_list() -> None:
    match = _sample("a@example.org").matches[0]
    view = paper_view(match)

    assert any(hit for _, hit in view.title)  # the sample's title has a highlighted term
    assert view.title_plain == "".join(text for text, _ in view.title)


def test_a_renderer_that_does_not_reload_keeps_its_templates_as_first_read(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("first {{ site_title }}")
    digest, links = _sample("a@example.org"), _links("a@example.org")
    fixed, reloading = Renderer("Digest", tmp_path, reload_templates=False), Renderer("Digest", tmp_path)
    assert fixed.render(digest, links).text == reloading.render(digest, links).text == "first Digest\n"

    template = tmp_path / "digest.txt.j2"
    written = template.stat().st_mtime_ns
    template.write_text("second {{ site_title }}")
    os.utime(template, ns=(written + 10**9, written + 10**9))  # changed, however coarse the clock

    assert fixed.render(digest, links).text == "first Digest\n"
    assert reloading.render(digest, links).text == "second Digest\n"
