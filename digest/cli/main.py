"""The command line: the only place that prints or exits."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
import sys
import webbrowser
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import __version__
from ..config.profiles import load_profile, profile_paths
from ..config.settings import DEFAULT_CONFIG, load_settings, read_settings
from ..errors import ConfigError, DigestError
from ..models import SourceConfig, SourceReport, paper_to_dict
from ..pipeline import run as pipeline
from ..pipeline import state
from ..render.fast_paths import slow_paths
from ..store import BROKEN_HINT
from .arguments import source_from_argument
from .output import match_json, match_lines, paper_line, source_line, summary_line

F = TypeVar("F", bound=Callable[..., Any])


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
        type=click.DateTime(["%Y-%m-%d"]),
        metavar="YYYY-MM-DD",
        help="The edition to build (default: today in the site's time zone).",
    )(function)


def reports_errors(function: F) -> F:
    """Turn DigestError into `Error: …` lines and exit status 1; bugs keep their traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ConfigError as error:
            for problem in error.problems:
                print_error(str(problem), problem.hint)
        except DigestError as error:
            print_error(str(error), error.hint)
        except sqlite3.DatabaseError as error:  # mid-run: a full disk, a file changed under us
            print_error(f"state database: {error}", BROKEN_HINT)
        sys.exit(1)

    return wrapper  # type: ignore[return-value]


def print_error(message: str, hint: str | None = None) -> None:
    click.secho(f"Error: {message}", fg="red", err=True)
    if hint:
        click.echo(f"  Hint: {hint}", err=True)


