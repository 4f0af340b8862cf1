"""The text part's paper blocks, made once per paper and filled in for each subscriber."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import jinja2

from .filters import wrap
from .memo import make_room
from .views import PaperView

PAPER_TEXT = "paper.txt.j2"
# A paper block as pieces shared between readers, and the names of the slots between them.
Block = tuple[tuple[str, ...], tuple[str, ...]]


def fill_in(block: Block, values: dict[str, str]) -> str:
    """The block for one reader: `values` by slot name between its pieces."""
    pieces, slots = block
    return pieces[0] + "".join(values[slot] + piece for slot, piece in zip(slots, pieces[1:], strict=True))


class CannotDefer(Exception):
    """A text template does more with a subscriber's values than print or wrap them."""


class TextBlocks:
    """The text part's paper blocks, rendered once per paper with stand-ins for what differs
    between subscribers; wrapping a stand-in is deferred until the subscriber's text is in."""

    def __init__(self, env: jinja2.Environment) -> None:
        """`env`: a text environment of its own, whose wordwrap this defers."""
        self.env = env
        self.env.filters["wordwrap"] = self._wrap_later
        self._separators: list[str] = []
        self._blocks: dict[tuple[Any, ...], tuple[str, bool]] = {}  # and whether it wraps the number
        self._filled: dict[tuple[Any, ...], Block] = {}

    def block(self, item: PaperView, number: int, votes: bool = False) -> Block:
        """The paper's block in the pieces that recur in other readers' blocks, and the names of
        what goes between them for this reader ("number", "vote": see `fill_in`)."""
        key = (item.paper.id, bool(item.abstract), item.trimmed, votes)
        if key not in self._blocks:
            marked = replace(
                item,
                title_text=_TEXT_MARK["title"],
                abstract_text=_TEXT_MARK["abstract"] if item.abstract_text else "",
                reasons=(_TEXT_MARK["why"],),
            )
            vote = _TEXT_MARK["vote"] if votes else None
            try:
                made = self.env.get_template(PAPER_TEXT).render(
                    item=marked, number=_TEXT_MARK["number"], vote=vote
                )
            except (TypeError, ValueError) as error:  # arithmetic on a stand-in, say
                raise CannotDefer(str(error)) from error
            if made.lower().count("dgsttext") != made.count("dgsttext"):
                raise CannotDefer("a stand-in is changed, not printed (upper-cased, say)")
            self._blocks[key] = made, _NUMBER_WRAPPED in made
        block, number_wrapped = self._blocks[key]
        # Readers matched by the same terms get the same block but for its number and vote links:
        # it is filled in once, around them. (Unless the template wraps the number: its width
        # changes the rest.)
        filled: tuple[Any, ...] = (key, item.title_text, item.abstract_text, tuple(item.reasons))
        filled += (number,) if number_wrapped else ()
        found = self._filled.get(filled)
        if found is None:
            make_room(self._filled)
            values: dict[str, str] = {
                "title": item.title_text, "abstract": item.abstract_text,
                "why": "; ".join(item.reasons), "number": str(number),
            }  # fmt: skip

            def fill(found: re.Match[str]) -> str:
                if found["mark"]:
                    return values[found["mark"]]
                separator = self._separators[int(found["sep"])]
                return wrap(values[found["name"]], int(found["width"]), wrapstring=separator)

            around = (_VOTE_SLOT if number_wrapped else _READER_SLOTS).split(block)
            pieces = tuple(_TEXT_SLOT.sub(fill, piece) for piece in around[::2])
            found = self._filled[filled] = (pieces, tuple(around[1::2]))
        return found

    def _wrap_later(self, value: str, width: int = 79, break_long_words: bool = True,
                    wrapstring: str | None = None, break_on_hyphens: bool = True) -> str:  # fmt: skip
        mark = _TEXT_MARK_NAME.fullmatch(value)
        if mark is None:
            if "dgsttext" in value:
                raise CannotDefer("a stand-in is wrapped together with other text")
            return wrap(value, width, wrapstring=wrapstring)
        separator = wrapstring if wrapstring is not None else "\n"
        if separator not in self._separators:
            self._separators.append(separator)
        return f"dgsttextwrap{mark[1]}w{width}s{self._separators.index(separator)}x"


_TEXT_MARK = {name: f"dgsttextmark{name}x" for name in ("title", "abstract", "why", "number", "vote")}
# What differs between readers who share a block, split out of it: the captured name is the slot's.
_READER_SLOTS = re.compile("dgsttextmark(number|vote)x")
_VOTE_SLOT = re.compile("dgsttextmark(vote)x")
_NUMBER_WRAPPED = "dgsttextwrapnumber"
_TEXT_MARK_NAME = re.compile(r"dgsttextmark([a-z]+)x")
_TEXT_SLOT = re.compile(
    r"dgsttextmark(?P<mark>[a-z]+)x|dgsttextwrap(?P<name>[a-z]+)w(?P<width>\d+)s(?P<sep>\d+)x"
)
