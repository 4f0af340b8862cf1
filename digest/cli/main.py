"""The click group: the one place where errors become `Error: …` lines, and the shared options."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import __version__
from ..config.settings import DEFAULT_CONFIG
from ..errors import ConfigError, DigestError
from ..store import BROKEN_HINT, DATABASE_ERRORS
from .arguments import EditionDate
from .output import print_error

F = TypeVar("F", bound=Callable[..., Any])


class DigestGroup(click.Group):
    """Every command runs inside invoke(): a DigestError ends it with `Error: …` and status 1.

    Bugs keep their traceback; click's own usage errors keep click's wording."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            for problem in error.problems:
                print_error(str(problem), problem.hint)
        except DigestError as error:
            print_error(str(error), error.hint)
        except DATABASE_ERRORS as error:  # mid-run: a full disk, a file changed under us
            print_error(f"state database: {error}", BROKEN_HINT)
        sys.exit(1)


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
def main() -> None:
    """A self-hosted research-paper newsletter.

    \b
    Fetch listings (arXiv, Hugging Face Daily Papers, any RSS/Atom feed), pick
    the papers each subscriber's YAML profile asks for, and mail them a digest.

    \b
    Try it on the shipped samples:
      digest run --once --source samples/arxiv-cs.CL+cs.LG.xml --source samples/hf-daily-papers.json
    """


def common_options(function: F) -> F:
    """--config and --source, shared by the commands that read listings."""
    function = click.option(
        "--source",
        "sources",
        multiple=True,
        metavar="URL|PATH",
        help="Fetch this listing instead of the configured sources (repeatable).",
    )(function)
    return config_option(function)


def config_option(function: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default=DEFAULT_CONFIG,
        show_default=True,
        help="Site configuration file.",
    )(function)


def date_option(function: F) -> F:
    return click.option(
        "--date",
        "edition",
        type=EditionDate(),
        metavar="YYYY-MM-DD",
        help="The edition to build (default: today in the site's time zone).",
    )(function)
