"""What likes add: a labelled evaluation on real captured listings, and the cost at scale.

    python benchmarks/relevance.py [--trials 5] [--profiles 10000] [--papers 2000] [--repeats 5]
                                   [--skip-speed] [--skip-evaluation]

Evaluation. The captured listings beside the project (../shared/corpus/feeds) are result sets
on distinct topics: software testing, a day of arXiv mathematics, plant biology, AI and language
models, nicotine. Every paper of them forms one archive. For each topic and trial, 5 of its
papers (drawn at random) are the reader's likes and the topic's other papers are held out: does
a method bring them back? Each method gives what a digest would show, best first (the papers it
selects), then the rest of the archive in random order; reported are precision@10, recall@50,
the median rank of the held-out papers and how many papers the method selects:

    likes alone        a profile with `like:` only
    keywords alone     a profile with a few keywords a reader of that topic might write
    keywords + likes   both: the keywords' matches lifted, plus what the likes select
    random             the archive shuffled

Speed. N profiles with 5 likes each against P papers (the generated papers and profiles of
benchmarks/matching.py), the whole matching stage with likes (read the liked papers and the
archive sample from SQLite, fit the space, train and apply every model, match) beside the same
stage with keywords only, in one process on one input, three ways: a first run (a fresh state
dir: the space fitted and every model trained), a daily edition (yesterday's state dir, the
archive changed by one edition of P new papers: the new papers put into yesterday's space) and
the same edition again (the space and models read from the state dir). The four run
interleaved, each repeat in a rotated order, and the medians are compared; then each way's
parts: compiling the profiles, the likes stage, the index, the selection, and the garbage
collector's time across them; then each way's floor: what it would cost were selecting with
likes no dearer than with keywords alone (keywords alone's whole stage and its likes stage).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching import make_papers, make_profiles, make_topics

from digest.matching import CompiledProfile, PaperIndex, compile_profile, select, select_top
from digest.models import Listing, Paper, Profile
from digest.pipeline.likes import with_likes
from digest.relevance import Voted, Votes, fit_space
from digest.relevance.cache import CACHE_FILE
from digest.sources.parse import parse_listing
from digest.store import DATABASE_NAME, PaperArchive
from digest.store.connection import connect

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "feeds"
TOPICS = {  # topic → (its captured listings, the keywords a reader of it might write)
    "software testing": (
        ["arxiv_api_atom_2026_all-testing_100entries.xml"], ["software testing", "test generation"]
    ),
    "mathematics": (["arxiv_rss_old_rdf_math_2012-09-12_full.xml"], ["theorem", "conjecture"]),
    "plant biology": (["biorxiv_plant_biology_rss1.rdf"], ["plant", "Arabidopsis"]),
    "AI, language models": (
        ["arxiv_newfeed_atom_cs.AI_2025-08-20_TRUNCATED.xml", "arxiv_api_atom_2026_cs.AI-LG-CL.xml",
         "arxiv_api_atom_2026_cs.LG-AI.xml"],
        ["large language model", "agent"],
    ),
    "nicotine": (["arxiv_api_atom_2026_all-nicotine.xml"], ["nicotine"]),
}  # fmt: skip
BACKGROUND_ONLY = ["arxiv_api_atom_legacy_2016_au-del_maestro.xml", "hf_daily_papers_api.json"]
LIKED = 5
TODAY = dt.date(2026, 11, 2)  # the benchmark's edition; yesterday's space is a day old
METHODS = ("likes alone", "keywords alone", "keywords + likes", "random")
# The parts of the matching stage timed, and the garbage collector's time across them.
STAGES = ("compile", "likes", "index", "select", "collector")
Timing = dict[str, float]  # "wall", "cpu" and each of STAGES: seconds


def read_corpus() -> tuple[list[Paper], dict[str, str]]:
    """Every paper once, and each topic paper's topic (the first listing to hold a paper names it)."""
    papers: dict[str, Paper] = {}
    label: dict[str, str] = {}
    for topic, (files, _) in TOPICS.items():
        for name in files:
            for paper in parse_listing((CORPUS / name).read_bytes(), name).papers:
                papers.setdefault(paper.id, paper)
                label.setdefault(paper.id, topic)
    for name in BACKGROUND_ONLY:
        for paper in parse_listing((CORPUS / name).read_bytes(), name).papers:
            papers.setdefault(paper.id, paper)
    return list(papers.values()), label


