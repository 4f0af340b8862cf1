"""Fuzzing profiles and the site config: mutated team-written YAML must only ever raise ConfigError.

    python benchmarks/fuzz_profiles.py [--cases 100000] [--seed 13] [--no-round-trip]

Each case mutates one of the project's own YAML files (the example profile, a profile written
here, the shipped config) with the edits that broke loaders before: aliases, tags, merge keys,
deep nesting, escapes, huge numbers, dates, odd time zones and paths. A case that loads as a
profile is also saved with `save_subscription` and read back, which must give the same profile.
Reported: cases run, how each ended, distinct crashes (exception type and where), the slowest
case and the peak memory of the process. `benchmarks/fuzz.py --kind profiles` calls `fuzz_profiles`.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import resource
import shutil
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from digest.config.profile_edits import save_subscription
from digest.config.profiles import load_profile
from digest.config.settings import load_settings
from digest.errors import ConfigError
from digest.models import Profile

ROOT = Path(__file__).resolve().parent.parent

OPERATOR_PROFILE = """\
# A group profile, kept by hand.
email: [lab@example.org, "Team Lead <lead@example.org>"]
name: NLP reading group
keywords:
  - pretraining        # and pre-training
  - "data selection"
  - 'RL'
all_of: [language model]
exclude: [survey, "OFF"]
authors: ["Percy Liang", J\\"org Tiedemann]
categories: [cs.CL, cs.LG, stat.ML]
max_papers: 12
timezone: Europe/Berlin
send_at: "08:30"
frequency: weekly
weekday: friday
note: |
  Welcome back! *Markdown* allowed.
"""

OPERATOR_CONFIG = """\
site:
  title: "Lab digest"
  base_url: https://digest.example.org
  sender: "Lab Digest <digest@example.org>"
  secret: ${DIGEST_SECRET:-not-a-secret}
  timezone: Europe/Berlin
sources:
  - {name: arxiv, url: feeds/arxiv.xml, kind: auto}
  - name: hf
    url: https://huggingface.co/api/daily_papers
fetch: {include_replacements: false, deadline: 60}
delivery:
  transport: smtp
  retries: 2
  retry_delay: 30
  smtp: {host: smtp.example.org, port: 587, security: starttls, timeout: 30, ca_file: ca.pem}
subscriptions: {max_per_hour: 100}
schedule: {send_at: "07:00", weekdays_only: auto, catch_up_days: 2}
state_dir: ~/var
profiles_dir: profiles
templates: ./templates
"""

# Text that broke YAML loaders or validators before, or could: spliced in at random places.
SNIPPETS = [
    "&a ", "*a", "&a [x, y]", "!!timestamp ", "!!float ", "!!str ", "!!binary ", "!!set ", "!!omap ",
    "!!python/object:os.system ", "!x ", "! ", "<<: ", "<<: *a", "? ", "[", "]", "{", "}", ": ", "- ",
    ",", "\n", "\n  ", "\t", "'", '"', "\\0", "\\x85", "\\u2028", "\\U0010FFFF", "\\uD800", "~", "NO",
    "yes", "18:30", "190:20:30", "2024-13-45", "9999-12-31T23:59:59-23:00", "0000-01-01", "1e400",
    "0x" + "f" * 40, "9" * 5000, "0b" + "1" * 3000, ".nan", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n",
    "---\n", "...\n", "|", ">-", "#", "\ufeff", "\u2028", "\x85", "é", "ü@example.org", "${X}",
    "${DIGEST_SECRET:-}", "~nobody-at-all/x", "Z" * 300, "../../etc/passwd", "a" * 300 + "@x.org",
    "null", "", "[" * 40, "]" * 40, "- " * 40, "\r\n", "\x00", "\x1b", "\ud800",
]  # fmt: skip


def seeds() -> list[tuple[str, str]]:
    """(kind, text) of the team-written files that the mutations start from."""
    return [
        ("profile", (ROOT / "config" / "profiles" / "example.yaml").read_text(encoding="utf-8")),
        ("profile", OPERATOR_PROFILE),
        ("config", (ROOT / "config" / "digest.yaml").read_text(encoding="utf-8")),
        ("config", OPERATOR_CONFIG),
    ]


def mutate(text: str, rng: random.Random, others: list[str]) -> str:
    """One to four random edits of `text`: splices, cuts, copies, swapped or repeated lines."""
    for _ in range(rng.randint(1, 4)):
        at, end = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        edit = rng.randrange(7)
        if edit <= 2:
            text = text[:at] + rng.choice(SNIPPETS) + text[at:]
        elif edit == 3:
            text = text[:at] + text[end:]
        elif edit == 4:
            text = text[:end] + text[at:end] * rng.randint(1, 50) + text[end:]
        elif edit == 5:
            lines = text.splitlines(keepends=True) or [""]
            rng.shuffle(lines) if rng.random() < 0.2 else lines.insert(rng.randrange(len(lines)), lines[0])
            text = "".join(lines)
        else:
            other = rng.choice(others)
            text = text[:at] + other[rng.randrange(len(other) + 1) :]
    return text


@dataclass
class FuzzReport:
    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    crashes: dict[str, str] = field(default_factory=dict)  # where → the first input that crashed there
    slowest: tuple[float, str] = (0.0, "")
    seconds: float = 0.0
    peak_rss_mb: float = 0.0

    def lines(self) -> list[str]:
        rate = self.cases / self.seconds if self.seconds else 0
        return [
            f"cases: {self.cases} in {self.seconds:.1f} s ({rate:.0f}/s)",
            "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
            f"distinct crashes: {len(self.crashes)}",
            *(f"  {where}: {sample[:160]!r}" for where, sample in self.crashes.items()),
            f"slowest case: {self.slowest[0] * 1000:.1f} ms ({self.slowest[1][:80]!r}…)",
            f"peak memory (RSS of this process): {self.peak_rss_mb:.0f} MB",
        ]


def fuzz_profiles(cases: int, seed: int = 13, round_trip: bool = True) -> FuzzReport:
    """Run `cases` mutated profiles and configs; every outcome but ConfigError is a crash."""
    rng, report, started = random.Random(seed), FuzzReport(), time.perf_counter()
    starts = seeds()
    with tempfile.TemporaryDirectory() as folder:
        for number in range(cases):
            kind, text = rng.choice(starts)
            text = mutate(text, rng, [t for _, t in starts])
            began = time.perf_counter()
            outcome = _one_case(Path(folder), number, kind, text, round_trip)
            elapsed = time.perf_counter() - began
            report.slowest = max(report.slowest, (elapsed, text))
            report.outcomes[outcome.split(" ", 1)[0]] += 1
            if outcome.startswith("crash"):
                report.crashes.setdefault(outcome.split(" ", 1)[1], text)
    report.cases = cases
    report.seconds = time.perf_counter() - started
    report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


def _one_case(folder: Path, number: int, kind: str, text: str, round_trip: bool) -> str:
    path = folder / f"case-{number % 50}.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        if kind == "config":
            load_settings(path)
            return "loaded"
        profile = load_profile(path)
        if round_trip and len(profile.emails) == 1:
            return _saved_and_reloaded(folder / f"saved-{number}", profile)
        return "loaded"
    except ConfigError:
        return "refused"
    except Exception as error:
        return "crash " + _where(error)


def _saved_and_reloaded(folder: Path, profile: Profile) -> str:
    """Save a loaded profile with its own keywords again: it must read back the same."""
    folder.mkdir()
    try:
        path = folder / "p.yaml"
        path.write_bytes(profile.path.read_bytes())
        keywords = [*profile.keywords, "NO", "18:30"]
        try:
            save_subscription(folder, profile.emails[0], keywords)
        except ConfigError:
            return "save-refused"  # with a clear error: e.g. ruamel cannot keep this file's comments
        expected = dataclasses.replace(profile, file=str(path), keywords=tuple(keywords))
        return "saved" if load_profile(path) == expected else "crash saved profile read back different"
    finally:
        shutil.rmtree(folder)


def _where(error: Exception) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{type(error).__name__} at {Path(frame.filename).name}:{frame.lineno}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-round-trip", action="store_true", help="only load, never save")
    options = parser.parse_args()
    report = fuzz_profiles(options.cases, options.seed, round_trip=not options.no_round_trip)
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
