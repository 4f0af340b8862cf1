"""A match as the templates see it: highlighted pieces, the trimmed abstract, the reasons."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Match, Paper, Span
from .tex import readable_tex

ABSTRACT_CHARS = 600
PHONE_ABSTRACT_CHARS = 280  # on a phone the abstract stops about here, with a "more" link

# (text, highlighted) pairs: templates mark the matched words without writing HTML themselves.
Pieces = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class PaperView:
    """One matched paper, ready for the templates (`item` in paper.html.j2 and paper.txt.j2)."""

    paper: Paper
    title: Pieces
    abstract: Pieces
    trimmed: bool  # the abstract was cut; the block links to the rest
    reasons: tuple[str, ...]
    # The text part's highlights, *like this*, made here: a template macro per piece is slow.
    title_text: str
    abstract_text: str
    # The title without highlights, for the contents list: a loop over pieces there cost every email.
    title_plain: str
    # The abstract in two: what a phone shows, and the rest, which only wider screens show.
    abstract_head: Pieces = ()
    abstract_rest: Pieces = ()


def paper_view(match: Match, abstract_chars: int = ABSTRACT_CHARS) -> PaperView:
    """A match prepared for the templates: highlighted fields, trimmed abstract, reasons."""
    paper = match.paper
    abstract, trimmed = trim(paper.abstract, abstract_chars)
    spans = {
        field: [s for r in match.reasons if r.field == field for s in r.spans]
        for field in ("title", "abstract")
    }
    title = segments(paper.title, spans["title"])
    kept = len(abstract) - len("…") if trimmed else len(abstract)  # no highlight reaches the "…"
    abstract_pieces = segments(abstract, [s for s in spans["abstract"] if s.end <= kept])
    head, rest = split_pieces(abstract_pieces, PHONE_ABSTRACT_CHARS)
    return PaperView(
        paper=paper,
        title=title,
        abstract=abstract_pieces,
        trimmed=trimmed,
        reasons=tuple(match.explanations()),
        title_text=_starred(title),
        abstract_text=_starred(abstract_pieces),
        title_plain="".join(text for text, _ in title),
        abstract_head=head,
        abstract_rest=rest,
    )


def split_pieces(pieces: Pieces, limit: int) -> tuple[Pieces, Pieces]:
    """`pieces` cut in two at the last space before `limit` characters (all in the first when
    it is not much longer): a phone shows the first part."""
    text = "".join(piece for piece, _ in pieces)
    cut = text.rfind(" ", 0, limit)
    if len(text) <= limit * 1.3 or cut < limit // 2:
        return pieces, ()
    head: list[tuple[str, bool]] = []
    rest: list[tuple[str, bool]] = []
    position = 0
    for piece, hit in pieces:
        if position + len(piece) <= cut:
            head.append((piece, hit))
        elif position >= cut:
            rest.append((piece, hit))
        else:  # the cut falls inside this piece: each part keeps its highlight
            head.append((piece[: cut - position], hit))
            rest.append((piece[cut - position :], hit))
        position += len(piece)
    return tuple(head), tuple(rest)


def _starred(pieces: Pieces) -> str:
    return "".join(f"*{text}*" if hit else text for text, hit in pieces)


def segments(text: str, spans: list[Span]) -> Pieces:
    """`text` cut into (piece, highlighted) pairs with simple TeX made readable, so templates
    can mark matched words safely."""
    pieces, position = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < position:
            continue  # overlapping matches: the first one wins
        if span.start > position:
            pieces.append((text[position : span.start], False))
        pieces.append((text[span.start : span.end], True))
        position = span.end
    if position < len(text):
        pieces.append((text[position:], False))
    return tuple((readable_tex(piece), hit) for piece, hit in pieces)


def trim(text: str, limit: int) -> tuple[str, bool]:
    """At most `limit` characters, cut at a word boundary; and whether anything was cut."""
    if len(text) <= limit:
        return text, False
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…", True
