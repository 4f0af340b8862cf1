"""Hints that say how a person meant to write what YAML or a value check refused."""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem


@functools.cache
def _zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def closest_zone(name: str) -> str | None:
    """The time zone name closest to a mistyped one, if any is close."""
    close = difflib.get_close_matches(name, _zone_names(), n=1)
    return close[0] if close else None


def clock_time(value: Any) -> str | None:
    """The "HH:MM" a person meant by `value`: 7:30 and YAML 1.1's reading of it, 450, are 07:30."""
    if isinstance(value, int) and not isinstance(value, bool):
        hours, minutes = divmod(value, 60)  # YAML 1.1 reads an unquoted 7:30 in base 60
    else:
        found = re.fullmatch(r"\s*(\d{1,2})[:.h](\d{2})\s*", str(value))
        if not found:
            return None
        hours, minutes = int(found.group(1)), int(found.group(2))
    return f"{hours:02d}:{minutes:02d}" if 0 <= hours < 24 and 0 <= minutes < 60 else None


# Messages of the YAML parser that mean, nearly always, a line indented more or less than its siblings.
_LAYOUT_MESSAGES = ("mapping values are not allowed", "expected <block end>", "did not find expected key")
_LAYOUT_HINT = (
    "check the indentation of this line and the one above:"
    " the keys of one mapping, and the items of one list, line up"
)


def yaml_problems(exc: yaml.YAMLError, text: str, path: Path) -> list[Problem]:
    """The problems a YAML syntax error stands for: every tab-indented line where a tab is at
    fault (the parser stops at the first), else the error itself."""
    syntax = syntax_problem(exc, path)
    tabs = tab_problems(text, path)
    return tabs if any(tab.line == syntax.line for tab in tabs) else [syntax]


def syntax_problem(exc: yaml.YAMLError, path: Path) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    what = getattr(exc, "problem", None) or str(exc)
    layout = any(message in str(exc) for message in _LAYOUT_MESSAGES)
    hint = _LAYOUT_HINT if layout else None
    return Problem(path, line, "", f"invalid YAML: {what}", hint)


def tab_problems(text: str, path: Path) -> list[Problem]:
    """One problem per line a tab indents: YAML refuses them all, the parser names only the first."""
    hint = "indent with spaces: YAML does not allow tabs for indentation"
    return [
        Problem(path, number, "", "a tab indents this line", hint)
        for number, line in enumerate(text.splitlines(), 1)
        if "\t" in line[: len(line) - len(line.lstrip())]
    ]
