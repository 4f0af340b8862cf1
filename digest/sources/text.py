"""Turning feed text into clean plain text: whitespace, HTML, TeX accents, author lists."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

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


# A UTF-8 lead byte read as Latin-1/cp1252, followed by a continuation byte read the same way.
_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152-\u0178\u02c6-\u02dc\u2013-\u203a\u20ac\u2122]")


def squash(text: str) -> str:
    """Collapse runs of whitespace (hard wraps, indents, CRLF) to single spaces; compose accents."""
    return unicodedata.normalize("NFC", repair_mojibake(_SPACE.sub(" ", text).strip()))


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as Latin-1 or cp1252 ("$Ï‰$" → "$ω$"), when it decodes cleanly."""
    if not _MOJIBAKE.search(text):
        return text
    for wrong in ("latin-1", "cp1252"):
        try:
            return text.encode(wrong).decode("utf-8")
        except UnicodeError:
            continue
    return text


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


_INITIALS = re.compile(r"^(?:[A-Z][a-z]?\.[\s-]*)+$")  # M.  A. K.  P.-L.  Th.
_AFFILIATION = re.compile(r"\s*\([^()]*\)\s*$")
_ET_AL = re.compile(r"^et al\b", re.IGNORECASE)


def split_authors(text: str) -> tuple[str, ...]:
    """A joined author string as a list of names.

    Handles arXiv's "A, B,  Mononym, C (Affiliation)" and bioRxiv's "Surname, I., Surname, I.".
    """
    pieces = [squash(p) for p in re.split(r",(?![^()]*\))|\sand\s", text)]
    pieces = [p for p in pieces if p]
    if len(pieces) >= 2 and len(pieces) % 2 == 0 and all(_INITIALS.match(p) for p in pieces[1::2]):
        pieces = [
            f"{initials} {surname}" for surname, initials in zip(pieces[::2], pieces[1::2], strict=True)
        ]
    return clean_names(pieces)


def clean_names(names: Iterable[str]) -> tuple[str, ...]:
    """Names with TeX accents decoded, affiliations and "et al." tails dropped, duplicates removed."""
    cleaned = (squash(_AFFILIATION.sub("", decode_tex_accents(name))) for name in names)
    return tuple(dict.fromkeys(n for n in cleaned if n and not _ET_AL.match(n)))


def unwrap_redirect(url: str) -> str:
    """Google Alerts and Scholar wrap links as …/url?url=<the real one>&…; keep the real one."""
    parts = urlsplit(url)
    if parts.netloc.endswith("google.com") and parts.path in ("/url", "/scholar_url"):
        return parse_qs(parts.query).get("url", [url])[0]
    return url


def web_url(url: str) -> str:
    """`url` if it is an http(s) link; "" for javascript:, data: and anything else a feed sends."""
    url = url.strip()
    if any(c in url for c in "\r\n\0 ") or not re.match(r"^https?://[^/\s]", url, re.IGNORECASE):
        return ""
    return url
