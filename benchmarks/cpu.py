"""CPU seconds per digest of an edition, source trees side by side, and their outboxes compared.

    python benchmarks/cpu.py [--subscribers 3000] [--papers 2000] [--rounds 3] [--dkim] [TREE ...]

On a machine that other work keeps busy, wall-clock figures swing by 2x between runs; the CPU
a run costs (user + system time of its process and every compose worker it forks) does not.
Each TREE is a checkout of this project (default: this one); each round runs the same edition
once per tree, in another order each round, each run in a process of its own on a state of its
own, with the same site, secret and clock. After the first round the outboxes of every tree
are compared file by file, byte for byte: a speed-up must not change an email (not with
`--dkim`, which signs every message: a signature carries the time it was made). Each run's peak
RSS is printed too: its sending process's, and its largest child's.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from edition import EDITION, dkim_key, write_config, write_site

# The edition as `digest run --once` sends it, at a fixed moment: the links' tokens and the Date
# header are then the same in every run, so outboxes can be compared byte for byte.
DRIVER = """
import datetime as dt, resource, sys
from pathlib import Path
from digest.config.settings import load_settings
from digest.pipeline import run
settings = load_settings(Path(sys.argv[1]))
options = run.RunOptions(edition=dt.date.fromisoformat(sys.argv[2]))
report = run.run_due(settings, options, now=dt.datetime(2026, 11, 16, 6, 0, tzinfo=dt.UTC))
own, workers = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(own.ru_maxrss // 1024, workers.ru_maxrss // 1024, file=sys.stderr)  # peak RSS, MiB (Linux: KiB)
print(report.tally.sent, own.ru_utime + own.ru_stime, workers.ru_utime + workers.ru_stime)
"""


def cpu_of_run(tree: Path, config: Path) -> tuple[int, float, float, float]:
    """(digests sent, CPU seconds of the run's process and its compose workers, of the workers,
    wall-clock seconds)."""
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    command = [sys.executable, "-c", DRIVER, str(config), EDITION.isoformat()]
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    # In the tree: `python -c` puts its working folder first on the path, before PYTHONPATH, and
    # run from another checkout it would import that checkout's code instead.
    done = subprocess.run(command, env=environment, cwd=tree, check=True, capture_output=True, text=True)
    after, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - started
    # The run's process waits for its workers, so their time counts among its children: all in.
    total = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    sent, _, workers = done.stdout.split()[-3:]
    own_mib, worker_mib = done.stderr.split()[-2:]
    child = "largest child (a compose worker or the fetch)"
    print(f"peak RSS: sending process {own_mib} MiB, {child} {worker_mib} MiB", flush=True)
    return int(sent), total, float(workers), wall


def same_outboxes(first: Path, second: Path) -> tuple[int, list[str]]:
    """(files compared, names that differ or are missing on one side, and "edition_papers" when
    the two states remember different matches or reasons for the web pages)."""
    a = {p.relative_to(first): p for p in (first / "outbox").rglob("*.eml")}
    b = {p.relative_to(second): p for p in (second / "outbox").rglob("*.eml")}
    differ = sorted(str(name) for name in a.keys() ^ b.keys())
    differ += [str(n) for n in sorted(a.keys() & b.keys()) if not filecmp.cmp(a[n], b[n], shallow=False)]
    if remembered(first) != remembered(second):
        differ.append("edition_papers")
    return len(a), differ


def remembered(state_dir: Path) -> list[tuple[str, ...]]:
    query = "SELECT address, edition, paper_ids, reasons FROM edition_papers ORDER BY address, edition"
    with sqlite3.connect(state_dir / "digest.sqlite3") as db:
        return list(db.execute(query))


def main() -> None:
    described = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=described)
    parser.add_argument("--subscribers", type=int, default=3_000)
    parser.add_argument("--papers", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--dkim",
        action="store_true",
        help="sign every message (the outboxes then differ: a signature carries its time)",
    )
    parser.add_argument("trees", nargs="*", type=Path, default=[Path(__file__).parent.parent])
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.trees]
    per_digest: dict[Path, list[float]] = {tree: [] for tree in trees}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_site(root, args.subscribers, args.papers)
        for number in range(args.rounds):
            order = trees if number % 2 == 0 else trees[::-1]
            for tree in order:
                key = dkim_key(root) if args.dkim else None
                config = write_config(root, f"r{number}-{trees.index(tree)}", dkim_key=key)
                sent, seconds, workers, wall = cpu_of_run(tree, config)
                per_digest[tree].append(1000 * seconds / max(sent, 1))
                split = f"{seconds - workers:.1f} sending process + {workers:.1f} workers; {wall:.1f} s wall"
                print(
                    f"round {number + 1}: {tree.name}: {sent} digests, {seconds:.1f} CPU s ({split})",
                    flush=True,
                )
        for index in range(1, 1 if args.dkim else len(trees)):
            compared, differ = same_outboxes(root / "r0-0", root / f"r0-{index}")
            names = f"{trees[0].name} and {trees[index].name}"
            print(f"outboxes of {names}: {compared} files, {len(differ)} differ")
            print("\n".join(f"  differs: {name}" for name in differ[:10]))
    for tree, figures in per_digest.items():
        shown = ", ".join(f"{f:.2f}" for f in figures)
        print(f"{tree.name}: {statistics.median(figures):.2f} CPU ms per digest (median; rounds: {shown})")


if __name__ == "__main__":
    main()
