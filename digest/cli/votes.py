"""`digest like` and `digest dislike`: a reader's votes, written into their profile by hand."""

from __future__ import annotations

from pathlib import Path

import click

from ..config.votes import OPPOSITE, Voted, vote
from .main import config_option, main


def _vote_command(key: str, what: str, example_ids: str) -> None:
    @main.command(
        name=key,
        help=f"""Add papers to PROFILE's {key}: list ("{what}").

    IDs are arXiv ids (with or without version, an arXiv: prefix, or an abs or pdf URL) or
    DOIs. The profile keeps its comments. A paper already there stays once; a paper in the
    {OPPOSITE[key]}: list moves over.

    \b
    Example:
      digest {key} config/profiles/example.yaml {example_ids}
    """,
    )
    @click.argument("profile", type=click.Path(path_type=Path, exists=True, dir_okay=False))
    @click.argument("ids", nargs=-1, required=True, metavar="ID...")
    @config_option
    def command(profile: Path, ids: tuple[str, ...], config_path: Path) -> None:
        _report(profile, key, vote(profile, key, ids))


def _report(profile: Path, key: str, voted: Voted) -> None:
    moved = set(voted.moved)
    for paper_id in voted.added:
        where = f" (moved from {OPPOSITE[key]})" if paper_id in moved else ""
        click.echo(f"{key}: added {paper_id}{where}")
    for paper_id in voted.unchanged:
        click.echo(f"{key}: {paper_id} was already there")
    changed = "saved" if voted.added else "unchanged"
    click.echo(f"{profile}: {changed}", err=True)


_vote_command("like", "more like these", "2406.10670 arXiv:2305.10429v2")
_vote_command("dislike", "less like these", "https://arxiv.org/abs/2401.00001")
