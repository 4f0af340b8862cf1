"""`digest like` and `digest dislike`: a reader's votes, written into their profile by hand."""

from __future__ import annotations

from pathlib import Path

import click

from ..config.votes import OPPOSITE, Voted, vote
from ..errors import DigestError
from .main import config_option, main

NOT_WRITABLE = (
    "the profile was left as it was; make its folder writable by this user, or, where profiles "
    "are synced read-only (from git), vote in the repository instead"
)


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
        try:
            voted = vote(profile, key, ids)
        except OSError as exc:  # a full disk, a folder this user may not write, a read-only copy
            raise DigestError(f"{profile}: not saved: {exc.strerror or exc}", NOT_WRITABLE) from exc
        _report(profile, key, voted)


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
