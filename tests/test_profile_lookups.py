"""Web requests and confirmations find a subscriber's profile through the profile cache, as runs do:
only the files changed since the last read are parsed again (2 s per request at 10,000 profiles otherwise)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from digest.config.profile_cache import CACHE_FILE
from digest.config.profile_edits import save_subscription
from digest.config.profiles import load_profile
from digest.tokens import sign

from .conftest import Site
from .test_web import serving

READERS = 40


def _reader(n: int, keyword: str = "diffusion") -> str:
    return f"email: reader{n}@example.org\nkeywords: [{keyword}]\n"


def _parsed(caplog: pytest.LogCaptureFixture) -> list[int]:
    """How many profile files each read of the folder parsed, in order (the rest came from the cache)."""
    return [record.parsed for record in caplog.records if hasattr(record, "parsed")]


def test_a_manage_request_parses_only_the_profiles_changed_since_the_last_read(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(READERS):
        site.profile(f"reader{n}", _reader(n))
    caplog.set_level(logging.DEBUG, logger="digest.profiles")
    link = f"/manage/{sign('test-secret', 'manage', 'alice@example.org')}"

    with serving(site) as web:
        first = web.client.get(link)
        site.profile("reader7", _reader(7, "protein design"))
        second = web.client.get(link)

    assert first.status_code == second.status_code == 200 and "data selection" in second.text
    assert _parsed(caplog) == [READERS + 1, 1]


def test_a_confirmation_finds_the_existing_profile_through_the_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    profiles, cache = tmp_path / "profiles", tmp_path / "var" / CACHE_FILE
    profiles.mkdir()
    for n in range(READERS):
        (profiles / f"reader{n}.yaml").write_text(_reader(n), encoding="utf-8")
    caplog.set_level(logging.DEBUG, logger="digest.profiles")

    first = save_subscription(profiles, "reader3@example.org", ["graph learning"], cache=cache)
    second = save_subscription(profiles, "reader3@example.org", ["protein design"], cache=cache)

    assert first == second == profiles / "reader3.yaml"
    assert load_profile(second).keywords == ("protein design",)
    assert _parsed(caplog) == [READERS, 1]  # the second read parses only the file the first one rewrote
