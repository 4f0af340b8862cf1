"""arXiv's category taxonomy, shipped as data (arxiv_categories.txt): a typo must not empty a digest."""

from __future__ import annotations

import difflib
import functools
import importlib.resources

# Categories are matched without regard to case (digest.matching casefolds them), so they are known so too.


@functools.cache
def codes() -> dict[str, str]:
    """Every arXiv category code, by its casefolded form."""
    text = (importlib.resources.files(__package__) / "arxiv_categories.txt").read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return {line.casefold(): line for line in lines if line and not line.startswith("#")}


@functools.cache
def archives() -> frozenset[str]:
    """The archives, cs, math, hep-th …: the part of a code before its dot."""
    return frozenset(code.split(".")[0] for code in codes())


def is_known(category: str) -> bool:
    """True for an arXiv code, and for a plain word of another source's own subjects (bioRxiv's)."""
    folded = category.casefold()
    if folded in codes():
        return True
    # A word with neither dot nor dash is no arXiv code in form, unless it names an archive alone.
    return not ("." in folded or "-" in folded or folded in archives() or _close(folded))


def hint(category: str) -> str:
    folded = category.casefold()
    close = _close(folded)
    if close:
        return f"did you mean {close}?"
    if folded in archives():
        return f"{category} is an archive: name its categories, e.g. {_first_of(folded)}"
    return "see the arXiv category taxonomy, e.g. cs.CL"


def _close(folded: str) -> str | None:
    found = difflib.get_close_matches(folded, codes(), n=1, cutoff=0.8)
    return codes()[found[0]] if found else None


def _first_of(archive: str) -> str:
    return next(code for folded, code in sorted(codes().items()) if folded.startswith(archive + "."))
