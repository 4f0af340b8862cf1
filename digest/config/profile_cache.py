"""Parsed profiles kept between runs: a file unchanged since the last run is not parsed again."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import __version__
from ..models import Profile

log = logging.getLogger("digest.profiles")

CACHE_FILE = "profile-cache.json"  # in the state folder
Stamp = tuple[int, int, int]  # size, mtime and ctime in ns: any write changes one of them
TERM_FIELDS = ("keywords", "all_of", "exclude", "authors", "categories")


def stamp_of(path: Path) -> Stamp | None:
    try:
        status = path.stat()
    except OSError:
        return None  # gone since it was listed: parsing it says so
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns)


class ProfileCache:
    """Valid profiles only, so a broken profile is reported on every run until it is fixed."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._known = self._read()
        self._now: dict[str, tuple[Stamp, Profile]] = {}
        self.hits = self.misses = 0  # files taken from the cache, files the caller had to parse

    def get(self, path: Path, stamp: Stamp | None) -> Profile | None:
        entry = self._known.get(str(path))
        if stamp is not None and entry is not None and entry[0] == stamp:
            self.hits += 1
            return entry[1]
        self.misses += 1
        return None

    def put(self, path: Path, stamp: Stamp | None, profile: Profile) -> None:
        if stamp is not None:
            self._now[str(path)] = (stamp, profile)

    def save(self) -> None:
        """Written whole and renamed into place, so a concurrent reader sees one or the other."""
        if self._now == self._known:
            return
        entries = [[name, stamp, _fields(profile)] for name, (stamp, profile) in self._now.items()]
        text = json.dumps({"version": __version__, "profiles": entries})
        partial: Path | None = None
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            # A name of its own: a run and the web server's thread may save at the same moment.
            descriptor, name = tempfile.mkstemp(dir=self.file.parent, prefix=f".{self.file.name}.")
            partial = Path(name)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(partial, self.file)
        except OSError as error:  # only the next run's speed depends on it
            if partial is not None:
                partial.unlink(missing_ok=True)  # a full disk must not also fill up with halves
            log.warning("profile cache %s not written: %s", self.file, error.strerror or error)

    def _read(self) -> dict[str, tuple[Stamp, Profile]]:
        try:
            data = json.loads(self.file.read_text("utf-8"))
            if data["version"] != __version__:  # Profile's fields may have changed
                return {}
            return {name: (tuple(stamp), _profile(fields)) for name, stamp, fields in data["profiles"]}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("profile cache %s ignored (%s): every profile is read again", self.file, error)
            return {}


# The file is "path" in the cache, as in the caches written before profiles held it as a string.
def _fields(profile: Profile) -> dict[str, Any]:
    fields = dataclasses.asdict(profile)
    fields["path"] = fields.pop("file")
    return fields


def _profile(fields: dict[str, Any]) -> Profile:
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    values.update((key, shared_terms(values[key])) for key in TERM_FIELDS)
    values["file"] = values.pop("path")
    return Profile(**values)


def shared_terms(terms: Iterable[str]) -> tuple[str, ...]:
    """The terms, each one string however many profiles hold it: a file, or the cache's JSON, makes
    a new string of every keyword of every profile, and 100,000 profiles of eight keywords held
    900,000 strings (55 MB in every process of a run) where the few thousand distinct ones take
    well under 1 MB. Equal lists of terms are one tuple too (see _one_of_equal)."""
    return _one_of_equal(tuple(map(sys.intern, terms)))


# Many profiles write the same short list (an exclude, an all_of, a category): a tuple each was
# 6 MB at 100,000. Bounded, as most keyword lists are a profile's own: those pass through it.
@functools.lru_cache(maxsize=1024)
def _one_of_equal(terms: tuple[str, ...]) -> tuple[str, ...]:
    return terms
