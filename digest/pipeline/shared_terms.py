"""Profiles whose repeated strings are one object each: a keyword that a thousand profiles ask
for is held once, not a thousand times.

Profiles are read as text (from their files, or from the profile cache's JSON), which makes a
new string of every keyword in every profile: 100,000 profiles of eight keywords from a few
thousand distinct ones held 900,000 strings, about 55 MB in every process of a run, each
compose worker included, where one copy of each distinct string takes well under 1 MB.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..config.profiles import load_profiles
from ..errors import ConfigError
from ..models import Profile


def load_sharing_terms(
    profiles_dir: Path, cache: Path | None = None
) -> tuple[list[Profile], list[ConfigError]]:
    """`load_profiles`, each term one string for every profile holding it. A run loads them in a
    worker process of its own: the strings then also cross to the run's process once each."""
    profiles, errors = load_profiles(profiles_dir, cache)
    return sharing_terms(profiles), errors


def sharing_terms(profiles: list[Profile]) -> list[Profile]:
    seen: dict[str, str] = {}

    def shared(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple([seen.setdefault(value, value) for value in values])

    return [
        replace(
            p,
            keywords=shared(p.keywords),
            all_of=shared(p.all_of),
            exclude=shared(p.exclude),
            authors=shared(p.authors),
            categories=shared(p.categories),
        )
        for p in profiles
    ]
