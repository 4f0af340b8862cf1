"""The edition commands: fetch, match, preview, run and check."""

from __future__ import annotations

import datetime as dt
import json
import sys
import webbrowser
from pathlib import Path

import click

from ..config.folders import folder_problems
from ..config.profiles import keyword_position, load_profile, profile_paths, shared_address_problems
from ..config.settings import load_settings, read_settings
from ..errors import ConfigError, Problem
from ..models import Profile, Settings, SourceConfig, paper_to_dict
from ..pipeline import preview as previews
from ..pipeline import run as pipeline
from ..pipeline import selection
from ..pipeline.short_keywords import short_keywords
from ..pipeline.vote_warnings import unarchived_votes
from ..render.fast_paths import slow_paths
from .arguments import source_from_argument
from .mail import dkim_problems, print_dkim_record
from .main import common_options, config_option, date_option, main
from .output import (
    exit_if_every_source_failed,
    match_json,
    match_lines,
    paper_line,
    print_excluded,
    print_warning,
    progress_bar,
    report_run,
    report_sources,
    source_progress,
    summary_line,
    table_header,
    table_width,
)


@main.command()
@common_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per paper per line.")
def fetch(config_path: Path, sources: tuple[str, ...], as_json: bool) -> None:
    """Fetch the listings and print their papers, merged across sources.

    \b
    Examples:
      digest fetch
      digest fetch --json --source https://rss.arxiv.org/rss/cs.CL | jq .title
    """
    settings = load_settings(config_path)
    today = pipeline.edition_for(settings, dt.datetime.now(dt.UTC))
    listing = pipeline.fetch(settings, _sources(sources), edition=today, on_report=source_progress())
    width = table_width()
    if not as_json and listing.papers:
        click.echo(table_header())
    for paper in listing.papers:
        click.echo(
            json.dumps(paper_to_dict(paper), ensure_ascii=False) if as_json else paper_line(paper, width)
        )
    report_sources(listing.reports)
    exit_if_every_source_failed(listing.reports)


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
@click.option("--show-excluded", is_flag=True, help="Also list the papers each exclude term dropped.")
def match(
    profile: Path,
    config_path: Path,
    sources: tuple[str, ...],
    as_json: bool,
    since_days: int | None,
    show_excluded: bool,
) -> None:
    """Show which papers PROFILE selects from the listings, and why.

    With --since, match the papers archived over the last days instead: see
    at once what an edit of the profile would have selected.

    \b
    Examples:
      digest match config/profiles/example.yaml
      digest match config/profiles/example.yaml --json --source samples/arxiv-cs.CL+cs.LG.xml
      digest match config/profiles/example.yaml --since 7
      digest match config/profiles/example.yaml --show-excluded
    """
    if since_days and sources:
        raise click.UsageError("--since reads the archive; it cannot be combined with --source")
    since = dt.timedelta(days=since_days) if since_days else None
    matched = selection.match(load_settings(config_path), profile, _sources(sources), since)
    matches, listing = matched.matches, matched.listing
    for rank, found in enumerate(matches, 1):
        click.echo(json.dumps(match_json(found), ensure_ascii=False) if as_json else match_lines(rank, found))
    if show_excluded:
        print_excluded(matched.excluded, as_json)
    for warning in matched.warnings:
        print_warning(warning)
    report_sources(listing.reports)
    click.echo(f"{len(matches)} of {len(listing.papers)} papers selected", err=True)
    exit_if_every_source_failed(listing.reports)


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
@click.option(
    "--include-sent", is_flag=True, help="Keep the papers already sent to the address (a run skips them)."
)
def preview(
    profile: Path,
    config_path: Path,
    sources: tuple[str, ...],
    edition: dt.date | None,
    out_dir: Path,
    open_browser: bool,
    include_sent: bool,
) -> None:
    """Render PROFILE's digest to files without sending or recording anything.

    Writes NAME.html, NAME.txt and NAME.eml to --out, exactly as `digest run` would send them.

    \b
    Examples:
      digest preview config/profiles/example.yaml --out preview/
      digest preview config/profiles/example.yaml --source samples/arxiv-cs.CL+cs.LG.xml --open
      digest preview config/profiles/example.yaml --include-sent
    """
    settings = load_settings(config_path)
    chosen, day = _sources(sources), edition
    result = previews.preview(settings, profile, out_dir, chosen, day, include_sent=include_sent)
    report_sources(result.listing.reports)
    for warning in result.like_warnings:
        print_warning(warning)
    digest = result.digest
    click.echo(
        f"{digest.matched} papers matched ({len(digest.matches)} shown) for {digest.recipient}",
        err=True,
    )
    if result.already_sent:
        print_warning(
            f"{_papers(result.already_sent)} already sent to {digest.recipient}: a run leaves them out",
            "--include-sent previews them anyway",
        )
    for path in result.files:
        click.echo(str(path))
    if open_browser:
        _open_in_browser(result.files[0])
    exit_if_every_source_failed(result.listing.reports, "`digest run` would send nothing for this edition")


