"""Command-line values that become the pipeline's types."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from ..models import SourceConfig

_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}")


def source_from_argument(argument: str) -> SourceConfig:
    """A --source value (URL or path, relative to the working directory) as a source."""
    if "://" in argument:
        parts = urlsplit(argument)
        return SourceConfig(f"{parts.netloc}{parts.path}".rstrip("/"), argument)
    path = Path(argument).expanduser()
    return SourceConfig(path.name, str(path.resolve()))


class EditionDate(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2
    """--date: YYYY-MM-DD, and a date that exists (click's DateTime calls 2026-13-01 a format error)."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        if not _DATE_SHAPE.fullmatch(text):
            self.fail(f"{text!r} is not a date; write YYYY-MM-DD", param, ctx)
        try:
            return dt.date.fromisoformat(text)
        except ValueError as error:  # the shape is right, the day does not exist
            self.fail(f"{text!r} is not a date ({error}); write YYYY-MM-DD", param, ctx)
