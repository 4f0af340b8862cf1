"""Profiles × papers → ranked matches with reasons. Pure: no I/O, no clock.

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

from .models import Likeness, Match, Paper, Profile, Reason, Span, trending_reason

# A word: letters and digits, with any combining accents typed after them (NFD text).
_WORD = re.compile(r"(?:[^\W_][\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*)+")
# A stretch of text without punctuation: only spaces and dashes keep words adjacent.
_RUN = re.compile(r"[\w\s\-\u2010-\u2014\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
# Words that end in s without being plurals: "news" must not match "new".
_NOT_PLURAL = frozenset({"news", "series", "species", "means", "lens", "physics", "mathematics", "ethics"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# What the learned ranker's full lift adds to a paper's score: two distinct abstract keywords' worth.
# A paper at the profile's like threshold (lift 0.5) gains one; see the README's "Likes".
LIFT = 2.0
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
    authors: dict[str, str]  # name key → name as the profile wrote it
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
        keywords=tuple(compile_term(k) for k in dict.fromkeys(profile.keywords)),
        all_of=tuple(compile_term(k) for k in dict.fromkeys(profile.all_of)),
        exclude=tuple(compile_term(k) for k in dict.fromkeys(profile.exclude)),
        authors={name_key(a): a for a in profile.authors},
        categories=frozenset(c.casefold() for c in profile.categories),
    )


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


def select(profile: CompiledProfile, index: PaperIndex, skip: frozenset[str] = frozenset()) -> list[Match]:
    """Every paper the profile selects, best first; ids in `skip` (already sent) are left out."""
    ranked = _ranked(profile, index, skip)
    return [ranked.match(n) for n in ranked.order]


def select_top(
    profile: CompiledProfile, index: PaperIndex, skip: frozenset[str], limit: int
) -> tuple[list[Match], list[str]]:
    """The best `limit` papers the profile selects, and the ids of all it selects, best first."""
    ranked = _ranked(profile, index, skip)
    papers = index.papers
    return [ranked.match(n) for n in ranked.order[:limit]], [papers[n].id for n in ranked.order]


def select_top_with_reasons(
    profile: CompiledProfile, index: PaperIndex, skip: frozenset[str], limit: int
) -> tuple[list[Match], list[tuple[str, tuple[Reason, ...]]]]:
    """The best `limit` papers the profile selects, and (id, reasons) of all it selects, best
    first; the papers shown carry every reason, likes included (the rest only their terms)."""
    ranked = _ranked(profile, index, skip)
    papers, found = index.papers, ranked.found
    shown = [ranked.match(n) for n in ranked.order[:limit]]
    matched = [(m.paper.id, m.reasons) for m in shown]
    matched += [(papers[n].id, tuple(found.get(n, ()))) for n in ranked.order[limit:]]
    return shown, matched


def select_trending(
    profile: CompiledProfile, index: PaperIndex, skip: frozenset[str], chosen: Iterable[str]
) -> list[Match]:
    """The profile's `trending` most upvoted papers that its terms did not select (`chosen`) and
    that were not sent before (`skip`), best first, each with its upvotes as its reason.

    Only papers with upvotes (a Hugging Face listing gave them) take part; `exclude` still wins.
    """
    wanted = profile.profile.trending
    if wanted <= 0:
        return []
    taken = skip | frozenset(chosen)
    dropped = frozenset().union(*(index.papers_with(t) for t in profile.exclude))
    candidates = [
        (paper.upvotes, n)
        for n, paper in enumerate(index.papers)
        if paper.upvotes is not None and paper.id not in taken and n not in dropped
    ]
    order = index.tie_order  # upvotes first; the usual tie order (recency) after
    best = sorted(candidates, key=lambda c: (c[0], order[c[1]]), reverse=True)[:wanted]
    return [Match(index.papers[n], 0.0, (trending_reason(votes),)) for votes, n in best]


@dataclass(frozen=True, slots=True)
class Ranked:
    """What one profile selects: paper numbers best first, and what makes each one's match."""

    profile: CompiledProfile
    papers: Sequence[Paper]
    order: list[int]  # the selected papers' numbers, best first
    scores: dict[int, float]
    found: dict[int, list[Reason]]  # the reasons of the papers a term or author matched
    lift: Mapping[int, float]  # the learned lifts by paper number

    def match(self, number: int) -> Match:
        reasons = tuple(self.found.get(number, ()))
        lift = self.lift.get(number, 0.0)
        return _match(self.profile, self.papers[number], self.scores[number], reasons, lift)


