"""YAML documents that remember the line of every key, so problems can name file:line:key."""

from __future__ import annotations

import difflib
import functools
import re
import sys
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, Problem
from . import hints

# libyaml is several times faster when the system has it; the pure-Python loader is the fallback.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KeyPath = tuple[str | int, ...]

# Bounds that keep one hostile file from taking the machine: real profiles are a few hundred bytes.
MAX_BYTES = 1_000_000
MAX_DEPTH = 20

_RESOLVER: Any = yaml.resolver.Resolver()  # the resolver the loader uses, to spot explicit tags
_MAPPING = yaml.resolver.Resolver.DEFAULT_MAPPING_TAG
_SEQUENCE = yaml.resolver.Resolver.DEFAULT_SEQUENCE_TAG
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_NUMBER_TAGS = ("tag:yaml.org,2002:float", "tag:yaml.org,2002:int")
# Control characters other than tab and line breaks: only escapes in quoted text make them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def format_key(path: KeyPath) -> str:
    """("delivery", "smtp", "port") → "delivery.smtp.port"; ("keywords", 2) → "keywords[2]"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass
class Document:
    """A parsed YAML file: its data, the line of each key path, and the problems found so far."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    # The text of plain scalars YAML reads as numbers: an unquoted arXiv id 2406.10670 becomes the
    # float 2406.1067, and only the text keeps its last digit.
    numbers: dict[KeyPath, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: KeyPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def problem(self, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(self.path, self.line(path), format_key(path), message, hint))

    def check_keys(self, mapping: dict[str, Any], allowed: Iterable[str], path: KeyPath) -> None:
        """Report every key of `mapping` that is not allowed, suggesting the closest one."""
        allowed = list(allowed)
        for key in mapping:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed)
            self.problem((*path, str(key)), "unknown key", hint)

    def mapping(self, value: Any, path: KeyPath) -> dict[str, Any]:
        """`value` if it is a mapping; otherwise report it and carry on with an empty one."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping of keys, got {_kind(value)}")
            return {}
        return value

    def text(self, mapping: dict[str, Any], key: str, path: KeyPath, required: bool = False) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.problem((*path, key) if path else (key,), "missing required key")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem((*path, key), f"expected text, got {_kind(value)}")
            return None
        value = str(value).strip()
        if _CONTROL.search(value):
            self.problem((*path, key), "a control character is not allowed here")
            return None
        if required and not value:
            self.problem((*path, key), "must not be empty")
        return value or None

    def texts(self, mapping: dict[str, Any], key: str, path: KeyPath) -> tuple[str, ...]:
        """A list of strings; a single string is taken as a list of one."""
        value = mapping.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.problem((*path, key), f"expected a list of text, got {_kind(value)}")
            return ()
        result = []
        for index, item in enumerate(items):
            item_path = (*path, key, index) if isinstance(value, list) else (*path, key)
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.problem(item_path, f"expected text, got {_kind(item)}")
            elif not str(item).strip():
                self.problem(item_path, "must not be empty")
            elif _CONTROL.search(str(item)):
                self.problem(item_path, "a control character is not allowed here")
            else:
                # Interned: the same keywords recur across thousands of profiles held at once.
                result.append(sys.intern(str(item).strip()))
        return tuple(result)

    def integer(
        self, mapping: dict[str, Any], key: str, path: KeyPath, default: int, low: int, high: int
    ) -> int:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem((*path, key), f"expected a whole number from {low} to {high}, got {value!r}")
            return default
        return value

    def number(
        self, mapping: dict[str, Any], key: str, path: KeyPath, default: float, low: float, high: float
    ) -> float:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.problem((*path, key), f"expected a number from {low:g} to {high:g}, got {value!r}")
            return default
        return float(value)

    def choice(
        self, mapping: dict[str, Any], key: str, path: KeyPath, allowed: tuple[str, ...]
    ) -> str | None:
        value = self.text(mapping, key, path)
        if value is not None and value.lower() not in allowed:
            self.problem((*path, key), f"'{value}' is not one of: {', '.join(allowed)}")
            return None
        return value.lower() if value else None

    def flag(self, mapping: dict[str, Any], key: str, path: KeyPath, default: bool = False) -> bool:
        value = mapping.get(key, default)
        if not isinstance(value, bool):
            self.problem((*path, key), f"expected true or false, got {value!r}")
            return default
        return value

    def timezone(self, mapping: dict[str, Any], key: str, path: KeyPath) -> str | None:
        """An IANA time zone name known to this machine."""
        value = self.text(mapping, key, path)
        if value is None:
            return None
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
            close = hints.closest_zone(value)
            hint = f"did you mean {close}?" if close else "use an IANA name such as Europe/Berlin"
            self.problem((*path, key), f"unknown time zone '{value[:60]}'", hint)
            return None
        return value

    def raise_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)


def load(path: Path, max_bytes: int = MAX_BYTES) -> Document:
    """Read and parse a YAML file; unreadable, oversized or malformed files raise ConfigError."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(path, None, "", f"cannot read file: {exc}")]) from exc
    if len(raw) > max_bytes:
        raise ConfigError([Problem(path, None, "", f"the file is larger than {max_bytes} bytes")])
    return parse(text, path)


