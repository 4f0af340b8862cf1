"""Quoted-printable made piece by piece: the encodings of recurring pieces are reused, and the
result must be exactly what encoding the whole text at once gives."""

from __future__ import annotations

import binascii

from hypothesis import example, given
from hypothesis import strategies as st

from digest.render.mime import quoted_printable

# What makes quoted-printable interesting: '=', spaces and tabs before a line end, a lone '.',
# long lines that need soft breaks, non-ASCII, and CR.
_ALPHABET = st.sampled_from(["a", "=", " ", "\t", ".", "\n", "é", "→", "\r", "x" * 80, "<p class=x>"])
_TEXT = st.lists(_ALPHABET, max_size=40).map("".join)


def whole(text: str) -> bytes:
    return binascii.b2a_qp(text.encode(), istext=True).replace(b"\n", b"\r\n")


@given(st.lists(st.tuples(_TEXT, st.booleans()), max_size=8))
@example([("x\r\ny\n", False), ("\nq\nr\n", True)])  # binascii takes CRLF line ends from the first
def test_encoding_in_pieces_is_byte_identical_to_encoding_at_once(parts: list[tuple[str, bool]]) -> None:
    text = "".join(piece for piece, _ in parts)
    recurring = [piece for piece, recurs in parts if recurs]
    known: dict[str, tuple[int, int, bytes]] = {}
    assert quoted_printable(text, recurring, known) == whole(text)
    assert quoted_printable(text, recurring, known) == whole(text)  # again, from what it kept


def test_the_whole_lines_of_a_recurring_piece_are_encoded_once() -> None:
    block = "<h2>Title</h2>\n<p>An abstract = long enough " + "word " * 30 + "</p>\n<p>Why</p>"
    known: dict[str, tuple[int, int, bytes]] = {}
    first = quoted_printable(f"<td>\n{block}</td>\n", [block], known)
    second = quoted_printable(f"<td class=other>{block}\n</td>", [block], known)
    assert len(known) == 1
    assert first == whole(f"<td>\n{block}</td>\n")
    assert second == whole(f"<td class=other>{block}\n</td>")
    assert b"=3D long enough" in next(iter(known.values()))[2]


def test_a_piece_that_is_not_in_the_text_changes_nothing() -> None:
    assert quoted_printable("a = b\nc\n", ["\nmissing\n"], {}) == whole("a = b\nc\n")


def test_a_piece_is_found_where_all_of_it_stands_not_where_its_start_does() -> None:
    piece = "\n" + "a" * 100 + "\nthe rest of the piece\n"
    text = "<p>\n" + "a" * 100 + "\nsomething else\n" + piece + "</p>"
    assert quoted_printable(text, [piece], {}) == whole(text)
