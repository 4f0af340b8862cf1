"""Fuzzing: seeded mutations of real inputs, asserting that reading them raises only our own errors.

    python benchmarks/fuzz.py --kind feeds [--cases 100000] [--seed 13] [--workers 2]
    python benchmarks/fuzz.py --kind profiles [--cases 100000] [--seed 13]

`--kind feeds` mutates the captured feeds of the shared corpus (bytes flipped, spans cut,
copied and spliced, hostile tokens inserted, JSON values swapped for values of other types)
and parses each case with `parse_listing`, where only SourceError may come out. It reports the
cases run, the distinct crashes (exception type and where it was raised, with a case number
that reproduces it: `--replay N`), the slowest case and the peak memory of the workers.
`--kind profiles` runs benchmarks/fuzz_profiles.py: mutated profiles and configs, where only
ConfigError may come out, and every profile that loads must save and load back the same.
Case N of a seed is always the same document, so a crash found once can be found again.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEED_CORPUS = ROOT.parent / "shared" / "corpus" / "feeds"
FEED_SUFFIXES = (".xml", ".json", ".html", ".rdf", ".atom")
SLOW_CASE = 5.0  # seconds: any case slower than this is reported as a failure
PEAK_MEMORY = 500  # MB of resident memory a worker may reach
CROP = 24 * 1024  # large seeds are often cut to a window of this size, so cases stay quick

# Tokens that broke a parser once, or that are the kind of thing that does.
HOSTILE_TOKENS = [
    b"<", b">", b"&", b"&#xD800;", b"&#9999999999;", b"&#x110000;", b"&#0;", b"<![<", b"<![CDATA[",
    b"]]>", b"</width>", b"</height>", b"<width>", b'<?xml version="1.0" encoding="\x9c"?>',
    b'<?encoding="\x00"?>', b"http://[::1", b"https://[", b"0000", b"9999-12-31T23:59:59-23:00",
    b"<pubDate>0000</pubDate>", b"<updated>9999-12-31T23:59:59-23:00</updated>", b"\x00", b"\xff\xfe",
    b"\xef\xbb\xbf", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"&a;", b"<link title=\"pdf\"/>",
    b"<arxiv:primary_category>cs</arxiv:primary_category>", b"<dc:creator>", b"</dc:creator>",
    b"<author><name></name></author>", b"<channel<", b"xmlns:x=\"", b"oai:arXiv.org:2401.00001v1",
    b"gse_alrt_title", b"<a class=\"gse_alrt_title\" href=\"http://[::1\">", b"1" * 4301, b"[" * 2000,
    b'"authors":true', b'"authors":[1]', b'"name":1', b'"paper":"x"', b'"id":null', b"\\u0000",
    b"\\ud800", b"-1e999", b"NaN", b"Announce Type:", b"Abstract:", b"\r\n", b"\t" * 100,
]  # fmt: skip
ODD_JSON_VALUES: list[object] = [
    None, True, 0, -1, 2**70, 1e308, "", "x", "http://[::1", "0000-00-00", [], {}, [None], [{}],
    [{"name": 1}], {"name": None}, ["A"], "9999-12-31T23:59:59-23:00",
]  # fmt: skip


@dataclass
class Tally:
    """What one worker saw: cases, crashes by kind (with a case that shows each), the slowest."""

    cases: int = 0
    crashes: dict[str, int] = field(default_factory=dict)
    examples: dict[str, int] = field(default_factory=dict)
    slowest: tuple[float, int] = (0.0, -1)
    peak_mb: float = 0.0

    def add(self, other: Tally) -> None:
        self.cases += other.cases
        for kind, count in other.crashes.items():
            self.crashes[kind] = self.crashes.get(kind, 0) + count
            self.examples.setdefault(kind, other.examples[kind])
        self.slowest = max(self.slowest, other.slowest)
        self.peak_mb = max(self.peak_mb, other.peak_mb)


# ---------------------------------------------------------------- feeds


def feed_seeds(corpus: Path = FEED_CORPUS) -> list[bytes]:
    """Every captured feed, in a stable order."""
    paths = sorted(p for p in corpus.rglob("*") if p.suffix in FEED_SUFFIXES)
    return [p.read_bytes() for p in paths]


def feed_case(seeds: list[bytes], seed: int, number: int) -> bytes:
    """Case `number`: one corpus document, cropped perhaps, with one to four mutations."""
    rng = random.Random(seed * 1_000_003 + number)
    body = _crop(rng.choice(seeds), rng)
    for _ in range(rng.randint(1, 4)):
        body = rng.choice(MUTATIONS)(body, rng, seeds)
    return body


def _crop(body: bytes, rng: random.Random) -> bytes:
    """Head, a window and tail of a large document: the same shapes, parsed far faster."""
    if len(body) <= 2 * CROP or rng.random() < 0.2:
        return body
    start = rng.randrange(CROP // 4, len(body) - CROP)
    return body[: CROP // 4] + body[start : start + CROP] + body[-1024:]


def _span(body: bytes, rng: random.Random, longest: int = 256) -> tuple[int, int]:
    start = rng.randrange(len(body) + 1)
    return start, min(len(body), start + rng.randint(0, longest))


def _flip(body: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    if not body:
        return bytes([rng.randrange(256)])
    at = rng.randrange(len(body))
    return body[:at] + bytes([rng.randrange(256)]) + body[at + 1 :]


def _cut(body: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    start, end = _span(body, rng)
    return body[:start] + body[end:]


def _copy(body: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    start, end = _span(body, rng)
    at = rng.randrange(len(body) + 1)
    return body[:at] + body[start:end] * rng.randint(1, 50) + body[at:]


def _splice(body: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    other = rng.choice(seeds)
    start, end = _span(other, rng, 2048)
    at, until = _span(body, rng, 2048)
    return body[:at] + other[start:end] + body[until:]


def _hostile(body: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    at, until = _span(body, rng, 16)
    return body[:at] + rng.choice(HOSTILE_TOKENS) + body[until:]


def _truncate(body: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    return body[: rng.randrange(len(body) + 1)]


def _nest(body: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    at = rng.randrange(len(body) + 1)
    tag = rng.choice([b"<a>", b"<div>", b"<item>", b"<entry>", b"[", b'{"a":', b"<![CDATA["])
    return body[:at] + tag * rng.randint(10, 3000) + body[at:]


def _json_value(body: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """One value somewhere in a JSON document swapped for one of another type."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return _hostile(body, rng, seeds)
    holder, key = _somewhere(data, rng)
    if holder is None:
        return json.dumps(rng.choice(ODD_JSON_VALUES)).encode()
    holder[key] = rng.choice(ODD_JSON_VALUES)
    return json.dumps(data).encode()


