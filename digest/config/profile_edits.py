"""Every write of a profile: a confirmed sign-up's keywords, and what a subscriber changes on the
manage page, written into the file that lists them. An operator's shared or hand-written profile
is edited in place, never silently split.

A file that lists several addresses is split only when asked: the address gets a file of its own
with the same settings, written before the address leaves the shared file, so a crash in between
leaves it listed twice (the first file still mails it, once) rather than nowhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import ConfigError, Problem
from ..models import Profile
from . import profile_files
from .addresses import normalize_address
from .options import model_default
from .profiles import load_profile, profile_from_text, profile_to_edit

_MAX_PAPERS: int = model_default(Profile, "max_papers")
# The fields a new file copies, in the order a person would write them.
_COPIED = ("name", "keywords", "all_of", "exclude", "authors", "categories", "max_papers",
           "timezone", "send_at", "frequency", "weekday", "note", "trending")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class SubscriberSettings:
    """The fields of a profile its subscriber may change from the manage page."""

    keywords: tuple[str, ...]
    exclude: tuple[str, ...]
    authors: tuple[str, ...]
    frequency: str  # daily or weekly
    max_papers: int


def subscriber_settings(profile: Profile) -> SubscriberSettings:
    return SubscriberSettings(
        profile.keywords, profile.exclude, profile.authors, profile.frequency or "daily", profile.max_papers
    )


def save_settings(profiles_dir: Path, address: str, chosen: SubscriberSettings, cache: Path | None) -> Path:
    """Write `chosen` into the profile that mails `address` (a new file when none lists it)."""
    with _address_lock(profiles_dir, address):
        profile = profile_to_edit(profiles_dir, address, cache)
        if profile is None:
            blank = Profile(str(profiles_dir / "new.yaml"), (address,))
            return _create(profiles_dir, _with_settings(blank, chosen), "saved on the manage page")
        with _file_lock(profile.path):
            before = load_profile(profile.path)  # under the lock: the version this edit starts from
            _edit(before, _with_settings(before, chosen), _setter(chosen))
        return profile.path


def give_own_file(
    profiles_dir: Path, address: str, cache: Path | None, occasion: str = "on the manage page"
) -> Path:
    """Move `address` out of a profile it shares into a new file with the same settings."""
    with _address_lock(profiles_dir, address):
        shared = profile_to_edit(profiles_dir, address, cache)
        if shared is None:
            what = f"not saved: no profile lists {address} any more"
            raise ConfigError([Problem(profiles_dir, None, "", what)])
        if len(shared.emails) == 1:
            return shared.path
        own = dataclasses.replace(shared, emails=(address,))
        path = _create(profiles_dir, own, f"split off {shared.path.name} {occasion}")
        try:
            with _file_lock(shared.path):
                before = load_profile(shared.path)
                rest = tuple(a for a in before.emails if a != address)
                _edit(before, dataclasses.replace(before, emails=rest), _without_address(address))
        except BaseException:
            path.unlink(missing_ok=True)  # listed by the shared file still: nothing is lost
            raise
        return path


def _with_settings(profile: Profile, chosen: SubscriberSettings) -> Profile:
    unchanged = chosen.frequency == (profile.frequency or "daily")
    return dataclasses.replace(
        profile, keywords=chosen.keywords, exclude=chosen.exclude, authors=chosen.authors,
        max_papers=chosen.max_papers, frequency=profile.frequency if unchanged else chosen.frequency,
    )  # fmt: skip


def _setter(chosen: SubscriberSettings) -> Any:
    def set_fields(data: CommentedMap, before: Profile) -> None:
        for key in ("keywords", "exclude", "authors"):
            terms = getattr(chosen, key)
            if terms != getattr(before, key):  # an untouched list keeps its layout and comments
                _put(data, key, CommentedSeq(terms) if terms else None)
        if chosen.frequency != (before.frequency or "daily"):
            _put(data, "frequency", chosen.frequency)
        if chosen.max_papers != before.max_papers:
            _put(data, "max_papers", chosen.max_papers)

    return set_fields


def _without_address(address: str) -> Any:
    def drop(data: CommentedMap, before: Profile) -> None:
        listed = data["email"]
        for index in reversed(range(len(listed))):
            if _same_address(str(listed[index]), address):
                del listed[index]

    return drop


def _same_address(text: str, address: str) -> bool:
    try:
        return normalize_address(text) == address
    except ValueError:
        return False


def _put(data: CommentedMap, key: str, value: Any) -> None:
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value


def _edit(before: Profile, expected: Profile, change: Any) -> None:
    """Apply `change` to the file's text, keeping its comments, and replace it if it reads back."""
    path = before.path
    editor = profile_files.round_trip_yaml()
    try:
        data = editor.load(path.read_text(encoding="utf-8"))
        change(data, before)
        text = profile_files.dump(editor, data)
    except OSError:
        raise
    except Exception as exc:  # ruamel fails on some text PyYAML reads: a tab in a word, odd comments
        what = f"not saved: this file cannot be edited and keep its comments ({type(exc).__name__})"
        raise ConfigError([Problem(path, None, "", what, "edit it by hand")]) from exc
    check_reads_back(path, text, expected)
    profile_files.replace(path, text)


def _create(profiles_dir: Path, profile: Profile, why: str) -> Path:
    address = profile.emails[0]
    data = CommentedMap()
    data.yaml_set_start_comment(f"Profile of {address}, {why}.")
    data["email"] = address
    for key in _COPIED:
        value = getattr(profile, key)
        defaults = {"max_papers": _MAX_PAPERS, "trending": 0}  # a default is not written out
        if value not in (None, ()) and not (key in defaults and value == defaults[key]):
            data[key] = CommentedSeq(value) if isinstance(value, tuple) else value
    candidates = new_profile_paths(profiles_dir, address)
    text = profile_files.dump(profile_files.round_trip_yaml(), data)
    check_reads_back(candidates[0], text, dataclasses.replace(profile, file=str(candidates[0])))
    return profile_files.create(candidates, text)


def _address_lock(profiles_dir: Path, address: str) -> Any:
    profiles_dir.mkdir(parents=True, exist_ok=True)
    return profile_files.locked(profiles_dir, "address-" + profile_files.lock_name(address))


def _file_lock(path: Path) -> Any:
    return profile_files.locked(path.parent, "file-" + profile_files.lock_name(path.name))


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
                return _create_subscription(profiles_dir, address, keywords, name)
            if len(existing.emails) == 1:
                return _update(existing.path, keywords, name)
        # A shared profile is not rewritten for one member's sign-up: the address gets its own
        # file with the group's settings, then its keywords (the address lock is free again here).
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


def _create_subscription(profiles_dir: Path, address: str, keywords: list[str], name: str | None) -> Path:
    data = CommentedMap()
    data.yaml_set_start_comment(f"Profile of {address}, written when the subscription was confirmed.")
    data["email"] = address
    if name:
        data["name"] = name
    data["keywords"] = CommentedSeq(keywords)
    candidates = new_profile_paths(profiles_dir, address)
    text = profile_files.dump(profile_files.round_trip_yaml(), data)
    expected = Profile(str(candidates[0]), (address,), keywords=tuple(keywords), name=name)
    check_reads_back(candidates[0], text, expected)
    return profile_files.create(candidates, text)


def check_reads_back(path: Path, text: str, expected: Profile) -> None:
    """Refuse `text` unless the reader of profiles makes `expected` of it."""
    try:
        written = profile_from_text(text, path)
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
