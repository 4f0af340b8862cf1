"""Turning feed text into clean plain text: whitespace, HTML, TeX accents, author lists."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

_SPACE = re.compile(r"\s+")
# Elements whose content is never text a reader should see.
_HIDDEN = {"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"}
_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
}


def squash(text: str) -> str:
    """Collapse runs of whitespace (hard wraps, indents, CRLF) to single spaces; compose accents."""
    return unicodedata.normalize("NFC", _SPACE.sub(" ", text).strip())


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden_depth += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden_depth = max(0, self.hidden_depth - 1)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML fragment; scripts, styles and tags are dropped."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return squash("".join(extractor.parts))


# TeX accent commands and the Unicode combining marks they stand for.
_ACCENTS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
}
_TEX_ACCENT = re.compile(r"""\{?\\([."'`^~=]|[uvHckr](?=[\s{]))\s*\{?\\?([A-Za-z])\}?\}?""")
_TEX_LETTERS = {
    r"\o": "ø",
    r"\O": "Ø",
    r"\ss": "ß",
    r"\ae": "æ",
    r"\AE": "Æ",
    r"\l": "ł",
    r"\L": "Ł",
    r"\aa": "å",
    r"\AA": "Å",
    r"\i": "ı",
}
_TEX_LETTER = re.compile(r"\{?(\\(?:ss|ae|AE|aa|AA|[oOlLi]))(?![A-Za-z])\}?")


def decode_tex_accents(text: str) -> str:
    """J\\"org → Jörg, Pi\\v{z}urica → Pižurica; other TeX is left as it is."""
    if "\\" not in text:
        return text
    text = _TEX_LETTER.sub(lambda m: _TEX_LETTERS[m.group(1)], text)
    text = _TEX_ACCENT.sub(lambda m: m.group(2) + _ACCENTS[m.group(1)], text)
    return unicodedata.normalize("NFC", text)


def split_authors(text: str) -> tuple[str, ...]:
    """A comma-joined author string as a list of names (mononyms leave double spaces)."""
    names = (squash(decode_tex_accents(name)) for name in re.split(r",|\sand\s", text))
    return tuple(name for name in names if name)
