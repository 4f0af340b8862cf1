"""profiles/*.yaml → Profile: unknown keys are errors, so a typo never silently empties a digest."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from . import yamlfile
from .addresses import normalize_address
from .errors import ConfigError
from .models import Profile
from .profile_cache import ProfileCache, stamp_of
from .yamlfile import Document

PROFILE_KEYS = (
    "email", "name", "keywords", "all_of", "exclude", "authors", "categories",
    "max_papers", "timezone", "send_at", "frequency", "weekday", "note",
)  # fmt: skip
FREQUENCIES = ("daily", "weekly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SEND_AT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")


def profile_paths(profiles_dir: Path) -> list[Path]:
    """Every profile file of a folder, in a stable order."""
    if not profiles_dir.is_dir():
        return []
    return sorted(p for p in profiles_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


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
    return profiles, errors


def load_profile(path: Path) -> Profile:
    """Read and validate one profile; ConfigError lists everything wrong with it."""
    doc = yamlfile.load(path)
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
        max_papers=doc.integer(data, "max_papers", (), 20, 1, 500),
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
    for index, category in enumerate(categories):
        if not _CATEGORY.match(category):
            doc.problem(("categories", index), f"'{category}' is not an arXiv category", "e.g. cs.CL")
    return categories


def _send_at(doc: Document, data: dict[str, Any]) -> str | None:
    send_at = doc.text(data, "send_at", ())
    if isinstance(data.get("send_at"), int):  # YAML 1.1 reads an unquoted 8:00 as 480 minutes
        doc.problem(("send_at",), f"YAML read this time as the number {send_at}", 'quote it: "08:00"')
        return None
    if send_at is not None and not _SEND_AT.match(send_at):
        doc.problem(("send_at",), f"expected a time as HH:MM, got '{send_at}'", 'e.g. "08:00"')
        return None
    return send_at


def profile_for(profiles_dir: Path, address: str) -> Profile | None:
    """The readable profile that mails `address` alone, if there is one."""
    for path in profile_paths(profiles_dir):
        try:
            profile = load_profile(path)
        except ConfigError:
            continue
        if profile.emails == (address,):
            return profile
    return None


def save_subscription(
    profiles_dir: Path, address: str, keywords: Sequence[str], name: str | None = None
) -> Path:
    """Write the keywords of `address`'s own profile, creating it if needed; comments are kept."""
    existing = profile_for(profiles_dir, address)
    path = existing.path if existing else _new_profile_path(profiles_dir, address)
    yaml = YAML()  # round-trip: an operator's comments and key order survive the edit
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(path) if existing else CommentedMap()
    if not existing:
        data.yaml_set_start_comment(f"Profile of {address}, written when the subscription was confirmed.")
        data["email"] = address
    if name:
        data["name"] = name
    data["keywords"] = CommentedSeq(keywords)
    profiles_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    partial.replace(path)
    return path


def _new_profile_path(profiles_dir: Path, address: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", address.lower().replace("@", "-at-"))
    stem = slug[:64].strip("-")  # file names past 255 bytes fail; an address may have 254 characters
    path = profiles_dir / f"{stem}.yaml"
    digest = hashlib.sha1(address.encode()).hexdigest()[:6]  # two addresses that slug alike
    return path if not path.exists() else profiles_dir / f"{stem}-{digest}.yaml"
