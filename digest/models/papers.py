"""Papers and what becomes of them: listings, profiles, matches, digests."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Paper:
    """One paper, normalized from whichever sources listed it."""

    id: str  # canonical: an arXiv id without version, or a stable id from guid/link
    title: str
    abstract: str
    authors: tuple[str, ...]
    url: str
    pdf_url: str | None = None
    categories: tuple[str, ...] = ()  # primary first
    published: dt.datetime | None = None
    announce_type: str | None = None  # arXiv: new, cross, replace, replace-cross
    upvotes: int | None = None  # Hugging Face community signal
    hf_url: str | None = None
    code_url: str | None = None
    sources: tuple[str, ...] = ()
    ai_summary: str | None = None  # Hugging Face's one-line summary, when it gives one
    organization: str | None = None  # the organization Hugging Face lists the paper under


def paper_to_dict(paper: Paper) -> dict[str, Any]:
    """A paper as JSON-ready data: lists for tuples, ISO 8601 for dates."""
    data = asdict(paper)
    for key, value in data.items():
        if isinstance(value, tuple):
            data[key] = list(value)
    data["published"] = paper.published.isoformat() if paper.published else None
    return data


def paper_from_dict(data: dict[str, Any]) -> Paper:
    """The inverse of paper_to_dict; unknown keys (from a newer version) are ignored."""
    known = _paper_fields()
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
    }
    if values.get("published"):
        values["published"] = dt.datetime.fromisoformat(values["published"])
    return Paper(**values)


@functools.cache
def _paper_fields() -> frozenset[str]:
    """Paper's field names, once: `fields()` walks the class, and the archive reads thousands of papers."""
    return frozenset(f.name for f in fields(Paper))


@dataclass(frozen=True)
class CachedFeed:
    """A listing body as last fetched, with the validators for a conditional GET."""

    body: bytes
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class SourceReport:
    """What happened to one source during a fetch."""

    name: str
    location: str
    papers: int = 0  # kept, after merging is left to the listing
    items: int = 0  # entries the document held
    skipped: int = 0  # entries not kept: replacements, or nothing a reader could use
    new: int = 0  # papers not seen in an earlier fetch
    unchanged: bool = False  # the server answered 304: the cached copy was used
    warnings: tuple[str, ...] = ()
    error: str | None = None
    stale: bool = False  # an arXiv listing that repeats the previous day's: not updated yet

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class Listing:
    """Every paper of one fetch, merged across sources, with a report per source."""

    papers: tuple[Paper, ...]
    reports: tuple[SourceReport, ...]

    @property
    def failed_sources(self) -> tuple[SourceReport, ...]:
        return tuple(r for r in self.reports if r.failed)

    @property
    def troubled_sources(self) -> tuple[SourceReport, ...]:
        """Failed or stale: the digest tells its readers that papers may be missing."""
        return tuple(r for r in self.reports if r.failed or r.stale)


@dataclass(frozen=True, slots=True)  # slots: an edition can hold 100,000 of them
class Profile:
    """One subscriber's (or group's) keyword profile, validated."""

    # Its file as a string, not a Path: a Path is three objects (250 bytes), 25 MB at 100,000
    # profiles in every process of a run, and only a few callers ask for it (`path`).
    file: str
    emails: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()  # every one of these must match too
    categories: tuple[str, ...] = ()
    name: str | None = None
    max_papers: int = 20
    timezone: str | None = None
    send_at: str | None = None
    note: str | None = None
    frequency: str | None = None  # daily (the default) or weekly
    weekday: str | None = None  # weekly digests: which day, monday by default
    like: tuple[str, ...] = ()  # canonical paper ids: "more like these"
    dislike: tuple[str, ...] = ()  # canonical paper ids: "less like these"
    similarity: str | None = None  # strict, normal (the default) or loose: how close a liked paper must be
    trending: int = 0  # add the N most upvoted Hugging Face papers the profile did not select

    @property
    def path(self) -> Path:
        return Path(self.file)

    @property
    def slug(self) -> str:
        """The profile's name on disk, used for preview file names."""
        return self.path.stem


@dataclass(frozen=True)
class Span:
    """Where a keyword matched: character offsets into a paper field."""

    start: int
    end: int


@dataclass(frozen=True)
class Reason:
    """Why a paper was selected: which term matched, in which field, and where."""

    kind: str  # "keyword", "author", "like" or "trending"
    term: str  # a like: the title of the nearest liked paper
    field: str  # "title", "abstract" or "authors"; a like: "title and abstract"
    spans: tuple[Span, ...] = ()
    because: tuple[str, ...] = ()  # a like: the terms that weighed most

    def __str__(self) -> str:
        if self.kind == "like":
            return like_explanation(self)
        if self.kind == "trending":
            return f"trending on Hugging Face ({self.term})"
        return f"{self.kind} '{self.term}' in {self.field}"


def trending_reason(upvotes: int) -> Reason:
    """Why a paper no term selected is in the trending section: its upvotes."""
    return Reason("trending", f"{upvotes} upvote{'s' if upvotes != 1 else ''}", "upvotes")