def _somewhere(data: object, rng: random.Random) -> tuple[dict | list | None, object]:  # type: ignore[type-arg]
    """A random container inside `data`, and a key or index in it."""
    holder: dict | list | None = None  # type: ignore[type-arg]
    key: object = None
    for _ in range(rng.randint(1, 8)):
        if isinstance(data, dict) and data:
            holder, key = data, rng.choice(list(data))
        elif isinstance(data, list) and data:
            holder, key = data, rng.randrange(len(data))
        else:
            break
        data = holder[key]  # type: ignore[index]
    return holder, key


MUTATIONS: list[Callable[[bytes, random.Random, list[bytes]], bytes]] = [
    _flip, _cut, _copy, _splice, _hostile, _hostile, _hostile, _truncate, _nest, _json_value, _json_value,
]  # fmt: skip


def run_feed_cases(numbers: range, seed: int, corpus: Path = FEED_CORPUS) -> Tally:
    """Parse cases `numbers`; anything but a SourceError is a crash."""
    from digest.errors import SourceError
    from digest.sources.parse import parse_listing

    seeds, tally = feed_seeds(corpus), Tally()
    for number in numbers:
        body = feed_case(seeds, seed, number)
        started = time.perf_counter()
        try:
            parse_listing(body, "fuzz")
        except SourceError:
            pass
        except Exception as error:
            kind = crash_kind(error)
            tally.crashes[kind] = tally.crashes.get(kind, 0) + 1
            tally.examples.setdefault(kind, number)
        tally.slowest = max(tally.slowest, (time.perf_counter() - started, number))
        tally.cases += 1
    tally.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return tally


