"""The text part's word wrap: greedy, whole words, every word kept in order."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from digest.render.filters import wrap

words = st.text(st.characters(blacklist_categories=("Zs", "Cc", "Zl", "Zp")), min_size=1, max_size=30)
spaces = st.sampled_from([" ", "  ", "\t", "\u00a0"])
paragraphs = st.lists(st.tuples(words, spaces), max_size=40).map(lambda pairs: "".join(map("".join, pairs)))


@given(paragraphs, st.integers(min_value=2, max_value=80))
def test_wrap_is_greedy_and_keeps_every_word(text: str, width: int) -> None:
    lines = wrap(text, width).split("\n")
    assert [w for line in lines for w in line.split(" ") if w] == text.split()
    for line, following in itertools.pairwise(lines):
        assert len(line) <= width or " " not in line  # only a lone word may overflow
        if line and following:  # the next line's first word would not have fitted
            assert len(f"{line} {following.split(' ')[0]}") > width


def test_wrap_indents_continuation_lines_and_keeps_paragraphs() -> None:
    text = "one two three four five six\nseven eight"
    assert wrap(text, 9) == "\n".join(wrap(paragraph, 9) for paragraph in text.splitlines())
    assert wrap(text, 9, wrapstring="\n   ") == "one two\n   three\n   four five\n   six\n   seven\n   eight"
    assert wrap("", 10) == ""
