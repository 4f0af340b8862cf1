"""Fuzzing in CI: seeded mutations of the captured feeds raise nothing but SourceError.

The same mutator runs longer in `python benchmarks/fuzz.py --kind feeds`; here a fixed set of
cases keeps the suite fast and every run alike. A plain clone without the corpus skips this;
under CI=true a missing corpus fails it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

import pytest

from .conftest import CORPUS, ROOT

CASES = 800  # a few seconds on one core
pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CI") != "true",
    reason="the shared corpus of captured feeds is absent (it lives beside the project)",
)


def load_fuzzer() -> ModuleType:
    """benchmarks/fuzz.py, which is a script and not a package, as a module."""
    if "digest_fuzz" in sys.modules:
        return sys.modules["digest_fuzz"]
    spec = importlib.util.spec_from_file_location("digest_fuzz", ROOT / "benchmarks" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["digest_fuzz"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_mutated_feeds_raise_only_source_errors() -> None:
    fuzz = load_fuzzer()

    tally = fuzz.run_feed_cases(range(CASES), seed=13, corpus=CORPUS)

    assert tally.cases == CASES
    assert tally.crashes == {}, "\n".join(
        f"{kind}: e.g. python benchmarks/fuzz.py --replay {tally.examples[kind]}" for kind in tally.crashes
    )


def test_the_mutator_reaches_every_kind_of_document() -> None:
    fuzz = load_fuzzer()
    seeds = fuzz.feed_seeds(CORPUS)

    starts = {fuzz.feed_case(seeds, 13, n).lstrip()[:1] for n in range(CASES)}

    assert {b"<", b"[", b"{"} <= starts