def parse(text: str, path: Path) -> Document:
    """Parse YAML text read from `path`: plain data only, checked before anything is built from it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        doc = Document(path, None)
        if node is not None:
            _walk(doc, node)
            if any(p.message != "duplicate key" for p in doc.problems):
                doc.raise_problems()  # nothing is built from a document that may expand or execute
            doc.data = _construct(path, loader, node)
        return doc
    except yaml.YAMLError as exc:
        raise ConfigError(hints.yaml_problems(exc, text, path)) from exc
    except RecursionError as exc:  # the pure-Python parser, where libyaml is missing
        raise ConfigError([Problem(path, None, "", "invalid YAML: nested too deeply")]) from exc
    finally:
        loader.dispose()


def _kind(value: Any) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        type(None): "nothing",
    }
    return names.get(type(value), type(value).__name__)


def _walk(doc: Document, root: yaml.Node) -> None:
    """Record the line of every key path; stop at the first alias, tag or too deep nesting."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, KeyPath]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:  # the composer hands out the anchored node again for each alias
            doc.problem(path, "aliases are not allowed", "write the value out in full")
            return
        seen.add(id(node))
        doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode) and not node.style and node.tag in _NUMBER_TAGS:
            doc.numbers[path] = str(node.value)
        if _explicitly_tagged(node):
            doc.problem(path, f"tags such as {node.tag!r} are not allowed", "write plain values")
            return
        if len(path) >= MAX_DEPTH:
            doc.problem(path, f"nested deeper than {MAX_DEPTH} levels")
            return
        stack.extend(reversed(_children(doc, node, path)))


def _children(doc: Document, node: yaml.Node, path: KeyPath) -> list[tuple[yaml.Node, KeyPath]]:
    if isinstance(node, yaml.SequenceNode):
        return [(item, (*path, index)) for index, item in enumerate(node.value)]
    if not isinstance(node, yaml.MappingNode):
        return []
    children, seen = [], set()
    for key_node, value_node in node.value:
        key = str(key_node.value)
        child = (*path, key)
        doc.lines[child] = key_node.start_mark.line + 1
        if key_node.tag == _MERGE:
            doc.problem(child, "merge keys (<<) are not allowed", "write the keys out in full")
            return []
        if _explicitly_tagged(key_node):
            doc.problem(child, f"tags such as {key_node.tag!r} are not allowed", "write plain keys")
            return []
        elif key in seen:
            doc.problem(child, "duplicate key", "a later value silently replaces the first")
        seen.add(key)
        # Keys need no walk further: one that is not a scalar cannot be a dict key, and fails to build.
        children.append((value_node, child))
    return children


def _explicitly_tagged(node: yaml.Node) -> bool:
    """True when a tag in the text gave `node` a type other than the one its plain form has."""
    if isinstance(node, yaml.ScalarNode):
        plain = not node.style  # libyaml marks a plain scalar with "", the Python parser with None
        return bool(node.tag != (_plain_tag(node.value) if plain else _STR))
    default = _MAPPING if isinstance(node, yaml.MappingNode) else _SEQUENCE
    return bool(node.tag != default)


@functools.lru_cache(maxsize=8192)  # keys and keywords recur across thousands of profiles
def _plain_tag(value: str) -> str:
    return str(_RESOLVER.resolve(yaml.ScalarNode, value, (True, False)))


def _construct(path: Path, loader: Any, node: yaml.Node) -> Any:
    """Python values of the checked nodes; a value no type can hold is a problem of its line."""
    try:
        return loader.construct_document(node)
    # e.g. 2024-13-45, an int of 5,000 digits; AttributeError: PyYAML's timestamp constructor on
    # some text its resolver took for a timestamp
    except (ValueError, OverflowError, TypeError, AttributeError) as exc:
        line = _first_unbuildable_line(node)
        raise ConfigError([Problem(path, line, "", f"invalid value: {exc}")]) from exc


def _first_unbuildable_line(root: yaml.Node) -> int | None:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.constructor.SafeConstructor().construct_object(node)
            except (ValueError, OverflowError, TypeError, AttributeError, yaml.YAMLError):
                return node.start_mark.line + 1
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return None