def print_warning(message: str, hint: str | None = None) -> None:
    click.secho(f"Warning: {message}", fg="yellow", err=True)
    if hint:
        click.echo(f"  Hint: {hint}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


@main.command()
@common_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per paper per line.")
@reports_errors
def fetch(config_path: Path, sources: tuple[str, ...], as_json: bool) -> None:
    """Fetch the listings and print their papers, merged across sources.

    \b
    Examples:
      digest fetch
      digest fetch --json --source https://rss.arxiv.org/rss/cs.CL | jq .title
    """
    settings = load_settings(config_path)
    today = pipeline.edition_for(settings, dt.datetime.now(dt.UTC))
    listing = pipeline.fetch(settings, _sources(sources), edition=today)
    for paper in listing.papers:
        click.echo(json.dumps(paper_to_dict(paper), ensure_ascii=False) if as_json else paper_line(paper))
    _report_sources(listing.reports)
    _exit_if_every_source_failed(listing.reports)


@main.command()
@click.argument("profile", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@common_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per selected paper, best first.")
@click.option(
    "--since",
    "since_days",
    type=click.IntRange(min=1),
    metavar="DAYS",
    help="Backtest: match every paper archived in the last DAYS days instead of fetching.",
)
@reports_errors
def match(
    profile: Path, config_path: Path, sources: tuple[str, ...], as_json: bool, since_days: int | None
) -> None:
    """Show which papers PROFILE selects from the listings, and why.

    With --since, match the papers archived over the last days instead: see
    at once what an edit of the profile would have selected.

    \b
    Examples:
      digest match config/profiles/example.yaml
      digest match config/profiles/example.yaml --json --source samples/arxiv-cs.CL+cs.LG.xml
      digest match config/profiles/example.yaml --since 7
    """
    if since_days and sources:
        raise click.UsageError("--since reads the archive; it cannot be combined with --source")
    since = dt.timedelta(days=since_days) if since_days else None
    matches, listing = pipeline.match(load_settings(config_path), profile, _sources(sources), since)
    for rank, found in enumerate(matches, 1):
        click.echo(json.dumps(match_json(found), ensure_ascii=False) if as_json else match_lines(rank, found))
    _report_sources(listing.reports)
    click.echo(f"{len(matches)} of {len(listing.papers)} papers selected", err=True)
    _exit_if_every_source_failed(listing.reports)


@main.command()
@click.argument("profile", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@common_options
@date_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("preview"),
    show_default=True,
    help="Folder for the preview files.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML preview in a browser.")
@reports_errors
def preview(
    profile: Path,
    config_path: Path,
    sources: tuple[str, ...],
    edition: dt.datetime | None,
    out_dir: Path,
    open_browser: bool,
) -> None:
    """Render PROFILE's digest to files without sending or recording anything.

    Writes NAME.html, NAME.txt and NAME.eml to --out, exactly as `digest run` would send them.

    \b
    Examples:
      digest preview config/profiles/example.yaml --out preview/
      digest preview config/profiles/example.yaml --source samples/arxiv-cs.CL+cs.LG.xml --open
    """
    result = pipeline.preview(load_settings(config_path), profile, out_dir, _sources(sources), _date(edition))
    _report_sources(result.listing.reports)
    digest = result.digest
    click.echo(
        f"{digest.matched} papers matched ({len(digest.matches)} shown) for {digest.recipient}",
        err=True,
    )
    for path in result.files:
        click.echo(str(path))
    if open_browser:
        webbrowser.open(result.files[0].resolve().as_uri())
    _exit_if_every_source_failed(result.listing.reports, "`digest run` would send nothing for this edition")


@main.command()
@click.option("--once", is_flag=True, help="Run one edition now and exit (for cron and timers).")
@common_options
@date_option
@click.option("--dry-run", is_flag=True, help="Match and render everything, send and record nothing.")
@click.option("--strict", is_flag=True, help="Exit 1 if any source, profile or message failed.")
@click.option(
    "--resend-uncertain", is_flag=True, help="Send again the messages a broken connection left uncertain."
)
@reports_errors
def run(
    once: bool,
    config_path: Path,
    sources: tuple[str, ...],
    edition: dt.datetime | None,
    dry_run: bool,
    strict: bool,
    resend_uncertain: bool,
) -> None:
    """Build one edition for every profile and deliver it (to the outbox by default).

    Each address gets each edition once: a ledger in the state database records
    every hand-over, so a rerun after a crash sends only what was not sent, and a
    message whose connection broke mid-way is reported as uncertain, not resent.
    Temporary SMTP refusals (4xx) are retried, then left for the next run.

    \b
    Examples:
      digest run --once
      digest run --once --dry-run --date 2026-11-16
      digest run --once --source samples/arxiv-cs.CL+cs.LG.xml --source samples/hf-daily-papers.json
    """
    if not once:
        raise click.UsageError("pass --once to run one edition now")
    settings = load_settings(config_path)
    with _progress_bar("Delivering") as progress:
        options = pipeline.RunOptions(_sources(sources), _date(edition), dry_run, resend_uncertain)
        report = pipeline.run_once(settings, options, progress=progress)
    _report_run(report)
    click.echo(summary_line(report, settings), err=True)
    _exit_if_every_source_failed(report.sources, "nothing was sent")
    # A transport that never came up is a configuration problem that will fail every day, and
    # a run stopped half-way (a full disk, a relay that does not answer) left people waiting:
    # a cron job must notice either even without --strict.
    stopped_early = report.tally.transport_error is not None and (
        report.tally.sent == 0 or report.tally.not_attempted > 0
    )
    if stopped_early or (strict and report.troubled):
        sys.exit(1)


def _report_run(report: pipeline.RunReport) -> None:
    """One line for everything that did not go to plan, with what to do about it."""
    for error in report.profile_errors:
        for problem in error.problems:
            print_error(f"{problem} (profile skipped)", problem.hint)
    _report_sources(report.sources)
    for duplicate in report.duplicates:
        print_warning(f"{duplicate}: mailed once, by the first profile")
    tally = report.tally
    for failure in tally.failed:
        print_error(f"not delivered: {failure}")
    for address in tally.newly_suppressed:
        print_warning(
            f"{address} is now suppressed after repeated permanent failures", "digest suppressions --clear"
        )
    for deferred in tally.deferred:
        print_warning(f"deferred to the next run: {deferred}")
    for uncertain in tally.uncertain:
        print_warning(
            f"uncertain, not resent: {uncertain}", "check the relay's log; --resend-uncertain sends it"
        )
    if tally.transport_error:
        print_error(
            f"{tally.not_attempted} message(s) left for the next run: {tally.transport_error}",
            tally.transport_hint,
        )


@main.command()
@config_option
@reports_errors
def check(config_path: Path) -> None:
    """Validate the configuration and every profile, reporting all problems at once.

    \b
    Examples:
      digest check
      digest check --config /etc/digest/digest.yaml
    """
    settings, problems = read_settings(config_path)
    paths = profile_paths(settings.profiles_dir)
    for path in paths:
        try:
            load_profile(path)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    if settings.templates_dir is not None:
        for template, reason in slow_paths(settings.title, settings.templates_dir):
            print_warning(f"{template}: fast path off: {reason}", "see the README's Templates section")
    click.echo(f"OK: {config_path} and {len(paths)} profile(s) in {settings.profiles_dir}")


@main.command("init-state")
@config_option
@reports_errors
def init_state(config_path: Path) -> None:
    """Create the state database where one was lost, keeping who unsubscribed.

    Runs refuse to start when the database is missing or empty but the state
    dir shows it existed (it would send every edition again). Restore it from a
    backup if you can; otherwise this starts a new one, with every unsubscribe
    read back from unsubscribes.jsonl beside it.

    \b
    Examples:
      digest init-state
      digest init-state --config /etc/digest/digest.yaml
    """
    settings = load_settings(config_path)
    created, restored = state.init_state(settings)
    path = state.database_path(settings)
    if created:
        click.echo(
            f"Created {path}; {restored} unsubscribe(s) kept from {path.parent / 'unsubscribes.jsonl'}."
        )
    else:
        click.echo(f"{path} already exists; nothing to do.")


def _sources(arguments: tuple[str, ...]) -> list[SourceConfig]:
    return [source_from_argument(a) for a in arguments]


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


def _report_sources(reports: Iterable[SourceReport]) -> None:
    for report in reports:
        if report.failed:
            print_error(f"source {report.name}: {report.error}", "the other sources went on")
            continue
        click.echo(source_line(report), err=True)
        for warning in report.warnings:
            click.secho(f"  warning: {warning}", fg="yellow", err=True)


def _exit_if_every_source_failed(reports: Sequence[SourceReport], consequence: str = "") -> None:
    if reports and all(r.failed for r in reports):
        print_error("every source failed" + (f"; {consequence}" if consequence else ""), "check the network")
        sys.exit(1)


@contextmanager
def _progress_bar(label: str) -> Iterator[pipeline.Progress | None]:
    """A progress bar on a terminal; nothing at all when output is piped or logged."""
    if not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
