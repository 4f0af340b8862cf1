"""Whether an operator's templates keep the fast paths on, found by rendering a sample digest.

An edition makes each paper block once and fills in only what differs between readers (see the
README's templates section). A template that does more with those values than print them turns
that off for the whole edition: every email then costs several times more, and only a log line
said so. `digest check` reports it ahead of time, naming the template and the reason.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..models import Digest, Links, Match, Paper, Profile, Reason, Span
from .renderer import Renderer

_TITLE = "Scaling data selection for language model pretraining"
_ABSTRACT = "We study pretraining data selection. " * 30


def slow_paths(site_title: str, templates_dir: Path) -> list[tuple[Path, str]]:
    """(template file, why its fast path is off) for every fast path the templates turn off."""
    renderer = Renderer(site_title, templates_dir)
    for reader in ("a@example.org", "b@example.org"):  # the second reader reuses the first's blocks
        renderer.render(_sample(reader), _links(reader))
    return [(_where(templates_dir, name), reason) for name, reason in sorted(renderer.slow_paths.items())]


def _sample(reader: str) -> Digest:
    profile = Profile("sample.yaml", emails=(reader,), keywords=("pretraining",))
    start = _TITLE.index("pretraining")
    reason = Reason("keyword", "pretraining", "title", (Span(start, start + len("pretraining")),))
    papers = [
        Paper(f"2601.0000{n}", _TITLE, _ABSTRACT, ("A. Author", "B. Author"), f"https://arxiv.org/abs/2601.0000{n}",
              categories=("cs.CL",), upvotes=n)
        for n in range(1, 4)
    ]  # fmt: skip
    matches = tuple(Match(paper, 1.0, (reason,)) for paper in papers)
    return Digest(dt.date(2026, 1, 5), profile, reader, matches)


def _links(reader: str) -> Links:
    base = "https://digest.example.org"
    votes = {f"2601.0000{n}": f"{base}/feedback/{reader}/{n}" for n in range(1, 4)}
    mailto, web = "mailto:x@example.org", f"{base}/web"
    return Links(f"{base}/unsubscribe/{reader}", f"{base}/manage/{reader}", mailto, web, votes=votes)


def _where(templates_dir: Path, name: str) -> Path:
    """The operator's copy of a template when there is one; the shipped one otherwise."""
    own = templates_dir / name
    return own if own.is_file() else Path(name)
