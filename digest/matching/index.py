"""Where the words of profiles occur in papers: folding, spellings, and one index of every paper.

Text is folded (case, accents) and split into words. Words separated only by spaces or dashes
form one run; punctuation ends a run, so a phrase never spans two sentences. A keyword is
folded the same way with its words joined, and it matches wherever consecutive words of a run,
joined, spell it (or its regular plural or singular): `pretraining`, `pre-training`,
`pre training` and `PreTraining` all meet, while `RL` never matches inside `URL`.

Matching many profiles is one pass over the papers: `PaperIndex` scans each text once for
every spelling any profile asks for, and each profile then reads its terms' hits from there.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from ..models import Likeness, Paper, Profile, Reason, Span

# A word: letters and digits, with any combining accents typed after them (NFD text).
_WORD = re.compile(r"(?:[^\W_][\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*)+")
# A stretch of text without punctuation: only spaces and dashes keep words adjacent.
_RUN = re.compile(r"[\w\s\-\u2010-\u2014\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
# Words that end in s without being plurals: "news" must not match "new".
_NOT_PLURAL = frozenset({"news", "series", "species", "means", "lens", "physics", "mathematics", "ethics"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FIELDS = ("title", "abstract")


@functools.lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Case- and accent-insensitive form: TÜLU → tulu."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def runs(text: str) -> Iterator[tuple[list[str], re.Match[str]]]:
    """Runs of adjacent words: their folded forms, and the stretch of `text` they stand in."""
    # Most listings are ASCII: folding the whole text at once then keeps every offset in place.
    folded = text.lower() if text.isascii() else None
    for region in _RUN.finditer(text):
        if folded is not None:
            words = _WORD.findall(folded, region.start(), region.end())
        else:
            words = [fold(w) for w in _WORD.findall(text, region.start(), region.end())]
        if words:
            yield words, region


def word_offsets(region: re.Match[str], count: int) -> list[tuple[int, int]]:
    """Where the first `count` words of a run stand; only needed for the few runs that match."""
    words = _WORD.finditer(region.string, region.start(), region.end())
    return [(w.start(), w.end()) for w in itertools.islice(words, count)]


@dataclass(frozen=True)
class Term:
    """A keyword as typed, and the joined spellings that count as matching it."""

    text: str
    forms: frozenset[str]


@dataclass(frozen=True, slots=True)  # slots: an edition can hold 100,000 of them
class CompiledProfile:
    profile: Profile
    keywords: tuple[Term, ...]
    all_of: tuple[Term, ...]
    exclude: tuple[Term, ...]
    authors: Mapping[str, str]  # name key → name as the profile wrote it
    categories: frozenset[str]
    likeness: Likeness | None = None  # the learned ranker's view of this listing, for profiles with likes

    def with_likeness(self, likeness: Likeness) -> CompiledProfile:
        """This profile with its learned ranker's view (dataclasses.replace, ten times faster)."""
        return CompiledProfile(
            self.profile, self.keywords, self.all_of, self.exclude, self.authors, self.categories, likeness
        )

    @property
    def term_count(self) -> int:
        return len(self.keywords) + len(self.all_of) + len(self.authors)


def compile_profile(profile: Profile) -> CompiledProfile:
    return CompiledProfile(
        profile=profile,
        keywords=_compiled_terms(profile.keywords),
        all_of=_compiled_terms(profile.all_of),
        exclude=_compiled_terms(profile.exclude),
        authors={name_key(a): a for a in profile.authors} if profile.authors else _NO_AUTHORS,
        categories=_casefolded(profile.categories),
    )


# Most profiles name no category and no author: one empty set and one empty mapping for all of
# them (a new one each is 21 MB and 6 MB at 100,000); the mapping read-only, since it is shared.
_NO_CATEGORIES: frozenset[str] = frozenset()
_NO_AUTHORS: Mapping[str, str] = MappingProxyType({})


def _casefolded(categories: tuple[str, ...]) -> frozenset[str]:
    return frozenset(c.casefold() for c in categories) if categories else _NO_CATEGORIES


# Equal lists of terms, as profiles read share them (`shared_terms`), compile to one tuple: a tuple
# each was 5 MB at 100,000 profiles excluding the same word. Bounded: most keyword lists are one
# profile's own.
@functools.lru_cache(maxsize=1024)
def _compiled_terms(terms: tuple[str, ...]) -> tuple[Term, ...]:
    """Each term once, compiled."""
    return tuple(compile_term(t) for t in dict.fromkeys(terms))


@functools.lru_cache(maxsize=100_000)
def compile_term(keyword: str) -> Term:
    joined = "".join(fold(w) for w in _WORD.findall(keyword))
    return Term(keyword, frozenset(plural_forms(joined)) if joined else frozenset())


