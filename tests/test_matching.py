"""The matching rules of the SPEC, table by table, on the pure matching core."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.matching import CompiledProfile, PaperIndex, compile_profile, select
from digest.models import Match, Paper, Profile, Reason, Span


def paper(
    id: str = "2501.00001",
    *,
    title: str = "Untitled",
    abstract: str = "",
    authors: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    upvotes: int | None = None,
    published: dt.datetime | None = None,
) -> Paper:
    return Paper(
        id=id,
        title=title,
        abstract=abstract,
        authors=authors,
        url=f"https://arxiv.org/abs/{id}",
        categories=categories,
        upvotes=upvotes,
        published=published,
    )


def profile(
    keywords: tuple[str, ...] = (),
    *,
    exclude: tuple[str, ...] = (),
    authors: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
) -> CompiledProfile:
    return compile_profile(
        Profile(
            file="alice.yaml",
            emails=("alice@example.org",),
            keywords=keywords,
            exclude=exclude,
            authors=authors,
            categories=categories,
        )
    )


def matches(compiled: CompiledProfile, *papers: Paper, skip: frozenset[str] = frozenset()) -> list[Match]:
    return select(compiled, PaperIndex(papers, [compiled]), skip)


def selected_ids(compiled: CompiledProfile, *papers: Paper, skip: frozenset[str] = frozenset()) -> list[str]:
    return [m.paper.id for m in matches(compiled, *papers, skip=skip)]


def assert_keyword_rule(keyword: str, text: str, should_match: bool) -> None:
    """The keyword finds `text` both as a title and as an abstract, or in neither."""
    in_title = paper("in-title", title=text)
    in_abstract = paper("in-abstract", abstract=text)

    found = set(selected_ids(profile((keyword,)), in_title, in_abstract))

    assert found == ({"in-title", "in-abstract"} if should_match else set())


def nfd(text: str) -> str:
    """Accents as separate combining marks, as some feeds and copy-pastes deliver them."""
    return unicodedata.normalize("NFD", text)


# --- the words of a keyword --------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "should_match"),
    [
        ("transformer", "TRANSFORMER Models", True),
        ("LLM", "Small llm agents", True),
        ("tulu", "TÜLU 3: Pushing Frontiers", True),
        ("TÜLU", "the tulu recipe", True),
        ("Jörg", "Work by Jorg", True),
        ("Jorg", "Work by JÖRG", True),
        ("Muller", "MÜLLER et al.", True),
        ("strasse", "Straße", True),
        ("fine-tuning", "Eﬃcient ﬁne-tuning", True),  # ligatures
        pytest.param("Jörg", nfd("Work by Jörg"), True, id="decomposed-accent-in-text"),
        pytest.param("tulu", nfd("TÜLU 3"), True, id="decomposed-accent-tulu"),
        ("tulu", "tutu", False),
    ],
)
def test_case_and_accents_are_ignored(keyword: str, text: str, should_match: bool) -> None:
    assert_keyword_rule(keyword, text, should_match)


@pytest.mark.parametrize(
    ("keyword", "text", "should_match"),
    [
        ("pretraining", "Efficient pretraining", True),
        ("pretraining", "Efficient pre-training", True),
        ("pretraining", "Efficient pre training", True),
        ("pretraining", "Efficient Pre-Training", True),
        ("pretraining", "Efficient PreTraining", True),
        ("pretraining", "Efficient pre–training", True),  # en dash
        ("pre-training", "Efficient pretraining", True),
        ("pre-training", "Efficient Pre Training", True),
        ("pre training", "Efficient PreTraining", True),
        ("pretraining", "pre. Training", False),
        ("pretraining", "pre-trained", False),
    ],
)
def test_spelling_variants_of_compounds_match_each_other(keyword: str, text: str, should_match: bool) -> None:
    assert_keyword_rule(keyword, text, should_match)


@pytest.mark.parametrize(
    ("keyword", "text", "should_match"),
    [
        ("RL", "Offline RL for agents", True),
        ("RL", "RL-based agents", True),
        ("RL", "A URL shortener", False),
        ("RL", "RLHF at scale", False),
        ("ViT", "A ViT backbone", True),
        ("ViT", "ViT-L/14 features", True),
        ("ViT", "Human activity recognition", False),
        ("BERT", "Fine-tuning BERT", True),
        # A hyphenated model name contains the word itself: BERT-base is BERT.
        ("BERT", "BERT-base baselines", True),
        ("BERT", "ALBERT baselines", False),
        ("BERT", "RoBERTa baselines", False),
        ("pretrain", "pretraining", False),
        ("model", "modeling", False),
        ("data", "dataset", False),
        ("set", "data set", True),
    ],
)
def test_only_whole_words_match(keyword: str, text: str, should_match: bool) -> None:
    assert_keyword_rule(keyword, text, should_match)


@pytest.mark.parametrize(
    ("keyword", "text", "should_match"),
    [
        ("language model", "Language Models are few-shot learners", True),
        ("language models", "a language model", True),
        ("query", "Rewriting queries", True),
        ("queries", "One query", True),
        ("bias", "Social biases in LLMs", True),
        ("biases", "Social bias in LLMs", True),
        ("process", "Gaussian processes", True),
        ("class", "Rare classes", True),
        ("LLM", "LLMs as judges", True),
        ("boxes", "A bounding box", True),
        ("caches", "A KV cache", True),
        ("uses", "Dual use of models", True),
        ("model", "modelling", False),
        ("query", "queried", False),
        ("news", "A new method", False),
        ("uses", "Let us see", False),
        ("corpus", "A corpu", False),
    ],
)
def test_regular_plurals_match(keyword: str, text: str, should_match: bool) -> None:
    assert_keyword_rule(keyword, text, should_match)


@pytest.mark.parametrize(
    ("keyword", "text", "should_match"),
    [
        ("data selection", "Data selection for pretraining", True),
        ("data selection", "Better data-selection", True),
        ("data selection", "data\nselection", True),
        ("language model", "A large language model", True),
        ("data selection", "The selection of data", False),
        ("data selection", "selection data", False),
        ("data selection", "data for selection", False),
        ("data selection", "We filter data. Selection is hard.", False),
        ("data selection", "curated data; selection", False),
    ],
)
def test_phrase_words_are_adjacent_in_order_and_in_one_sentence(
    keyword: str, text: str, should_match: bool
) -> None:
    assert_keyword_rule(keyword, text, should_match)


# --- exclude -----------------------------------------------------------------------------


def test_exclude_wins_over_a_keyword() -> None:
    compiled = profile(("pretraining",), exclude=("survey",))

    found = selected_ids(
        compiled,
        paper("a", title="Pretraining: a survey"),
        paper("b", title="Pretraining", abstract="We survey the field."),
        paper("c", title="Pretraining at scale"),
    )

    assert found == ["c"]


def test_exclude_wins_over_an_author() -> None:
    compiled = profile(authors=("Percy Liang",), exclude=("survey",))

    found = selected_ids(
        compiled,
        paper("a", title="A Survey of Evaluation", authors=("Percy Liang",)),
        paper("b", title="Holistic Evaluation", authors=("Percy Liang",)),
    )

    assert found == ["b"]


@pytest.mark.parametrize(
    ("exclude", "text"),
    [("survey", "Surveys of the field"), ("pre-training", "PreTraining"), ("tulu", "TÜLU")],
)
def test_exclude_follows_the_same_rules_as_keywords(exclude: str, text: str) -> None:
    compiled = profile(("agents",), exclude=(exclude,))

    assert selected_ids(compiled, paper(title=f"Agents and {text}")) == []


def test_exclude_only_drops_whole_words() -> None:
    compiled = profile(("agents",), exclude=("RL",))

    assert selected_ids(compiled, paper(title="Agents that read a URL")) == ["2501.00001"]


def test_a_paper_with_an_exclude_term_is_never_selected() -> None:
    """Every combination of keyword hit, author hit and exclude spelling and place."""
    keywords = ("pretraining", "language model", "data selection")
    spellings = {
        "survey": ("survey", "SURVEY", "Surveys", "survey."),
        "pre-training": ("pretraining", "Pre-Training", "pre training", "PreTraining"),
        "Jörg": ("jorg", "JÖRG", "Jörg's"),
    }
    compiled = profile(keywords, exclude=tuple(spellings), authors=("Percy Liang",))
    cases = itertools.product(
        (*keywords, ""),
        [(term, spelling) for term, variants in spellings.items() for spelling in variants],
        ("title", "abstract"),
        ((), ("Percy Liang",)),
    )
    checked = 0
    for keyword, (term, spelling), where, authors in cases:
        text = f"{keyword} with {spelling} inside".strip()
        other = "Efficient pretraining of a language model"
        title, abstract = (text, other) if where == "title" else (other, text)
        candidate = paper(title=title, abstract=abstract, authors=authors)

        assert selected_ids(compiled, candidate) == [], (term, spelling, where, authors)
        checked += 1

    assert checked == 4 * 11 * 2 * 2


WORDS = ["pre", "training", "pretraining", "survey", "surveys", "language", "model", "models", "data",
         "selection", "RL", "URL", "-", ".", ",", "Pre-Training", "Survey"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    title=st.lists(st.sampled_from(WORDS), max_size=10),
    abstract=st.lists(st.sampled_from(WORDS), max_size=20),
    keyword=st.sampled_from(["pretraining", "language model", "data selection", "RL"]),
    exclude=st.sampled_from(["survey", "pre training", "models", "URL"]),
)
def test_property_exclude_always_wins(
    title: list[str], abstract: list[str], keyword: str, exclude: str
) -> None:
    candidate = paper(title=" ".join(title), abstract=" ".join(abstract))
    with_exclude = selected_ids(profile((keyword,), exclude=(exclude,)), candidate)
    exclude_alone = selected_ids(profile((exclude,)), candidate)
    keyword_alone = selected_ids(profile((keyword,)), candidate)

    assert with_exclude == ([] if exclude_alone else keyword_alone)
    literal = re.compile(rf"\b{re.escape(exclude)}\b", re.IGNORECASE)
    if literal.search(candidate.title) or literal.search(candidate.abstract):
        assert with_exclude == []


# --- authors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "listed", "should_match"),
    [
        ("Percy Liang", "Percy Liang", True),
        ("Percy Liang", "PERCY LIANG", True),
        ("percy liang", "Percy Liang", True),
        ("Jorg Muller", "Jörg Müller", True),
        ("Jörg Müller", "Jorg Muller", True),
        pytest.param("Jörg Müller", nfd("Jörg Müller"), True, id="decomposed-accents"),
        ("Percy Liang", "Liang", False),
        ("Liang", "Percy Liang", False),
        ("Percy Liang", "Percy Liangson", False),
        ("Percy Liang", "Percy S. Liang", False),
    ],
)
def test_authors_match_on_the_full_name(wanted: str, listed: str, should_match: bool) -> None:
    candidate = paper(title="Nothing to see", authors=("Ada Lovelace", listed))

    found = selected_ids(profile(authors=(wanted,)), candidate)

    assert found == (["2501.00001"] if should_match else [])


def test_an_author_name_in_the_title_is_not_an_author_match() -> None:
    candidate = paper(title="A tribute to Percy Liang", authors=("Ada Lovelace",))

    assert selected_ids(profile(authors=("Percy Liang",)), candidate) == []


# --- categories and already-sent papers -----------------------------------------------------


def test_categories_filter_drops_papers_listed_elsewhere_only() -> None:
    compiled = profile(("pretraining",), categories=("cs.CL",))

    found = selected_ids(
        compiled,
        paper("vision", title="Pretraining", categories=("cs.CV",)),
        paper("cross", title="Pretraining", categories=("cs.CV", "cs.CL")),
        paper("unknown", title="Pretraining", categories=()),
    )

    assert sorted(found) == ["cross", "unknown"]


def test_papers_in_skip_are_never_selected() -> None:
    compiled = profile(("pretraining",), authors=("Percy Liang",))
    sent = paper("2501.00001", title="Pretraining", authors=("Percy Liang",))
    fresh = paper("2501.00002", title="Pretraining")

    assert selected_ids(compiled, sent, fresh, skip=frozenset({"2501.00001"})) == ["2501.00002"]


def test_a_paper_without_any_hit_is_not_selected() -> None:
    compiled = profile(("pretraining",), authors=("Percy Liang",))

    assert selected_ids(compiled, paper(title="Protein folding", authors=("Ada Lovelace",))) == []


# --- ranking -----------------------------------------------------------------------------


def test_title_hit_ranks_above_an_abstract_hit_with_more_keywords() -> None:
    compiled = profile(("pretraining", "data selection", "language model", "tokenizer"))
    in_abstract = paper("abstract", abstract="Data selection and a tokenizer for language model pretraining.")
    in_title = paper("title", title="Tokenizer design")

    assert selected_ids(compiled, in_abstract, in_title) == ["title", "abstract"]


def test_title_hit_ranks_above_an_abstract_hit_with_a_dozen_keywords() -> None:
    words = tuple(f"word{letter}" for letter in "abcdefghijkl")
    compiled = profile((*words, "tokenizer"))
    in_abstract = paper("abstract", abstract=" ".join(words))
    in_title = paper("title", title="Tokenizer design")

    assert selected_ids(compiled, in_abstract, in_title) == ["title", "abstract"]


def test_more_distinct_keywords_rank_above_fewer() -> None:
    compiled = profile(("pretraining", "tokenizer"))
    one = paper("one", abstract="pretraining pretraining pretraining")
    two = paper("two", abstract="pretraining with a new tokenizer")

    assert selected_ids(compiled, one, two) == ["two", "one"]


def test_each_strong_term_outweighs_all_terms_together_plus_one_per_distinct_term() -> None:
    compiled = profile(("pretraining", "tokenizer", "agents"), authors=("Percy Liang",))
    candidate = paper(
        title="Pretraining a tokenizer",
        abstract="Pretraining, agents.",
        authors=("Percy Liang",),
    )

    [found] = matches(compiled, candidate)

    # four terms in the profile: each title or author term is worth five, each distinct term one
    assert found.score == 5 * 3 + 4


def test_upvotes_break_ties_then_recency() -> None:
    compiled = profile(("pretraining",))
    day = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    old_popular = paper("old-popular", title="Pretraining", upvotes=50, published=day)
    new_popular = paper("new-popular", title="Pretraining", upvotes=50, published=day + dt.timedelta(days=1))
    unknown_votes = paper("no-votes", title="Pretraining", published=day + dt.timedelta(days=2))
    few = paper("few", title="Pretraining", upvotes=3, published=day + dt.timedelta(days=3))

    found = selected_ids(compiled, unknown_votes, old_popular, few, new_popular)

    assert found == ["new-popular", "old-popular", "few", "no-votes"]


def test_upvotes_never_lift_a_paper_above_a_better_match() -> None:
    compiled = profile(("pretraining",))
    popular = paper("popular", abstract="pretraining", upvotes=500)
    in_title = paper("title", title="Pretraining", upvotes=0)

    assert selected_ids(compiled, popular, in_title) == ["title", "popular"]


# --- reasons -----------------------------------------------------------------------------


def spanned(text: str, reason: Reason) -> list[str]:
    return [text[span.start : span.end] for span in reason.spans]


def test_reason_names_keyword_and_field_and_spans_the_words_as_written() -> None:
    title = "Efficient Pre-Training of Language Models"

    [found] = matches(profile(("pretraining",)), paper(title=title))

    [reason] = found.reasons
    assert reason == Reason("keyword", "pretraining", "title", (Span(10, 22),))
    assert spanned(title, reason) == ["Pre-Training"]
    assert str(reason) == "keyword 'pretraining' in title"


def test_reasons_cover_every_field_and_every_occurrence() -> None:
    title = "Efficient Pre-Training of Language Models"
    abstract = "We study pretraining of a large language model. PreTraining again."
    compiled = profile(("pretraining", "language model"), authors=("Percy Liang",))

    [found] = matches(compiled, paper(title=title, abstract=abstract, authors=("Percy Liang",)))

    described = [(r.kind, r.term, r.field) for r in found.reasons]
    assert described == [
        ("keyword", "pretraining", "title"),
        ("keyword", "pretraining", "abstract"),
        ("keyword", "language model", "title"),
        ("keyword", "language model", "abstract"),
        ("author", "Percy Liang", "authors"),
    ]
    by_place = {(r.term, r.field): r for r in found.reasons}
    assert spanned(title, by_place["pretraining", "title"]) == ["Pre-Training"]
    assert spanned(abstract, by_place["pretraining", "abstract"]) == ["pretraining", "PreTraining"]
    assert spanned(title, by_place["language model", "title"]) == ["Language Models"]
    assert spanned(abstract, by_place["language model", "abstract"]) == ["language model"]


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("tulu", "The TÜLU 3 recipe", "TÜLU"),
        ("fine-tuning", "Eﬃcient ﬁne-tuning works", "ﬁne-tuning"),
        ("query", "Rewriting queries.", "queries"),
        ("data selection", "On data-selection, again", "data-selection"),
        ("BERT", "BERT-base baselines", "BERT"),
    ],
)
def test_spans_cover_exactly_the_matched_words(keyword: str, text: str, expected: str) -> None:
    [found] = matches(profile((keyword,)), paper(title=text))

    [reason] = found.reasons
    assert spanned(text, reason) == [expected]


def test_all_of_requires_every_term() -> None:
    compiled = compile_profile(
        Profile("p.yaml", ("p@example.org",), keywords=("diffusion",), all_of=("protein", "design"))
    )
    both = paper("both", title="Diffusion for protein design")
    one = paper("one", title="Diffusion for protein folding")
    no_keyword = paper("no-keyword", title="Protein design by search")

    assert [m.paper.id for m in select(compiled, PaperIndex([both, one, no_keyword], [compiled]))] == ["both"]


def test_all_of_alone_selects_papers_holding_every_term() -> None:
    compiled = compile_profile(Profile("p.yaml", ("p@example.org",), all_of=("protein", "design")))
    papers = [paper("yes", title="Protein design by search"), paper("no", title="Protein folding")]

    [found] = select(compiled, PaperIndex(papers, [compiled]))

    assert found.paper.id == "yes"
    assert found.explanations() == ["'protein' in title", "'design' in title"]