def shown(method: str, topic: str, liked: list[Paper], pool: list[Paper], rng: random.Random) -> list[str]:
    """What the method's digest shows, best first, then the rest of the pool in random order."""
    keywords = TOPICS[topic][1] if method != "likes alone" else []
    profile = Profile("p.yaml", ("p@example.org",), keywords=tuple(keywords), max_papers=500)
    compiled = compile_profile(profile)
    if method in ("likes alone", "keywords + likes"):
        compiled = _with_likeness(compiled, liked, pool)
    selected = (
        [] if method == "random" else [m.paper.id for m in select(compiled, PaperIndex(pool, [compiled]))]
    )
    rest = [p.id for p in pool if p.id not in set(selected)]
    rng.shuffle(rest)
    return selected + rest


def _with_likeness(compiled: CompiledProfile, liked: list[Paper], pool: list[Paper]) -> CompiledProfile:
    voted = Voted(fit_space(pool, liked), liked, pool)
    votes = [Votes(tuple(range(len(liked))), ())]
    return replace(compiled, likeness=voted.likenesses(votes, voted.tastes(votes))[0])


def scores(ranking: list[str], held_out: set[str], selected: int) -> tuple[float, float, float]:
    ranks = [n for n, paper_id in enumerate(ranking, 1) if paper_id in held_out]
    precision = sum(1 for paper_id in ranking[:10] if paper_id in held_out) / 10
    recall = sum(1 for paper_id in ranking[:50] if paper_id in held_out) / len(held_out)
    return precision, recall, statistics.median(ranks)


def evaluate(trials: int) -> None:
    papers, label = read_corpus()
    print(f"archive: {len(papers)} papers from the captured listings; {LIKED} liked per topic and trial\n")
    print(f"{'topic':22} {'method':17} {'P@10':>6} {'R@50':>6} {'median rank':>12} {'selected':>9}")
    totals: dict[str, list[tuple[float, ...]]] = {m: [] for m in METHODS}
    for topic in TOPICS:
        members = [p for p in papers if label.get(p.id) == topic]
        rows: dict[str, list[tuple[float, ...]]] = {m: [] for m in METHODS}
        for trial in range(trials):
            rng = random.Random(f"{topic}-{trial}")
            liked = rng.sample(members, LIKED)
            pool = [p for p in papers if p not in liked]
            held_out = {p.id for p in members if p not in liked}
            for method in METHODS:
                ranking = shown(method, topic, liked, pool, random.Random(trial))
                count = _selected_count(method, topic, liked, pool)
                rows[method].append((*scores(ranking, held_out, count), count))
        for method in METHODS:
            mean = [statistics.mean(column) for column in zip(*rows[method], strict=True)]
            totals[method].append(tuple(mean))
            print(f"{topic[:22]:22} {method:17} {mean[0]:6.2f} {mean[1]:6.2f} {mean[2]:12.1f} {mean[3]:9.1f}")
    print()
    for method in METHODS:
        mean = [statistics.mean(column) for column in zip(*totals[method], strict=True)]
        print(f"{'mean':22} {method:17} {mean[0]:6.2f} {mean[1]:6.2f} {mean[2]:12.1f} {mean[3]:9.1f}")


def _selected_count(method: str, topic: str, liked: list[Paper], pool: list[Paper]) -> int:
    if method == "random":
        return 0
    keywords = TOPICS[topic][1] if method != "likes alone" else []
    compiled = compile_profile(Profile("p.yaml", ("p@example.org",), keywords=tuple(keywords)))
    if method != "keywords alone":
        compiled = _with_likeness(compiled, liked, pool)
    return len(select(compiled, PaperIndex(pool, [compiled])))


def speed(profile_count: int, paper_count: int, repeats: int) -> None:
    """The matching stage four ways, interleaved `repeats` times (each repeat in a rotated order,
    so a busy moment of the machine does not fall on one way only); medians and their ratios."""
    rng = random.Random(7)
    topics = make_topics(3_000, rng)
    yesterday, listing = make_papers(paper_count, topics, rng), make_papers(paper_count, topics, rng)
    listing = [replace(p, id=f"2612.{n:05d}") for n, p in enumerate(listing)]
    archived = [replace(p, id=f"2610.{n:05d}") for n, p in enumerate(make_papers(paper_count, topics, rng))]
    profiles = [
        replace(p, like=tuple(q.id for q in rng.sample(archived, LIKED)))
        for p in make_profiles(profile_count, topics, rng)
    ]
    keywords_only = [replace(p, like=()) for p in profiles]
    with tempfile.TemporaryDirectory() as folder:
        db = connect(Path(folder) / DATABASE_NAME, create=True)
        states = States(Path(folder))
        archive_edition(db, [*archived, *yesterday], "2026-11-01")
        _timed_matching(profiles, yesterday, db, states.yesterday)  # yesterday's space and models
        archive_edition(db, listing, "2026-11-02")  # today's edition: the archive changed by one
        _timed_matching(profiles, listing, db, states.today)  # today's, as a second run would find them
        ways = {
            "keywords only": lambda: _timed_matching(keywords_only, listing, db, None),
            "first run (fresh state dir)": lambda: _timed_matching(profiles, listing, db, states.fresh()),
            "daily edition": lambda: _timed_matching(profiles, listing, db, states.from_yesterday()),
            "same edition again": lambda: _timed_matching(profiles, listing, db, states.today),
        }
        times: dict[str, list[Timing]] = {name: [] for name in ways}
        for repeat in range(repeats):
            names = list(ways)
            for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
                times[name].append(ways[name]())
        db.close()
    _report_speed(profile_count, paper_count, repeats, times)