def _ranked(profile: CompiledProfile, index: PaperIndex, skip: frozenset[str]) -> Ranked:
    """Every selected paper, best first.

    A term found in the title (or a chosen author) is worth more than all the profile's terms
    together, so the score ranks title hits first, then the number of distinct terms; upvotes
    and recency break ties.
    """
    found, hits, chosen = _term_hits(profile, index)
    lift = _lifts(profile.likeness, index)
    chosen.update([n for n, value in lift.items() if value >= 0.5])  # close enough to a liked paper
    for term in profile.exclude:
        chosen -= index.papers_with(term)
    papers = index.papers
    if skip:
        chosen = {n for n in chosen if papers[n].id not in skip}
    if profile.categories:
        chosen = {n for n in chosen if _in_categories(profile, papers[n])}
    hit, lifted, order = hits.get, lift.get, index.tie_order
    scores = {n: hit(n, 0) + LIFT * lifted(n, 0.0) for n in chosen}
    # The tie order is a permutation: (score, tie) never ties, so the tuples sort as the scores would.
    keyed = sorted([(score, order[n], n) for n, score in scores.items()], reverse=True)
    return Ranked(profile, papers, [n for _, _, n in keyed], scores, found, lift)


def _term_hits(
    profile: CompiledProfile, index: PaperIndex
) -> tuple[dict[int, list[Reason]], dict[int, int], set[int]]:
    """The reasons and scores of the papers the profile's terms and authors found, and those they select."""
    strong = profile.term_count + 1
    found: dict[int, list[Reason]] = {}
    scores: dict[int, int] = {}

    def add(number: int, reasons: tuple[Reason, ...], in_title: bool) -> None:
        found.setdefault(number, []).extend(reasons)
        scores[number] = scores.get(number, 0) + 1 + (strong if in_title else 0)

    for term in profile.keywords:
        for hit in index.reasons_for(term):
            add(hit.paper, hit.reasons, hit.in_title)
    for key, name in profile.authors.items():
        for number in index.papers_by(key):
            add(number, (Reason("author", name, "authors"),), True)
    chosen = set(found)  # any keyword or author selects a paper...
    for term in profile.all_of:
        for hit in index.reasons_for(term):
            add(hit.paper, hit.reasons, hit.in_title)
    if profile.all_of:  # ...that must also hold every all_of term
        every = frozenset.intersection(*(index.papers_with(t) for t in profile.all_of))
        chosen = chosen & every if profile.keywords or profile.authors else set(every)
    return found, scores, chosen


def _lifts(likeness: Likeness | None, index: PaperIndex) -> Mapping[int, float]:
    """Paper number → the learned lift, for the few papers near what the reader liked."""
    if likeness is None:
        return {}
    return likeness.lifts_in(index.papers, index.number_of)


def _match(
    profile: CompiledProfile, paper: Paper, score: float, reasons: tuple[Reason, ...], lift: float
) -> Match:
    """A selected paper; one the learned ranker lifted says why, computed only for papers shown."""
    likeness = profile.likeness
    if likeness is None or lift <= 0:
        return Match(paper, score, reasons, None if likeness is None else 0.0)
    return Match(paper, score, (*reasons, likeness.reason(paper.id)), round(lift, 3))


def _distinct(spans: list[Span]) -> list[Span]:
    """One span per start (the longest), in text order."""
    longest: dict[int, Span] = {}
    for span in spans:
        if span.start not in longest or span.end > longest[span.start].end:
            longest[span.start] = span
    return sorted(longest.values(), key=lambda s: s.start)


def _signal(paper: Paper) -> tuple[int, dt.datetime]:
    return (paper.upvotes or 0, paper.published or _EPOCH)


def _in_categories(profile: CompiledProfile, paper: Paper) -> bool:
    # A paper whose categories are unknown (e.g. only listed by Hugging Face) is not filtered out.
    if not profile.categories or not paper.categories:
        return True
    return any(c.casefold() in profile.categories for c in paper.categories)
