"""Matching at scale: N profiles × P papers through PaperIndex, beside the naive regex loop.

    python benchmarks/matching.py [--profiles 10000] [--papers 2000] [--naive-sample 100]

The naive loop (one compiled regex per keyword, tried on every paper for every profile) is too
slow to run in full, so it runs on a sample of profiles and both are reported per profile, as
measured in this same process on the same input.
"""

from __future__ import annotations

import argparse
import random
import re
import time

from digest.matching import PaperIndex, compile_profile, select_top
from digest.models import Paper, Profile

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pre", "train", "data", "sel", "tok", "en"]


def make_topics(count: int, rng: random.Random) -> list[str]:
    """Made-up technical terms, one to three words each, like a real field's vocabulary."""

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))

    return list(
        dict.fromkeys(" ".join(word() for _ in range(rng.choice((1, 2, 2, 3)))) for _ in range(count))
    )


FILLER = [
    "we", "propose", "a", "method", "that", "improves", "results", "on", "several", "tasks", "using",
    "simple", "approach", "and", "show", "experiments", "across", "settings", "with", "strong",
    "baselines", "while", "analysing", "errors", "limitations",
]  # fmt: skip


def make_papers(count: int, topics_pool: list[str], rng: random.Random) -> list[Paper]:
    papers = []
    for number in range(count):
        topics = rng.sample(topics_pool, 6)
        title = f"{topics[0].title()} for {rng.choice(FILLER)} {rng.choice(FILLER)}"
        words = [rng.choice(FILLER) for _ in range(180)]
        for topic in topics:
            words.insert(rng.randrange(len(words)), topic.replace(" ", rng.choice([" ", "-", " "])))
        for end in range(len(words) - 1, 0, -rng.randint(12, 28)):  # sentences, as abstracts have
            words[end] += rng.choice([".", ".", ",", ";"])
        papers.append(Paper(f"2611.{number:05d}", title, " ".join(words) + ".", ("A. Author",), "https://x"))
    return papers


def make_profiles(count: int, topics_pool: list[str], rng: random.Random) -> list[Profile]:
    return [
        Profile(f"p{n}.yaml", (f"user{n}@example.org",), keywords=tuple(rng.sample(topics_pool, 8)),
                exclude=("survey",), authors=("Percy Liang",))
        for n in range(count)
    ]  # fmt: skip


def naive_select(profile: Profile, papers: list[Paper]) -> list[str]:
    patterns = [re.compile(r"\b" + re.escape(k) + r"s?\b", re.IGNORECASE) for k in profile.keywords]
    exclude = [re.compile(r"\b" + re.escape(k) + r"\b", re.IGNORECASE) for k in profile.exclude]
    return [
        p.id
        for p in papers
        if any(r.search(p.title) or r.search(p.abstract) for r in patterns)
        and not any(r.search(p.title) or r.search(p.abstract) for r in exclude)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=2_000)
    parser.add_argument("--naive-sample", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(7)
    topics = make_topics(3_000, rng)
    papers, profiles = make_papers(args.papers, topics, rng), make_profiles(args.profiles, topics, rng)

    started = time.perf_counter()
    compiled = [compile_profile(p) for p in profiles]
    index = PaperIndex(papers, compiled)
    indexed = time.perf_counter()
    # What a run does: each digest keeps its best max_papers and counts the rest.
    selected = sum(len(select_top(c, index, frozenset(), c.profile.max_papers)[1]) for c in compiled)
    done = time.perf_counter()

    sample = profiles[: args.naive_sample]
    naive_started = time.perf_counter()
    naive_selected = sum(len(naive_select(p, papers)) for p in sample)
    naive_each = (time.perf_counter() - naive_started) / len(sample)
    ours_each = (done - started) / len(profiles)

    print(f"{args.profiles} profiles x {args.papers} papers")
    print(f"  index: compile + scan     {indexed - started:8.2f} s")
    print(f"  index: select all         {done - indexed:8.2f} s   ({selected} matches)")
    print(f"  index: total              {done - started:8.2f} s   ({ours_each * 1e3:.3f} ms per profile)")
    naive_note = f"{naive_each * 1e3:.3f} ms per profile, measured on {len(sample)}; {naive_selected} matches"
    print(f"  naive regex loop          {naive_each * args.profiles:8.2f} s   ({naive_note})")
    print(f"  speed-up                  {naive_each / ours_each:8.1f}x")


if __name__ == "__main__":
    main()