class States:
    """State dirs: yesterday's (its cache as yesterday's edition left it), today's, and fresh ones."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.made = folder, 0
        self.yesterday, self.today = self.fresh(), self.fresh()

    def fresh(self) -> Path:
        self.made += 1
        made = self.folder / f"state-{self.made}"
        made.mkdir()
        return made

    def from_yesterday(self) -> Path:
        """A state dir holding yesterday's cache, as today's edition finds it."""
        state = self.fresh()
        shutil.copy(self.yesterday / CACHE_FILE, state / CACHE_FILE)
        return state


def archive_edition(db: Any, papers: list[Paper], day: str) -> None:
    """The papers archived as seen on `day`: the archive sample of the next edition is theirs."""
    PaperArchive(db).remember(papers)
    seen = f"{day}T08:00:00+00:00"
    db.executemany("UPDATE papers SET last_seen = ? WHERE id = ?", [(seen, p.id) for p in papers])
    db.commit()


def _report_speed(profile_count: int, paper_count: int, repeats: int, times: dict[str, list[Timing]]) -> None:
    print(f"\n{profile_count} profiles with {LIKED} likes each x {paper_count} papers (matching stage)")
    print(f"median of {repeats} interleaved repeats; wall-clock and CPU seconds of this process")
    base_wall, base_cpu = (statistics.median(t[k] for t in times["keywords only"]) for k in ("wall", "cpu"))
    for name, measured in times.items():
        wall, cpu, likes = (statistics.median(t[k] for t in measured) for k in ("wall", "cpu", "likes"))
        ratios = f"{wall / base_wall:.2f}x wall, {cpu / base_cpu:.2f}x CPU"
        part = f"; likes stage {likes:.2f} s" if likes else ""
        print(f"  {name:28} {wall:6.2f} s wall {cpu:6.2f} s CPU   ({ratios}{part})")
    print("stages (wall seconds, medians; the collector's share of all of them apart)")
    for name, measured in times.items():
        stages = ", ".join(f"{k} {statistics.median(t[k] for t in measured):.2f}" for k in STAGES)
        print(f"  {name:28} {stages}")
    print("floor: keywords alone's whole stage plus the likes stage, as if ranking and explaining what")
    print("the likes select cost nothing more than keywords alone's selection (wall seconds, medians)")
    for name, measured in times.items():
        if name == "keywords only":
            continue
        least = base_wall + statistics.median(t["likes"] for t in measured)
        print(f"  {name:28} {least:6.2f} s        ({least / base_wall:.2f}x wall)")


def _timed_matching(profiles: list[Profile], listing: list[Paper], db: Any, state_dir: Path | None) -> Timing:
    """Wall and CPU seconds for the whole matching stage, and the wall seconds of each part: the
    likes part reads, fits, trains and applies."""
    collecting: list[float] = []

    def collector(phase: str, _: dict[str, int]) -> None:  # their sum: each collection's end less its start
        collecting.append(time.perf_counter() * (-1 if phase == "start" else 1))

    gc.callbacks.append(collector)
    try:
        cpu, started = time.process_time(), time.perf_counter()
        compiled = [compile_profile(p) for p in profiles]
        learning = time.perf_counter()
        compiled = with_likes(db, compiled, Listing(tuple(listing), ()), state_dir, today=TODAY).profiles
        learned = time.perf_counter()
        index = PaperIndex(listing, compiled)
        indexed = time.perf_counter()
        for profile in compiled:
            select_top(profile, index, frozenset(), profile.profile.max_papers)
        done = time.perf_counter()
        cpu = time.process_time() - cpu
    finally:
        gc.callbacks.remove(collector)
    return {
        "wall": done - started, "cpu": cpu, "compile": learning - started, "likes": learned - learning,
        "index": indexed - learned, "select": done - indexed, "collector": sum(collecting),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats of the speed test")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-evaluation", action="store_true")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"the captured listings are not beside this checkout ({CORPUS.name}/ missing)")
    if not args.skip_evaluation:
        evaluate(args.trials)
    if not args.skip_speed:
        speed(args.profiles, args.papers, args.repeats)


if __name__ == "__main__":
    main()
