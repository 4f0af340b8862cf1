"""profiles/*.yaml → Profile: unknown keys are errors, so a typo never silently empties a digest."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, Problem
from ..models import WEEKDAYS, Profile
from . import arxiv_taxonomy, hints, liked_papers, yamlfile
from .addresses import normalize_address
from .options import model_default
from .profile_cache import ProfileCache, shared_terms, stamp_of
from .yamlfile import Document

PROFILE_KEYS = (
    "email", "name", "keywords", "all_of", "exclude", "authors", "categories",
    "max_papers", "timezone", "send_at", "frequency", "weekday", "note", "like", "dislike", "similarity",
    "trending",
)  # fmt: skip
FREQUENCIES = ("daily", "weekly")
_SEND_AT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_CATEGORY = re.compile(r"^[A-Za-z-]+(\.[A-Za-z-]+)?$")
# models.Profile holds the default, once: profiles built in code get the same one.
_MAX_PAPERS: int = model_default(Profile, "max_papers")
MAX_TRENDING = 20  # a short section beside the profile's own papers, not a second digest

log = logging.getLogger("digest.profiles")


def profile_paths(profiles_dir: Path) -> list[Path]:
    """Every profile file of a folder, in a stable order."""
    if not profiles_dir.is_dir():
        return []
    return sorted(
        p
        for p in profiles_dir.iterdir()
        # Hidden files are a writer's temporary files (and an editor's): never a profile.
        # Any case of the suffix: a profile named BOB.YAML is still a profile, never silently skipped.
        if p.suffix.lower() in (".yaml", ".yml") and not p.name.startswith(".") and p.is_file()
    )


def load_profiles(profiles_dir: Path, cache: Path | None = None) -> tuple[list[Profile], list[ConfigError]]:
    """All valid profiles of a folder, and the errors of the broken ones (which are skipped).

    With a `cache` file, profiles unchanged since the last call are taken from it, not parsed."""
    known = ProfileCache(cache) if cache else None
    profiles, errors = [], []
    for path in profile_paths(profiles_dir):
        stamp = stamp_of(path) if known else None
        try:
            profile = (known and known.get(path, stamp)) or load_profile(path)
        except ConfigError as error:
            errors.append(error)
            continue
        profiles.append(profile)
        if known:
            known.put(path, stamp, profile)
    if known:
        known.save()
        counts = {"parsed": known.misses, "cached": known.hits}
        log.debug("profiles in %s: %d parsed, %d unchanged", profiles_dir, *counts.values(), extra=counts)
    return profiles, errors


def load_profile(path: Path) -> Profile:
    """Read and validate one profile; ConfigError lists everything wrong with it."""
    return _validated(yamlfile.load(path))


def profile_from_text(text: str, path: Path) -> Profile:
    """The profile `text` would be as the file `path`: how a save checks what it is about to write."""
    return _validated(yamlfile.parse(text, path))


def _validated(doc: Document) -> Profile:
    path = doc.path
    data = doc.mapping(doc.data, ())
    if doc.data is None:
        doc.problem((), "the profile is empty", "it needs at least email and keywords or authors")
    doc.check_keys(data, PROFILE_KEYS, ())
    like, dislike = liked_papers.votes(doc, data, "like"), liked_papers.votes(doc, data, "dislike")
    liked_papers.both_ways_problems(doc, like, dislike)
    profile = Profile(
        file=str(path),
        emails=_emails(doc, data),
        name=doc.text(data, "name", ()),
        keywords=shared_terms(doc.texts(data, "keywords", ())),
        exclude=shared_terms(doc.texts(data, "exclude", ())),
        all_of=shared_terms(doc.texts(data, "all_of", ())),
        authors=shared_terms(doc.texts(data, "authors", ())),
        categories=shared_terms(_categories(doc, data)),
        max_papers=doc.integer(data, "max_papers", (), _MAX_PAPERS, 1, 500),
        timezone=doc.timezone(data, "timezone", ()),
        send_at=_send_at(doc, data),
        note=doc.text(data, "note", ()),
        frequency=doc.choice(data, "frequency", (), FREQUENCIES),
        weekday=doc.choice(data, "weekday", (), WEEKDAYS),
        like=tuple(like),
        dislike=tuple(dislike),
        similarity=doc.choice(data, "similarity", (), liked_papers.SIMILARITIES),
        trending=doc.integer(data, "trending", (), 0, 0, MAX_TRENDING),
    )
    for key in ("keywords", "all_of", "exclude", "authors"):
        for index, term in enumerate(getattr(profile, key)):
            if not re.search(r"[^\W_]", term):
                doc.problem((key, index), f"'{term}' has no letters or digits to match")
    typo = any(p.message == "unknown key" for p in doc.problems)  # its hint says it all
    # A like list written but broken has its own problems; "nothing to match" would only confuse.
    chosen = profile.keywords or profile.authors or profile.all_of or "like" in data
    if doc.data is not None and not (chosen or typo):
        doc.problem(("keywords",), "nothing to match", "add keywords, all_of, authors or like")
    doc.raise_problems()
    return profile


def _emails(doc: Document, data: dict[str, Any]) -> tuple[str, ...]:
    if "email" not in data:
        doc.problem(("email",), "missing required key", "add email: you@example.org")
        return ()
    addresses = []
    listed = isinstance(data["email"], list)
    for index, text in enumerate(doc.texts(data, "email", ())):
        try:
            addresses.append(normalize_address(text))
        except ValueError as exc:
            doc.problem(("email", index) if listed else ("email",), f"invalid address {text!r}: {exc}")
    if not addresses and not doc.problems:
        doc.problem(("email",), "no address given")
    return tuple(dict.fromkeys(addresses))


def _categories(doc: Document, data: dict[str, Any]) -> tuple[str, ...]:
    categories = doc.texts(data, "categories", ())
    listed = isinstance(data.get("categories"), list)
    for index, category in enumerate(categories):
        key = ("categories", index) if listed else ("categories",)
        if not _CATEGORY.match(category):
            doc.problem(key, f"'{category}' is not an arXiv category", "e.g. cs.CL")
        elif not arxiv_taxonomy.is_known(category):
            doc.problem(key, f"unknown arXiv category '{category}'", arxiv_taxonomy.hint(category))
    return categories


def _send_at(doc: Document, data: dict[str, Any]) -> str | None:
    send_at = doc.text(data, "send_at", ())
    meant = hints.clock_time(data.get("send_at"))
    if isinstance(data.get("send_at"), int):  # YAML 1.1 reads an unquoted 8:00 as 480 minutes
        hint = f'quote it: "{meant or "08:00"}"'
        doc.problem(("send_at",), f"YAML read this time as the number {send_at}", hint)
        return None
    if send_at is not None and not _SEND_AT.match(send_at):
        hint = f'write it as "{meant}"' if meant else 'e.g. "08:00"'
        doc.problem(("send_at",), f"expected a time as HH:MM, got '{send_at}'", hint)
        return None
    return send_at


def shared_address_problems(profiles: Sequence[Profile]) -> list[Problem]:
    """A problem for each address a later profile lists again: only the first profile mails it."""
    first: dict[str, Path] = {}
    problems = []
    for profile in profiles:
        for address in profile.emails:
            if address not in first:
                first[address] = profile.path
                continue
            # Files are read again for lines only here, where a problem is found: rare and small.
            line, key = _address_position(profile.path, address)
            earlier_line, _ = _address_position(first[address], address)
            earlier = f"{first[address]}:{earlier_line}" if earlier_line else str(first[address])
            message = f"{address} is also listed by {earlier}"
            problems.append(Problem(profile.path, line, key, message, _SHARED_HINT))
    return problems


_SHARED_HINT = (
    "an address is mailed by its first profile only, so the other's keywords and authors are lost:"
    " keep the address in one file"
)


def _address_position(path: Path, address: str) -> tuple[int | None, str]:
    """The line and key path at which the profile file `path` lists `address`."""
    doc = yamlfile.load(path)
    listed = doc.data.get("email") if isinstance(doc.data, dict) else None
    if isinstance(listed, list):
        for index, text in enumerate(listed):
            with contextlib.suppress(ValueError):
                if normalize_address(str(text)) == address:
                    return doc.line(("email", index)), f"email[{index}]"
    return doc.line(("email",)), "email"


def keyword_position(path: Path, index: int) -> tuple[int | None, str]:
    """The line and key path of the profile file's keyword number `index`."""
    doc = yamlfile.load(path)
    listed = isinstance(doc.data, dict) and isinstance(doc.data.get("keywords"), list)
    key = ("keywords", index) if listed else ("keywords",)
    return doc.line(key), yamlfile.format_key(key)


def profile_for(profiles_dir: Path, address: str, cache: Path | None = None) -> Profile | None:
    """The profile that mails `address`: the first readable one listing it, as runs take it.

    With a `cache` file (the one runs use), only the files changed since the last read are parsed."""
    profiles, _ = load_profiles(profiles_dir, cache)
    return next((profile for profile in profiles if address in profile.emails), None)


def profile_to_edit(profiles_dir: Path, address: str, cache: Path | None = None) -> Profile | None:
    """`profile_for`, but ConfigError when only a broken profile may list `address`: a writer
    would otherwise give it a second file, which the first would override once it is fixed."""
    profiles, errors = load_profiles(profiles_dir, cache)
    found = next((profile for profile in profiles if address in profile.emails), None)
    broken = [error.problems[0].file for error in errors if error.problems]
    mentioning = next((path for path in broken if _mentions(path, address)), None)
    if found is None and mentioning is not None:
        what = f"not saved: {address} is listed by a profile with mistakes"
        raise ConfigError([Problem(mentioning, None, "", what, "fix the profile first (digest check)")])
    return found


def _mentions(path: Path, address: str) -> bool:
    try:
        return address in path.read_text(encoding="utf-8", errors="replace").lower()
    except OSError:
        return False
