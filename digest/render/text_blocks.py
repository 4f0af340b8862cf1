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
        self._blocks: dict[tuple[Any, ...], str] = {}
        self._filled: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def block(self, item: PaperView, number: int) -> tuple[str, ...]:
        """The paper's block in the pieces that recur in other readers' blocks: joined by its
        number, the block."""
        key = (item.paper.id, bool(item.abstract), item.trimmed)
        if key not in self._blocks:
            marked = replace(
                item,
                title_text=_TEXT_MARK["title"],
                abstract_text=_TEXT_MARK["abstract"] if item.abstract_text else "",
                reasons=(_TEXT_MARK["why"],),
            )
            try:
                self._blocks[key] = self.env.get_template(PAPER_TEXT).render(
                    item=marked, number=_TEXT_MARK["number"]
                )
            except (TypeError, ValueError) as error:  # arithmetic on a stand-in, say
                raise CannotDefer(str(error)) from error
        block = self._blocks[key]
        # Readers matched by the same terms get the same block but for its number: it is filled in
        # once, around the number. (Unless the template wraps the number: its width changes the rest.)
        number_wrapped = _NUMBER_WRAPPED in block
        filled: tuple[Any, ...] = (key, item.title_text, item.abstract_text, tuple(item.reasons))
        filled += (number,) if number_wrapped else ()
        if filled not in self._filled:
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

            around = [block] if number_wrapped else block.split(_TEXT_MARK["number"])
            self._filled[filled] = tuple(_TEXT_SLOT.sub(fill, piece) for piece in around)
        return self._filled[filled]

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


_TEXT_MARK = {name: f"dgsttextmark{name}x" for name in ("title", "abstract", "why", "number")}
_NUMBER_WRAPPED = "dgsttextwrapnumber"
_TEXT_MARK_NAME = re.compile(r"dgsttextmark([a-z]+)x")
_TEXT_SLOT = re.compile(
    r"dgsttextmark(?P<mark>[a-z]+)x|dgsttextwrap(?P<name>[a-z]+)w(?P<width>\d+)s(?P<sep>\d+)x"
)
