"""What a document that holds no listing is, so that its source's error names it: an image, a page, text."""

from __future__ import annotations

import re

EXPECTED = "expected RSS, Atom or a JSON listing"
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a ZIP archive"),
)
# Feeds in UTF-16 or UTF-32 are full of NUL bytes, yet text.
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# `[section]` opens INI and TOML files, which would otherwise pass for a JSON list.
_SECTION = re.compile(r"\[[a-z_][\w.-]*\]\s*$")


def not_a_listing(body: bytes) -> str | None:
    """What the document is when it plainly holds no listing; None when it may hold one."""
    what = next((what for magic, what in _MAGIC if body.startswith(magic)), None)
    if what or body.startswith(_WIDE_BOMS):
        return what
    head = body[:4096]
    if b"\x00" in head:
        return "binary data"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").lower()
    if text.startswith(("<!doctype html", "<html")):
        return "an HTML page"
    if text and (text[0] not in "<[{" or _SECTION.match(text.partition("\n")[0])):
        return "plain text"
    return None
