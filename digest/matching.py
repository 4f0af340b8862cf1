"""Profiles × papers → ranked matches with reasons. Pure: no I/O, no clock.

Each text is folded (case, accents) and split into words; the words are then joined into one
"squashed" string, with no separator where the text had only spaces or hyphens between them
and a barrier character elsewhere. A keyword, squashed the same way, matches where it occurs
in that string starting and ending on word boundaries. So `pretraining`, `pre-training`,
`pre training` and `PreTraining` all meet, `RL` never matches inside `URL`, and a phrase only
matches words that stand next to each other within one sentence.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .models import Match, Paper, Profile, Reason, Span

# A word: letters and digits, with any combining accents typed after them (NFD text).
_WORD = re.compile(r"(?:[^\W_][\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*)+")
_JOINER = re.compile(r"^[\s\-\u2010-\u2014]*$")  # spaces and dashes keep words adjacent
_BARRIER = "\x00"
# Words that end in s without being plurals: "news" must not match "new".
_NOT_PLURAL = frozenset({"news", "series", "species", "means", "lens", "physics", "mathematics", "ethics"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: TÜLU → tulu."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class IndexedText:
    """A field of a paper, squashed once so every keyword can be looked up with str.find."""

    squashed: str
    # Squashed offset of every word boundary → index of the word starting there. Barriers are
    # never part of a keyword, so any occurrence starting and ending here covers whole words.
    word_at: dict[int, int]
    spans: tuple[Span, ...]  # each word's span in the original text

    def find(self, form: str) -> Iterable[Span]:
        """Original-text spans where `form` covers whole words."""
        position = self.squashed.find(form)
        while position != -1:
            end = position + len(form)
            if position in self.word_at and end in self.word_at:
                first, last = self.word_at[position], self.word_at[end] - 1
                yield Span(self.spans[first].start, self.spans[last].end)
            position = self.squashed.find(form, position + 1)


def index_text(text: str) -> IndexedText:
    parts: list[str] = []
    word_at: dict[int, int] = {}
    spans: list[Span] = []
    length, previous_end = 0, None
    for index, word in enumerate(_WORD.finditer(text)):
        if previous_end is not None and not _JOINER.match(text[previous_end : word.start()]):
            parts.append(_BARRIER)
            length += 1
        folded = fold(word.group())
        word_at[length] = index
        parts.append(folded)
        length += len(folded)
        word_at.setdefault(length, index + 1)
        spans.append(Span(word.start(), word.end()))
        previous_end = word.end()
    return IndexedText("".join(parts), word_at, tuple(spans))


@dataclass(frozen=True)
class IndexedPaper:
    paper: Paper
    title: IndexedText
    abstract: IndexedText
    authors: frozenset[str]


def index_papers(papers: Iterable[Paper]) -> list[IndexedPaper]:
    """Tokenize every paper once per run, whatever the number of profiles."""
    return [
        IndexedPaper(p, index_text(p.title), index_text(p.abstract), frozenset(map(_name_key, p.authors)))
        for p in papers
    ]


@dataclass(frozen=True)
class Term:
    """A keyword as typed, and the squashed forms that count as matching it."""

    text: str
    forms: tuple[str, ...]


@dataclass(frozen=True)
class CompiledProfile:
    profile: Profile
    keywords: tuple[Term, ...]
    exclude: tuple[Term, ...]
    authors: dict[str, str]  # name key → name as the profile wrote it
    categories: frozenset[str]

    @property
    def term_count(self) -> int:
        return len(self.keywords) + len(self.authors)


def compile_profile(profile: Profile) -> CompiledProfile:
    return CompiledProfile(
        profile=profile,
        keywords=tuple(_term(k) for k in profile.keywords),
        exclude=tuple(_term(k) for k in profile.exclude),
        authors={_name_key(a): a for a in profile.authors},
        categories=frozenset(c.casefold() for c in profile.categories),
    )


def select(
    profile: CompiledProfile, papers: Iterable[IndexedPaper], skip: frozenset[str] = frozenset()
) -> list[Match]:
    """Every paper the profile selects, best first; ids in `skip` (already sent) are left out."""
    matches = []
    for indexed in papers:
        if indexed.paper.id in skip or not _in_categories(profile, indexed.paper):
            continue
        reasons = _reasons(profile, indexed)
        if reasons and not _excluded(profile, indexed):
            matches.append(Match(indexed.paper, _score(reasons, profile.term_count), reasons))
    return sorted(matches, key=_rank, reverse=True)


def _term(keyword: str) -> Term:
    squashed = "".join(fold(w) for w in _WORD.findall(keyword))
    forms = _plural_forms(squashed) if squashed else set()  # profiles reject such keywords
    return Term(keyword, tuple(sorted(forms, key=len, reverse=True)))


def _plural_forms(word: str) -> set[str]:
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


def _name_key(name: str) -> str:
    return " ".join(fold(w) for w in _WORD.findall(name))


def _in_categories(profile: CompiledProfile, paper: Paper) -> bool:
    # A paper whose categories are unknown (e.g. only listed by Hugging Face) is not filtered out.
    if not profile.categories or not paper.categories:
        return True
    return any(c.casefold() in profile.categories for c in paper.categories)


def _hits(term: Term, text: IndexedText) -> tuple[Span, ...]:
    spans: dict[int, Span] = {}
    for form in term.forms:
        for span in text.find(form):
            spans.setdefault(span.start, span)
    return tuple(sorted(spans.values(), key=lambda s: s.start))


def _reasons(profile: CompiledProfile, indexed: IndexedPaper) -> tuple[Reason, ...]:
    reasons = []
    for term in profile.keywords:
        for field, text in (("title", indexed.title), ("abstract", indexed.abstract)):
            spans = _hits(term, text)
            if spans:
                reasons.append(Reason("keyword", term.text, field, spans))
    for key, name in profile.authors.items():
        if key in indexed.authors:
            reasons.append(Reason("author", name, "authors"))
    return tuple(reasons)


def _excluded(profile: CompiledProfile, indexed: IndexedPaper) -> bool:
    return any(_hits(t, indexed.title) or _hits(t, indexed.abstract) for t in profile.exclude)


def _score(reasons: tuple[Reason, ...], term_count: int) -> float:
    """Terms found in the title (or chosen authors) outweigh any number found only in abstracts.

    Each strong term is worth more than all the profile's terms together, so sorting by score
    ranks title hits first, then the number of distinct terms.
    """
    strong = {r.term for r in reasons if r.field in ("title", "authors")}
    return float((term_count + 1) * len(strong) + len({r.term for r in reasons}))


def _rank(match: Match) -> tuple[float, int, dt.datetime]:
    return (match.score, match.paper.upvotes or 0, match.paper.published or _EPOCH)
