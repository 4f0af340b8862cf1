"""`digest preview`: one profile's digest written to files exactly as a run would send it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config.profiles import load_profile
from ..delivery.transports import write_atomically
from ..matching import PaperIndex, compile_profile, select
from ..models import Digest, Listing, Settings, SourceConfig
from ..store.connection import state_unless_given
from .composing import Composer, make_digest
from .likes import arxiv_look_up, with_likes
from .run import edition_for, fetch
from .state import sent_papers


@dataclass(frozen=True)
class Preview:
    digest: Digest
    files: tuple[Path, ...]
    listing: Listing
    already_sent: int = 0  # matched papers left out because the address was sent them before
    like_warnings: tuple[str, ...] = ()  # liked ids that did not count, with their file and line


def preview(
    settings: Settings,
    profile_path: Path,
    out_dir: Path,
    chosen: Sequence[SourceConfig] = (),
    edition: dt.date | None = None,
    now: dt.datetime | None = None,
    include_sent: bool = False,
) -> Preview:
    """Write <name>.html, .txt and .eml exactly as `run` would send them; send and record nothing.

    `include_sent`: keep the papers the address was sent before, which a run leaves out."""
    now = now or dt.datetime.now(dt.UTC)
    edition = edition or edition_for(settings, now)
    profile = load_profile(profile_path)
    listing = fetch(settings, chosen, edition=edition)
    recipient = profile.emails[0]
    sent_before = sent_papers(settings, recipient)
    compiled, like_warnings = compile_profile(profile), []
    if profile.like:
        with state_unless_given(None, settings.state_dir, settings.secret, settings.state_url) as state:
            look_up = arxiv_look_up(settings, state)
            learned = with_likes(state.db, [compiled], listing, settings.state_dir, look_up)
            compiled, like_warnings = learned.profiles[0], learned.warnings
    index = PaperIndex(listing.papers, [compiled])
    left_out = frozenset() if include_sent else sent_before
    digest = make_digest(compiled, recipient, edition, index, listing, left_out)
    already_sent = sum(1 for m in select(compiled, index) if m.paper.id in left_out)
    rendered, message = Composer(settings, now).compose(digest)
    written = {
        out_dir / f"{profile.slug}.html": rendered.html.encode(),
        out_dir / f"{profile.slug}.txt": rendered.text.encode(),
        out_dir / f"{profile.slug}.eml": message.data,
    }
    for path, data in written.items():
        write_atomically(path, data)
    return Preview(rendered.digest, tuple(written), listing, already_sent, tuple(like_warnings))
