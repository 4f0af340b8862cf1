"""CSS inlining at the cost of a scan: premailer's answers, learnt once per kind of element.

premailer parses the stylesheet and matches every rule against every element of every email,
which costs more than everything else in a digest. But the attributes it gives an element
depend only on the element's tag and styling attributes and on its ancestors' tags and
classes, and an edition's emails are made of a few dozen such kinds of element. So an email is
scanned once: each start tag gets what premailer gave its kind, asked of premailer the first
time on a page holding just that element inside its ancestors; the <head> is premailer's, once.

This holds for HTML we render ourselves, with stylesheets whose selectors look at tags,
classes and ancestors only. `Renderer` compares its first email with premailer's and uses
premailer itself if they differ.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from lxml import html as lxml_html

from .memo import make_room

_SLOT = re.compile(r"<!--dgstslot(\d+)-->")
_TOKEN = re.compile(
    r"dgstmark(?P<mark>[a-z]+)x"
    r"|<(?P<closing>/?)(?P<name>[a-zA-Z][a-zA-Z0-9]*)(?P<attributes>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
)
# The same pattern, its groups made one around it all: `split` gives the text between tokens and the tokens.
_TOKENS = re.compile("(" + re.sub(r"\(\?P<\w+>", "(?:", _TOKEN.pattern) + ")")
_ATTRIBUTE = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*')""")
_HEAD = re.compile(r"<head>.*?</head>", re.DOTALL)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
TAGS = 20_000  # tokens remembered: their kinds, and a few links of each recent reader
STACKS = 10_000  # the elements open at a token: a page's few dozen, unless tags go unclosed
# The attributes that decide which rules match, or that premailer may write back.
_STYLING = ("id", "class", "style", "width", "height", "bgcolor", "align", "valign")

Ancestors = tuple[tuple[str, str], ...]
Kind = tuple[Ancestors, str, tuple[tuple[str, str], ...]]
Answer = tuple[dict[str, str], str]  # attributes premailer rewrites, and the ones it adds as text
Expand = Callable[[int, Ancestors], str]


class CannotInline(Exception):
    """A page this inliner cannot handle: leave it to premailer."""