def crash_kind(error: BaseException) -> str:
    """An exception's type and the innermost place it was raised: one line per distinct crash."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{type(error).__name__} at {Path(frame.filename).name}:{frame.lineno} ({frame.name})"


def fuzz_feeds(cases: int, seed: int, workers: int) -> Tally:
    """All cases, in chunks over a pool of worker processes."""
    chunk = 500
    chunks = [range(start, min(cases, start + chunk)) for start in range(0, cases, chunk)]
    total = Tally()
    with ProcessPoolExecutor(workers) as pool:
        for done, tally in enumerate(pool.map(run_feed_cases, chunks, [seed] * len(chunks)), 1):
            total.add(tally)
            if done % 20 == 0:
                print(f"  {total.cases:,} cases, {sum(total.crashes.values())} crashes", file=sys.stderr)
    return total


# ---------------------------------------------------------------- profiles


def profiles_run(cases: int, seed: int) -> bool:
    """Profiles and configs (benchmarks/fuzz_profiles.py), in this process; True when clean."""
    sys.path.insert(0, str(Path(__file__).parent))
    from fuzz_profiles import fuzz_profiles

    found = fuzz_profiles(cases, seed)
    print("\n".join(found.lines()))
    return not found.crashes and found.slowest[0] <= SLOW_CASE and found.peak_rss_mb <= PEAK_MEMORY


# ---------------------------------------------------------------- report


def report(kind: str, tally: Tally, seconds: float) -> bool:
    """Print the figures; True when the run is clean."""
    slow, slowest_case = tally.slowest
    print(f"{kind}: {tally.cases:,} cases in {seconds:.0f} s")
    print(f"distinct crashes: {len(tally.crashes)} ({sum(tally.crashes.values())} cases)")
    for crash, count in sorted(tally.crashes.items(), key=lambda item: -item[1]):
        print(f"  {count:6} × {crash}   e.g. --replay {tally.examples[crash]}")
    print(f"slowest case: {slow:.2f} s (case {slowest_case})")
    print(f"peak memory of a worker: {tally.peak_mb:.0f} MB")
    return not tally.crashes and slow <= SLOW_CASE and tally.peak_mb <= PEAK_MEMORY


def replay_feed(number: int, seed: int) -> None:
    """Parse one case here, letting whatever it raises show its traceback."""
    from digest.sources.parse import parse_listing

    body = feed_case(feed_seeds(), seed, number)
    print(f"case {number}: {len(body):,} bytes: {body[:200]!r}…", file=sys.stderr)
    parsed = parse_listing(body, "fuzz")
    print(f"{len(parsed.papers)} papers, warnings: {parsed.warnings[:5]}")


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--kind", choices=("feeds", "profiles"), default="feeds")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--replay", type=int, help="run one case in this process and show its traceback")
    args = parser.parse_args()
    if args.kind == "feeds" and not FEED_CORPUS.is_dir():
        raise SystemExit(f"no corpus at {FEED_CORPUS.relative_to(ROOT.parent)}: nothing to mutate")
    if args.replay is not None:
        replay_feed(args.replay, args.seed)
        return
    if args.kind == "profiles":
        sys.exit(0 if profiles_run(args.cases, args.seed) else 1)
    started = time.perf_counter()
    clean = report(args.kind, fuzz_feeds(args.cases, args.seed, args.workers), time.perf_counter() - started)
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
