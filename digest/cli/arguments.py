"""Command-line values that become the pipeline's types."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from ..models import SourceConfig


def source_from_argument(argument: str) -> SourceConfig:
    """A --source value (URL or path, relative to the working directory) as a source."""
    if "://" in argument:
        parts = urlsplit(argument)
        return SourceConfig(f"{parts.netloc}{parts.path}".rstrip("/"), argument)
    path = Path(argument).expanduser()
    return SourceConfig(path.name, str(path.resolve()))