class Inliner:
    """Inlines as `inline_styles` (premailer) would, learning one answer per kind of element."""

    def __init__(
        self, inline_styles: Callable[[str], str], learn_styles: Callable[[str], str] | None = None
    ) -> None:
        """`learn_styles`: `inline_styles` for the pages that teach one element, which may leave
        out what premailer writes in their <head> (by default, `inline_styles`)."""
        self.inline_styles = inline_styles
        self.learn_styles = learn_styles or inline_styles
        self._kinds: dict[Kind, Answer] = {}
        # A scan is a walk through states, each the elements open at a point of the page, numbered.
        # Most tokens recur in email after email, written the same inside the same elements: each
        # step, from a state by a token to the token as premailer writes it and the next state, is
        # learnt once; so is each stretch of page between paper blocks.
        self._stacks: list[Ancestors] = []
        self._states: dict[Ancestors, int] = {}
        self._steps: dict[tuple[int, str], tuple[str, int]] = {}
        self._stretches: dict[tuple[str, int], tuple[str, int]] = {}
        self._heads: dict[str, str] = {}
        self._before_body = ""

    def inline(self, page: str, expand: Expand) -> str:
        """The page inlined; each <!--dgstslotN--> becomes `expand(N, its ancestors)`, as given."""
        head_start = page.find("<head>")
        head_end = page.find("</head>", head_start)
        if head_start < 0 or head_end < 0:
            raise CannotInline("no <head>")
        head_end += len("</head>")
        self._before_body = page[:head_end]
        if len(self._stacks) >= STACKS:  # the memos hold states by number: forgotten together, between pages
            self._stacks.clear()
            for memo in (self._states, self._steps, self._stretches):
                memo.clear()
        out: list[str] = []
        state = self._state(())
        pieces = _SLOT.split(page[head_end:])  # each slot's number between the stretches around it
        for number, piece in enumerate(pieces):
            if number % 2:
                out.append(expand(int(piece), self._stacks[state]))
                continue
            key = (piece, state)
            if key not in self._stretches:
                inlined = self._scan(piece, state)
                if 0 < number < len(pieces) - 1:  # first and last hold the reader's own links
                    make_room(self._stretches)
                    self._stretches[key] = inlined
            else:
                inlined = self._stretches[key]
            out.append(inlined[0])
            state = inlined[1]
        return page[:head_start] + self.head() + "".join(out)

    def inline_fragment(self, fragment: str, ancestors: Ancestors) -> tuple[str, dict[str, Ancestors]]:
        """A piece of the current page, inlined inside `ancestors`; and where its markers stand."""
        markers: dict[str, Ancestors] = {}
        return self._scan(fragment, self._state(ancestors), markers)[0], markers

    def start_tag(self, ancestors: Ancestors, name: str, attributes: dict[str, str]) -> str:
        """The start tag premailer would give this element inside `ancestors`."""
        rewritten, added = self._answer(ancestors, name, attributes)
        if rewritten:
            raise CannotInline(f"premailer rewrites an attribute of <{name}>")
        written = "".join(f' {key}="{html.escape(value)}"' for key, value in attributes.items())
        return f"<{name}{written}{added}>"

    def _scan(self, text: str, state: int, markers: dict[str, Ancestors] | None = None) -> tuple[str, int]:
        """`text` inlined from `state`, and the state it leaves; with `markers`, where they stand."""
        parts = _TOKENS.split(text)  # text, token, text, token, ..., text
        steps = self._steps
        for number in range(1, len(parts), 2):
            token = parts[number]
            if markers is not None and token.startswith("dgstmark"):
                markers[token[len("dgstmark") : -1]] = self._stacks[state]
            step = steps.get((state, token))
            if step is None:
                step = self._step(state, token)
            parts[number], state = step
        return "".join(parts), state

    def _state(self, stack: Ancestors) -> int:
        """The number of the state where the elements of `stack` are open."""
        if stack not in self._states:
            self._states[stack] = len(self._stacks)
            self._stacks.append(stack)
        return self._states[stack]

    def _step(self, state: int, token: str) -> tuple[str, int]:
        """The token as premailer writes it in `state`, and the state after it; remembered."""
        found = _TOKEN.fullmatch(token)
        assert found is not None, "tokens come from splitting by the same pattern"
        stack = self._stacks[state]
        if found["mark"] is not None:
            step = token, state
        elif found["closing"]:
            name, inside = found["name"].lower(), list(stack)
            while inside and inside.pop()[0] != name:
                pass  # an element closed implicitly, as a <p> by its </td>
            step = token, self._state(tuple(inside))
        else:
            styled, opened = self._start_tag(token, found["name"].lower(), found["attributes"], stack)
            step = styled or token, state if opened is None else self._state((*stack, opened))
        make_room(self._steps, TAGS)
        self._steps[(state, token)] = step
        return step

    def _start_tag(
        self, tag: str, name: str, written: str, ancestors: Ancestors
    ) -> tuple[str | None, tuple[str, str] | None]:
        """A start tag as premailer would write it (None: as it is), and the element it opens."""
        attributes = {k.lower(): html.unescape(v[1:-1]) for k, v in _ATTRIBUTE.findall(written)}
        rewritten, added = self._answer(ancestors, name, attributes)
        styled = _rewrite(tag[:-1], rewritten) + added + ">" if rewritten or added else None
        return styled, None if name in _VOID else (name, attributes.get("class", ""))

    def head(self) -> str:
        """premailer's <head> of the page inlined last: the rules it inlined gone, the media
        queries kept. The same string for every page with the same <head>."""
        before_body = self._before_body
        if before_body not in self._heads:
            styled = self.inline_styles(before_body + "<body></body></html>")
            found = _HEAD.search(styled)
            if found is None:
                raise CannotInline("premailer returned no <head>")
            self._heads[before_body] = found.group(0)
        return self._heads[before_body]

    def _answer(self, ancestors: Ancestors, name: str, attributes: dict[str, str]) -> Answer:
        """What premailer does to an element of this kind."""
        styling = tuple((key, attributes[key]) for key in _STYLING if key in attributes)
        kind: Kind = (ancestors, name, styling)
        if kind not in self._kinds:
            self._kinds[kind] = self._learn(ancestors, name, dict(styling))
        return self._kinds[kind]

    def _learn(self, ancestors: Ancestors, name: str, styling: dict[str, str]) -> Answer:
        chain = [(tag, cls) for tag, cls in ancestors if tag != "html"]
        if name != "body" and not any(tag == "body" for tag, _ in chain):
            chain.insert(0, ("body", ""))
        opening = "".join(f"<{tag}{_class(cls)}>" for tag, cls in chain)
        closing = "".join(f"</{tag}>" for tag, _ in reversed(chain))
        attributes = "".join(f' {key}="{html.escape(value)}"' for key, value in styling.items())
        element = f'<{name}{attributes} data-specimen="1"></{name}>'
        styled = lxml_html.document_fromstring(
            self.learn_styles(self._before_body + opening + element + closing + "</html>")
        )
        specimen = styled.xpath("//*[@data-specimen]")[0]
        result = {key: value for key, value in specimen.attrib.items() if key != "data-specimen"}
        if any(key not in result for key in styling):
            raise CannotInline(f"premailer removes an attribute of <{name}>")
        rewritten = {key: value for key, value in result.items() if key in styling and styling[key] != value}
        added = "".join(
            f' {key}="{html.escape(value)}"' for key, value in result.items() if key not in styling
        )
        return rewritten, added


def _rewrite(start_tag: str, values: dict[str, str]) -> str:
    """The start tag with some attribute values replaced, everything else as written."""
    for key, value in values.items():
        pattern = rf"""(\s{key}\s*=\s*)("[^"]*"|'[^']*')"""
        start_tag = re.sub(pattern, rf'\g<1>"{html.escape(value)}"', start_tag, count=1)
    return start_tag


def _class(value: str) -> str:
    return f' class="{html.escape(value)}"' if value else ""


def same_document(first: str, second: str) -> bool:
    """Whether two HTML documents have the same elements, attributes and text, however written."""
    a, b = lxml_html.document_fromstring(first), lxml_html.document_fromstring(second)
    return _shape(a) == _shape(b)


def _shape(root: lxml_html.HtmlElement) -> list[tuple[object, ...]]:
    return [
        (element.tag, sorted(element.attrib.items()), " ".join((element.text or "").split()),
         " ".join((element.tail or "").split()))
        for element in root.iter()
    ]  # fmt: skip