def reason_to_dict(reason: Reason) -> dict[str, Any]:
    """A reason as JSON-ready data, so an edition's reasons can be kept for its archive page."""
    data: dict[str, Any] = {"kind": reason.kind, "term": reason.term, "field": reason.field}
    if reason.spans:
        data["spans"] = [[s.start, s.end] for s in reason.spans]
    if reason.because:
        data["because"] = list(reason.because)
    return data


def reason_from_dict(data: dict[str, Any]) -> Reason:
    spans = tuple(Span(int(start), int(end)) for start, end in data.get("spans", ()))
    because = tuple(str(term) for term in data.get("because", ()))
    return Reason(str(data["kind"]), str(data["term"]), str(data["field"]), spans, because)


def like_explanation(reason: Reason, width: int = 50) -> str:
    """like "DoReMi: Optimizing Data Mixtures…" (data mixture, proxy model)."""
    title = reason.term if len(reason.term) <= width else reason.term[: width - 1].rstrip() + "…"
    terms = f" ({', '.join(reason.because)})" if reason.because else ""
    return f'like "{title}"{terms}'


# The lift that selects a paper on likes alone: the paper is at its profile's threshold.
SELECTING_LIFT = 0.5


class Likeness(Protocol):
    """What a profile's learned ranker says of one listing's papers (see digest.relevance)."""

    def lift(self, paper_id: str) -> float:
        """0 to 1: how far the paper is towards (and past) what the reader liked; 0 for most."""
        ...

    def lifted(self) -> Mapping[str, float]:
        """Every paper with a lift above 0, with its lift: the few near what the reader liked."""
        ...

    def lifts_in(self, papers: Sequence[Paper], number_of: Mapping[str, int]) -> Mapping[int, float]:
        """`lifted()` by the papers' numbers in `papers` (`number_of`: id → number), for matching."""
        ...

    def selected(self) -> frozenset[str]:
        """The papers close enough to be selected on likes alone."""
        ...

    def reason(self, paper_id: str) -> Reason:
        """Why: the nearest liked paper and the terms that weighed most."""
        ...


@dataclass(frozen=True)
class Match:
    """A selected paper with its score and the reasons it was selected."""

    paper: Paper
    score: float
    reasons: tuple[Reason, ...]
    learned: float | None = None  # the learned ranker's lift (0 to 1), for profiles with likes

    @property
    def via(self) -> list[str]:
        """What selected or lifted the paper: keywords, authors, like."""
        kinds = {"keyword": "keywords", "author": "authors", "like": "like", "trending": "trending"}
        return list(dict.fromkeys(kinds[r.kind] for r in self.reasons if r.kind in kinds))

    def explanations(self) -> list[str]:
        """The reasons in words, one per term: "'pretraining' in title and abstract"."""
        fields: dict[tuple[str, str], list[str]] = {}
        likes = [str(r) for r in self.reasons if r.kind in ("like", "trending")]
        for reason in self.reasons:
            if reason.kind not in ("like", "trending"):
                fields.setdefault((reason.kind, reason.term), []).append(reason.field)
        return [
            f"author {term}" if kind == "author" else f"'{term}' in {' and '.join(where)}"
            for (kind, term), where in fields.items()
        ] + likes


@dataclass(frozen=True)
class Digest:
    """What one subscriber receives for one edition."""

    edition: dt.date
    profile: Profile
    recipient: str
    matches: tuple[Match, ...]  # shown, in rank order
    more: int = 0  # matched but cut by max_papers
    failed_sources: tuple[SourceReport, ...] = field(default=())
    matched_ids: tuple[str, ...] = ()  # every paper matched, best first, for the web view
    # The reasons of each of matched_ids, in the same order, kept for the archive and the feed.
    matched_reasons: tuple[tuple[Reason, ...], ...] = ()
    trending: tuple[Match, ...] = ()  # the profile's `trending: N`: upvoted papers no term selected

    @property
    def matched(self) -> int:
        return len(self.matches) + self.more


# How a source's document may be read: detected from its content, or named in the config.
SOURCE_KINDS = ("auto", "arxiv", "huggingface", "biorxiv", "scholar-alert", "feed")


@dataclass(frozen=True)
class SourceConfig:
    """A listing to fetch: a URL or a local file path."""

    name: str
    location: str
    kind: str = "auto"  # or a format name, when detection should be overruled


# What people write for a paper: `arXiv:2305.10429v2`, an abs or pdf URL, arXiv's own DOI
# (10.48550/arXiv.…), or a DOI. New-style and old-style arXiv ids, version apart, are the forms
# sources reduce a paper to, so a liked id meets its paper.
_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")
_ARXIV_FORMS = re.compile(
    r"^(?:arxiv:\s*|https?://(?:export\.|www\.)?arxiv\.org/(?:abs|pdf)/"
    r"|(?:https?://(?:dx\.)?doi\.org/)?10\.48550/arxiv\.)",
    re.IGNORECASE,
)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_FORMS = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)


def paper_id_of(text: str) -> str | None:
    """The canonical id in what people write for a paper: an arXiv id without its version, or a
    DOI in lower case; None when the text is neither."""
    text = text.strip()
    bare = _ARXIV_FORMS.sub("", text).removesuffix("/").removesuffix(".pdf")
    arxiv = _ARXIV_ID.fullmatch(bare)
    if arxiv:
        return arxiv.group(1)
    doi = _DOI_FORMS.sub("", text)
    return doi.lower() if _DOI.fullmatch(doi) else None
