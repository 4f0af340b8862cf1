"""profiles/*.yaml → Profile: unknown keys are errors, so a typo never silently empties a digest."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import ConfigError, Problem
from ..models import WEEKDAYS, Profile
from . import arxiv_taxonomy, hints, profile_files, yamlfile
from .addresses import normalize_address
from .options import model_default
from .profile_cache import ProfileCache, stamp_of
from .yamlfile import Document

PROFILE_KEYS = (
    "email", "name", "keywords", "all_of", "exclude", "authors", "categories",
    "max_papers", "timezone", "send_at", "frequency", "weekday", "note",
)  # fmt: skip
FREQUENCIES = ("daily", "weekly")
_SEND_AT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_CATEGORY = re.compile(r"^[A-Za-z-]+(\.[A-Za-z-]+)?$")
# models.Profile holds the default, once: profiles built in code get the same one.
_MAX_PAPERS: int = model_default(Profile, "max_papers")

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


def _validated(doc: Document) -> Profile:
    path = doc.path
    data = doc.mapping(doc.data, ())
    if doc.data is None:
        doc.problem((), "the profile is empty", "it needs at least email and keywords or authors")
    doc.check_keys(data, PROFILE_KEYS, ())
    profile = Profile(
        path=path,
        emails=_emails(doc, data),
        name=doc.text(data, "name", ()),
        keywords=doc.texts(data, "keywords", ()),
        exclude=doc.texts(data, "exclude", ()),
        all_of=doc.texts(data, "all_of", ()),
        authors=doc.texts(data, "authors", ()),
        categories=_categories(doc, data),
        max_papers=doc.integer(data, "max_papers", (), _MAX_PAPERS, 1, 500),
        timezone=doc.timezone(data, "timezone", ()),
        send_at=_send_at(doc, data),
        note=doc.text(data, "note", ()),
        frequency=doc.choice(data, "frequency", (), FREQUENCIES),
        weekday=doc.choice(data, "weekday", (), WEEKDAYS),
    )
    for key in ("keywords", "all_of", "exclude", "authors"):
        for index, term in enumerate(getattr(profile, key)):
            if not re.search(r"[^\W_]", term):
                doc.problem((key, index), f"'{term}' has no letters or digits to match")
    typo = any(p.message == "unknown key" for p in doc.problems)  # its hint says it all
    if doc.data is not None and not (profile.keywords or profile.authors or profile.all_of or typo):
        doc.problem(("keywords",), "nothing to match", "add keywords, all_of or authors")
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


def save_subscription(
    profiles_dir: Path,
    address: str,
    keywords: Sequence[str],
    name: str | None = None,
    cache: Path | None = None,
) -> Path:
    """Write the keywords of `address`'s own profile, creating it if needed; comments are kept.

    `cache` is the profile cache to find the profile through. ConfigError when the profile
    cannot be written (a full disk) or would not read back as written."""
    keywords = [keyword.strip() for keyword in keywords]
    with contextlib.suppress(ValueError):  # an invalid address is refused when its text is read back
        address = normalize_address(address)  # as profiles hold it, so its file is found again
    try:
        profiles_dir.mkdir(parents=True, exist_ok=True)
        # One writer per address at a time: finding its file and creating one is then one step.
        with profile_files.locked(profiles_dir, "address-" + profile_files.lock_name(address)):
            existing = profile_to_edit(profiles_dir, address, cache)
            if existing is None:
                return _create(profiles_dir, address, keywords, name)
            if len(existing.emails) == 1:
                return _update(existing.path, keywords, name)
        # A shared profile is not rewritten for one member's sign-up: the address gets its own
        # file with the group's settings, then its keywords (the address lock is free again here).
        from .profile_edits import give_own_file  # here: that module builds on this one

        own = give_own_file(profiles_dir, address, cache, "when its subscription was confirmed")
        return _update(own, keywords, name)
    except OSError as exc:
        what = f"profile of {address} not saved: cannot write: {exc.strerror or exc}"
        raise ConfigError([Problem(profiles_dir, None, "", what)]) from exc


def _update(path: Path, keywords: list[str], name: str | None) -> Path:
    with profile_files.locked(path.parent, "file-" + profile_files.lock_name(path.name)):
        before = load_profile(path)  # under the lock: the version this edit starts from
        text = _edited_text(path, keywords, name)
        expected = dataclasses.replace(before, keywords=tuple(keywords), name=name or before.name)
        check_reads_back(path, text, expected)
        profile_files.replace(path, text)
    return path


def _edited_text(path: Path, keywords: list[str], name: str | None) -> str:
    editor = profile_files.round_trip_yaml()
    try:
        data = editor.load(path.read_text(encoding="utf-8"))
        if name:
            data["name"] = name
        data["keywords"] = CommentedSeq(keywords)
        return profile_files.dump(editor, data)
    except OSError:
        raise
    except Exception as exc:  # ruamel fails on some text PyYAML reads: a tab in a word, odd comments
        what = f"not saved: this file cannot be edited and keep its comments ({type(exc).__name__})"
        hint = "edit it by hand, or remove it and subscribe again"
        raise ConfigError([Problem(path, None, "", what, hint)]) from exc


def _create(profiles_dir: Path, address: str, keywords: list[str], name: str | None) -> Path:
    data = CommentedMap()
    data.yaml_set_start_comment(f"Profile of {address}, written when the subscription was confirmed.")
    data["email"] = address
    if name:
        data["name"] = name
    data["keywords"] = CommentedSeq(keywords)
    candidates = new_profile_paths(profiles_dir, address)
    text = profile_files.dump(profile_files.round_trip_yaml(), data)
    expected = Profile(candidates[0], (address,), keywords=tuple(keywords), name=name)
    check_reads_back(candidates[0], text, expected)
    return profile_files.create(candidates, text)


def check_reads_back(path: Path, text: str, expected: Profile) -> None:
    """Refuse `text` unless the reader of profiles makes `expected` of it."""
    try:
        written = _validated(yamlfile.parse(text, path))
    except ConfigError as error:
        problems = [dataclasses.replace(p, message=f"not saved: {p.message}") for p in error.problems]
        raise ConfigError(problems) from error
    if written != expected:
        different = "not saved: the text written would not read back the same"
        raise ConfigError([Problem(path, None, "", different)])


def new_profile_paths(profiles_dir: Path, address: str) -> list[Path]:
    """File names for a new profile of `address`, the plainest first; two addresses may slug alike."""
    stem = re.sub(r"[^a-z0-9]+", "-", address.lower().replace("@", "-at-")).strip("-")[:80] or "profile"
    digest = hashlib.sha1(address.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    stems = [stem, f"{stem}-{digest}", *(f"{stem}-{digest}-{n}" for n in range(2, 100))]
    return [profiles_dir / f"{name}.yaml" for name in stems]
