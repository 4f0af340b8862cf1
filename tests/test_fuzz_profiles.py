"""Fuzzed profiles and configs raise only ConfigError, on a budget CI can afford (a few seconds).

The long run is `python benchmarks/fuzz_profiles.py --cases 100000`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_profiles import SNIPPETS, fuzz_profiles
from digest.config.profiles import load_profile
from digest.config.settings import load_settings
from digest.errors import ConfigError


def test_seeded_mutations_of_our_own_yaml_raise_only_config_errors() -> None:
    report = fuzz_profiles(cases=600, seed=2026)
    assert report.crashes == {}, "\n".join(report.lines())
    assert report.outcomes["saved"] > 0 and report.outcomes["refused"] > 0  # both paths were taken


# Lines built from the pieces that broke loaders, so most cases reach the constructors.
_lines = st.lists(
    st.tuples(
        st.sampled_from(["email", "keywords", "note", "max_papers", "timezone", "send_at", "site", "- ", ""]),
        st.lists(st.sampled_from(SNIPPETS) | st.text(max_size=5), max_size=4).map("".join),
    ).map(lambda pair: f"{pair[0]}: {pair[1]}" if pair[0] else pair[1]),
    max_size=8,
).map("\n".join)


@pytest.mark.parametrize("load", [load_profile, load_settings], ids=["profile", "config"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_lines)
def test_any_text_loads_or_raises_config_error(tmp_path: Path, load: object, text: str) -> None:
    path = tmp_path / "fuzzed.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        load(path)  # type: ignore[operator]
    except ConfigError as error:
        assert all(problem.file == path for problem in error.problems)