def plural_forms(word: str) -> set[str]:
    """The word and its regular singular/plural counterparts (model ↔ models, query ↔ queries)."""
    forms = {word, word + "s", word + "es"}
    if word.endswith("y") and len(word) > 2:
        forms.add(word[:-1] + "ies")
    if word in _NOT_PLURAL or word.endswith(("ss", "us", "is")):
        return forms
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    elif word.endswith("es"):  # both caches → cache and boxes → box are regular
        forms.update(w for w in (word[:-1], word[:-2]) if len(w) >= 3)
    elif word.endswith("s") and len(word) > 4:
        forms.add(word[:-1])
    return forms


def name_key(name: str) -> str:
    return " ".join(fold(w) for w in _WORD.findall(name))


Hits = dict[int, dict[str, list[Span]]]  # paper number → field → spans


@dataclass(frozen=True)
class TermHit:
    """One term found in one paper: the reasons to show, and whether the title has it."""

    paper: int
    reasons: tuple[Reason, ...]
    in_title: bool


def _reasons(term: Term, spans: dict[str, list[Span]]) -> tuple[Reason, ...]:
    return tuple(
        Reason("keyword", term.text, field, tuple(spans[field])) for field in FIELDS if field in spans
    )


class PaperIndex:
    """Where every spelling that the given profiles ask for occurs in the papers."""

    def __init__(self, papers: Sequence[Paper], profiles: Iterable[CompiledProfile]) -> None:
        self.papers = tuple(papers)
        self.number_of = {paper.id: number for number, paper in enumerate(self.papers)}
        # Ties between equal scores: more upvotes first, then the more recent paper.
        by_signal = sorted(range(len(self.papers)), key=lambda n: _signal(self.papers[n]))
        self.tie_order = {number: order for order, number in enumerate(by_signal)}
        terms = {t for p in profiles for t in (*p.keywords, *p.all_of, *p.exclude)}
        self.vocabulary = frozenset(form for t in terms for form in t.forms)
        self._hits: dict[str, Hits] = {}
        self._by_author: dict[str, list[int]] = {}
        self._reasons: dict[str, list[TermHit]] = {}
        self._papers: dict[str, frozenset[int]] = {}
        prefixes = frozenset(form[:i] for form in self.vocabulary for i in range(1, len(form) + 1))
        for number, paper in enumerate(self.papers):
            self._scan(number, paper, prefixes)

    def reasons_for(self, term: Term) -> list[TermHit]:
        """Each paper the term occurs in, with its reasons; computed once however many profiles share it."""
        if term.text not in self._reasons:
            self._reasons[term.text] = [
                TermHit(number, _reasons(term, spans), "title" in spans)
                for number, spans in sorted(self._merged_hits(term).items())
            ]
        return self._reasons[term.text]

    def papers_with(self, term: Term) -> frozenset[int]:
        """The papers the term occurs in; computed once however many profiles share it."""
        if term.text not in self._papers:
            self._papers[term.text] = frozenset(hit.paper for hit in self.reasons_for(term))
        return self._papers[term.text]

    def papers_by(self, key: str) -> list[int]:
        return self._by_author.get(key, [])

    def _merged_hits(self, term: Term) -> Hits:
        if not term.forms <= self.vocabulary:
            raise ValueError(f"the index was not built for '{term.text}'")
        merged: Hits = {}
        for form in term.forms:
            for number, fields in self._hits.get(form, {}).items():
                for field, spans in fields.items():
                    merged.setdefault(number, {}).setdefault(field, []).extend(spans)
        return {n: {f: _distinct(s) for f, s in fields.items()} for n, fields in merged.items()}

    def _scan(self, number: int, paper: Paper, prefixes: frozenset[str]) -> None:
        for author in paper.authors:
            self._by_author.setdefault(name_key(author), []).append(number)
        for field, text in zip(FIELDS, (paper.title, paper.abstract), strict=True):
            for words, region in runs(text):
                offsets: list[tuple[int, int]] = []
                for form, first, last in self._spellings(words, prefixes):
                    if last >= len(offsets):
                        offsets = word_offsets(region, last + 1)
                    found = Span(offsets[first][0], offsets[last][1])
                    self._hits.setdefault(form, {}).setdefault(number, {}).setdefault(field, []).append(found)

    def _spellings(self, words: list[str], prefixes: frozenset[str]) -> Iterator[tuple[str, int, int]]:
        """Every sequence of adjacent words whose joined spelling is in the vocabulary."""
        for first in range(len(words)):
            joined = ""
            for last in range(first, len(words)):
                joined += words[last]
                if joined not in prefixes:
                    break
                if joined in self.vocabulary:
                    yield joined, first, last


def _distinct(spans: list[Span]) -> list[Span]:
    """One span per start (the longest), in text order."""
    longest: dict[int, Span] = {}
    for span in spans:
        if span.start not in longest or span.end > longest[span.start].end:
            longest[span.start] = span
    return sorted(longest.values(), key=lambda s: s.start)


def _signal(paper: Paper) -> tuple[int, dt.datetime]:
    return (paper.upvotes or 0, paper.published or _EPOCH)