@main.command()
@click.option("--once", is_flag=True, help="Accepted for older cron lines: a run is always one edition.")
@common_options
@date_option
@click.option("--dry-run", is_flag=True, help="Match and render everything, send and record nothing.")
@click.option("--strict", is_flag=True, help="Exit 1 if any source, profile or message failed.")
@click.option(
    "--resend-uncertain", is_flag=True, help="Send again the messages a broken connection left uncertain."
)
def run(
    once: bool,
    config_path: Path,
    sources: tuple[str, ...],
    edition: dt.date | None,
    dry_run: bool,
    strict: bool,
    resend_uncertain: bool,
) -> None:
    """Build one edition for every profile due on it and deliver it (to the outbox by default).

    Daily profiles are due every day; weekly ones on their weekday (default monday),
    with the papers of the past week.

    Each address gets each edition once: a ledger in the state database records
    every hand-over, so a rerun after a crash sends only what was not sent, and a
    message whose connection broke mid-way is reported as uncertain, not resent.
    Temporary SMTP refusals (4xx) are retried, then left for the next run.

    \b
    Examples:
      digest run
      digest run --dry-run --date 2026-11-16
      digest run --source samples/arxiv-cs.CL+cs.LG.xml --source samples/hf-daily-papers.json
    """
    settings = load_settings(config_path)
    with progress_bar("Delivering") as progress:
        options = pipeline.RunOptions(
            _sources(sources), edition, dry_run, resend_uncertain, on_source=source_progress()
        )
        report = pipeline.run_due(settings, options, progress=progress)
    report_run(report)
    click.echo(summary_line(report, settings), err=True)
    exit_if_every_source_failed(report.sources, "nothing was sent")
    # A transport that never came up is a configuration problem that will fail every day, and
    # a run stopped half-way (a full disk, a relay that does not answer) left people waiting:
    # a cron job must notice either even without --strict.
    stopped_early = report.tally.transport_error is not None and (
        report.tally.sent == 0 or report.tally.not_attempted > 0
    )
    if stopped_early or (strict and report.troubled):
        sys.exit(1)


@main.command()
@config_option
def check(config_path: Path) -> None:
    """Validate the configuration and every profile, reporting all problems at once.

    Also warns of what passes but hurts later: an unset variable only sending needs, a
    keyword so short it matches most of the archive, a liked or disliked paper the archive
    lacks (which a run looks up on arXiv, or cannot: a DOI). Check itself never goes online.

    \b
    Examples:
      digest check
      digest check --config /etc/digest/digest.yaml
    """
    settings, problems = read_settings(config_path)
    problems.extend(_unset_variable_problems(settings))
    problems.extend(folder_problems(settings))
    paths = profile_paths(settings.profiles_dir)
    profiles = []
    for path in paths:
        try:
            profiles.append(load_profile(path))
        except ConfigError as error:
            problems.extend(error.problems)
    problems.extend(shared_address_problems(profiles))
    problems.extend(dkim_problems(settings))
    if problems:
        raise ConfigError(problems)
    print_dkim_record(settings)
    _warn_of_short_keywords(settings, profiles)
    for warning in unarchived_votes(settings, profiles):
        print_warning(warning)
    if settings.templates_dir is not None:
        for template, reason in slow_paths(settings.title, settings.templates_dir):
            hint = 'see the README section "The email and its templates"'
            print_warning(f"{template}: fast path off: {reason}", hint)
    click.echo(f"OK: {config_path} and {len(paths)} profile(s) in {settings.profiles_dir}")


def _warn_of_short_keywords(settings: Settings, profiles: list[Profile]) -> None:
    for short in short_keywords(settings, profiles):
        keyword = short.profile.keywords[short.index]
        line, key = keyword_position(short.profile.path, short.index)
        where = f"{short.profile.path}:{line}: {key}" if line else f"{short.profile.path}: {key}"
        if short.share is None:
            what = f"'{keyword}' has one or two characters: it may match most papers"
            hint = "check measures it once the archive holds papers (after a fetch or run)"
        else:
            what = f"'{keyword}' matches {short.share:.0%} of the {short.archived} archived papers"
            hint = "write a longer keyword or a phrase, e.g. 'AI safety'"
        print_warning(f"{where}: {what}", hint)


def _unset_variable_problems(settings: Settings) -> list[Problem]:
    """Problems for unset variables this configuration sends with; a warning for the others."""
    problems = []
    for variable in settings.unset_variables:
        message = f"environment variable {variable.name} is not set"
        if settings.transport == "smtp":
            hint = f"export {variable.name}=… before sending"
            problems.append(Problem(settings.path, variable.line, variable.key, message, hint))
        else:
            print_warning(f"{message} ({variable.key}): needed only when delivery.transport is smtp")
    return problems


def _papers(count: int) -> str:
    return "1 matched paper was" if count == 1 else f"{count} matched papers were"


def _open_in_browser(page: Path) -> None:
    # webbrowser.open answers False when it found no browser to start (a server, a container).
    if not webbrowser.open(page.resolve().as_uri()):
        print_warning(f"no web browser found to open {page}", "open the file yourself, or set BROWSER")


def _sources(arguments: tuple[str, ...]) -> list[SourceConfig]:
    return [source_from_argument(a) for a in arguments]
