"""The design's pieces that need no browser: the phone's part of an abstract, the contents list."""

from __future__ import annotations

from dataclasses import replace

from digest.render.fast_paths import _links, _sample
from digest.render.renderer import CONTENTS_FROM, Renderer
from digest.render.views import PHONE_ABSTRACT_CHARS, split_pieces


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
