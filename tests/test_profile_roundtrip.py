"""A saved profile loads back to the same Profile: one YAML dialect for writing and reading.

Profiles are read as YAML 1.1, where plain NO, ON, yes, ~ and 18:30 are not text; a save must
write every such string so that it reads back as the same string.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.config.profile_edits import save_subscription
from digest.config.profiles import load_profile
from digest.errors import ConfigError

# Every string here means something else to a YAML 1.1 reader when written unquoted.
TRICKY = [
    "NO", "ON", "Off", "yes", "y", "n", "~", "null", "true", "18:30", "1e3", "0x1F", "0o17",
    "1_000", ".inf", "-.NaN", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "190:20:30", "=", "<<",
    "010", "+12", "1.", "Ü-Net", "nitric oxide: NO",
]  # fmt: skip

OPERATOR_PROFILE = """\
# Written by the operator; this comment must survive a save.
email: nora@example.org
name: "no"
keywords: [nitric oxide]
exclude: ["OFF", "yes"]
send_at: "18:30"
note: "yes"
timezone: Europe/Berlin
"""


def test_tricky_keywords_of_a_new_profile_load_back_as_text(tmp_path: Path) -> None:
    keywords = [text for text in TRICKY if any(c.isalnum() for c in text)]  # matchable ones
    path = save_subscription(tmp_path, "nora@example.org", keywords, name="~")
    profile = load_profile(path)
    assert profile.keywords == tuple(keywords)
    assert profile.name == "~"
    assert profile.emails == ("nora@example.org",)


def test_saving_keeps_the_operators_quoted_values_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "nora.yaml"
    path.write_text(OPERATOR_PROFILE, encoding="utf-8")
    before = load_profile(path)
    assert save_subscription(tmp_path, "nora@example.org", ["NO", "ON"], name="ON") == path
    after = load_profile(path)
    assert after == dataclasses.replace(before, keywords=("NO", "ON"), name="ON")
    assert after.send_at == "18:30" and after.exclude == ("OFF", "yes") and after.note == "yes"
    assert "this comment must survive" in path.read_text(encoding="utf-8")


def test_a_save_that_would_not_load_back_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "nora.yaml"
    path.write_text(OPERATOR_PROFILE, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"nora\.yaml.*not saved.*no letters or digits"):
        save_subscription(tmp_path, "nora@example.org", ["NO", "!!!"])
    assert path.read_text(encoding="utf-8") == OPERATOR_PROFILE
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["nora.yaml"]


# Text a subscriber may type: tricky YAML words, unicode, punctuation, inner spaces.
_word = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
)
_keyword = _word.map(str.strip).filter(lambda k: any(c.isalnum() for c in k))
_maybe_text = st.none() | _word.map(str.strip).filter(bool)


@st.composite
def operator_profiles(draw: st.DrawFn) -> dict[str, object]:
    """A profile as an operator writes it, with values YAML 1.1 reads as text."""
    data: dict[str, object] = {"email": "sam@example.org", "keywords": draw(st.lists(_keyword, min_size=1))}
    for key in ("name", "note"):
        if (value := draw(_maybe_text)) is not None:
            data[key] = value
    if exclude := draw(st.lists(_keyword, max_size=3)):
        data["exclude"] = exclude
    if draw(st.booleans()):
        data["send_at"] = f"{draw(st.integers(0, 23)):02}:{draw(st.integers(0, 59)):02}"
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    profile=operator_profiles(),
    keywords=st.lists(_keyword, min_size=1, max_size=6, unique=True),
    name=_maybe_text,
)
def test_any_valid_profile_saved_and_reloaded_is_the_same_profile(
    tmp_path_factory: pytest.TempPathFactory,
    profile: dict[str, object],
    keywords: list[str],
    name: str | None,
) -> None:
    folder = tmp_path_factory.mktemp("profiles")
    path = folder / "sam.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    try:
        before = load_profile(path)
    except ConfigError:
        return  # not a valid profile to begin with (e.g. a keyword the matcher cannot use)
    save_subscription(folder, "sam@example.org", keywords, name=name)
    expected = dataclasses.replace(before, keywords=tuple(keywords), name=name or before.name)
    assert load_profile(path) == expected
