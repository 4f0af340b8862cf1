"""Composing an edition's messages: here, or ahead in worker processes on the other cores.

Rendering is most of the work of an edition and needs nothing but the papers and a profile,
so on a machine with several cores worker processes render the next messages while this one
hands earlier ones over. Only this process touches the ledger and the transport, in the
recipients' order, so the exactly-once bookkeeping is the same either way.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from urllib.parse import quote

from ..delivery.return_path import with_return_path
from ..matching import CompiledProfile, PaperIndex, select_top_with_reasons, select_trending
from ..models import (
    Compose,
    Digest,
    Job,
    Links,
    Listing,
    Match,
    Outgoing,
    RenderedDigest,
    Settings,
    Todo,
    Uncomposed,
)
from ..render.mime import build_message, mailbox_of
from ..render.renderer import Renderer
from ..store import EditionArchive, EncodedMatches, Ledger, encode_matches
from ..tokens import MANAGE_LINK_LIFETIME, sign, sign_each, site_secret
from .workers import can_fork, cores, fork_pool

MIN_PARALLEL = 100  # fewer messages than this are not worth starting processes for
TASK = 8  # messages a worker composes per request: fewer round trips between the processes
LOOKAHEAD = 6  # tasks composed ahead of the hand-over: the workers stay busy, memory stays flat
REMEMBER_BATCH = 16  # fewer than LOOKAHEAD * TASK, so the workers go on while a batch is recorded
# A message (None: nothing matched, Uncomposed: it failed), and every paper it matched with its
# reasons, encoded for the edition archive (None without a message).
Composed = tuple[Job | Uncomposed | None, EncodedMatches | None]
Stage = Callable[[Outgoing, str], Outgoing]  # a message for a recipient, written ahead (Outbox.stage)


class Composer:
    """What every digest of one edition is composed with; shared by preview and run so both match."""

    def __init__(
        self, settings: Settings, now: dt.datetime, sign: Callable[[Outgoing], Outgoing] | None = None
    ) -> None:
        self.settings = settings
        self.now = now
        # DKIM signs the final bytes; done here, it runs in the compose workers, on every core,
        # not in the one process that hands the messages over.
        self.sign = sign
        # An edition is composed with the templates as they were when it began.
        self.renderer = Renderer(settings.title, settings.templates_dir, reload_templates=False)
        self.secret = site_secret(settings.secret, settings.state_dir)
        self.encoded: dict[str, tuple[int, int, bytes]] = {}  # paper blocks' MIME encodings, for reuse

    def compose(self, digest: Digest) -> tuple[RenderedDigest, Outgoing]:
        """The rendered digest and its MIME message."""
        settings = self.settings
        links = self.links(digest.recipient, digest.edition, digest.matches + digest.trending)
        rendered = self.renderer.render(digest, links, settings.intro, settings.footer)
        sender, title = settings.sender, settings.title
        message = build_message(
            rendered, links, sender=sender, list_title=title, now=self.now, encoded=self.encoded
        )
        # The envelope sender names the recipient and edition (VERP), so a bounce says whom it is about.
        message = with_return_path(
            message, settings.return_path, self.secret, digest.recipient, digest.edition
        )
        return rendered, message if self.sign is None else self.sign(message)

    def links(self, address: str, edition: dt.date, matches: Sequence[Match] = ()) -> Links:
        return digest_links(self.settings, self.secret, address, edition, self.now, matches)


def digest_links(
    settings: Settings, secret: str, address: str, edition: dt.date, now: dt.datetime,
    matches: Sequence[Match] = (),
) -> Links:  # fmt: skip
    """The links one digest (or its web page) carries, signed for `address`, with a vote page
    for each of the `matches`.

    Issued now, so a subscriber who asks for new links retires these; manage and vote links
    expire (every digest brings fresh ones), unsubscribe, feed and archive links do not."""
    unsubscribe = sign(secret, "unsubscribe", address, issued=now)
    view = sign(secret, f"view:{edition.isoformat()}", address, issued=now)
    manage = sign(secret, "manage", address, now + MANAGE_LINK_LIFETIME, issued=now)
    base, mailbox = settings.base_url, mailbox_of(settings.sender)
    return Links(
        unsubscribe=f"{base}/unsubscribe/{unsubscribe}",
        manage=f"{base}/manage/{manage}",
        unsubscribe_mailto=f"mailto:{mailbox}?subject={quote('unsubscribe ' + unsubscribe)}",
        web=f"{base}/digest/{edition.isoformat()}/{view}",
        feed=feed_url(base, sign(secret, "feed", address, issued=now)),
        archive=f"{base}/archive/{sign(secret, 'archive', address, issued=now)}",
        votes=vote_links(base, secret, address, [m.paper.id for m in matches], now),
    )


def feed_url(base: str, token: str) -> str:
    return f"{base}/feed/{token}.atom"


def vote_links(
    base: str, secret: str, address: str, paper_ids: Sequence[str], now: dt.datetime
) -> dict[str, str]:
    """The pages where `address` likes or dislikes each paper; they expire like a manage link."""
    tokens = sign_each(secret, "vote", address, paper_ids, now + MANAGE_LINK_LIFETIME, now)
    return {paper_id: f"{base}/feedback/{token}" for paper_id, token in zip(paper_ids, tokens, strict=True)}


def make_digest(
    compiled: CompiledProfile, recipient: str, edition: dt.date, papers: PaperIndex, listing: Listing,
    already_sent: frozenset[str],
) -> Digest:  # fmt: skip
    shown, matched = select_top_with_reasons(compiled, papers, already_sent, compiled.profile.max_papers)
    more = len(matched) - len(shown)
    trending = select_trending(compiled, papers, already_sent, (i for i, _ in matched))
    return Digest(
        edition, compiled.profile, recipient, tuple(shown), more, listing.troubled_sources,
        matched_ids=tuple(i for i, _ in matched), matched_reasons=tuple(r for _, r in matched),
        trending=tuple(trending),
    )  # fmt: skip


@dataclass
class Composition:
    """Everything composing one recipient's message needs; worker processes inherit it."""

    # Recipient number → profile and address: two lists, not a list of pairs, for a pair is
    # 64 bytes more a recipient (6 MB at 100,000) in the sending process and every worker.
    profiles: list[CompiledProfile]
    addresses: list[str]
    index: PaperIndex
    listing: Listing
    edition: dt.date
    composer: Composer

    def job(self, number: int, address: str, sent_before: frozenset[str]) -> Composed:
        """The message for one recipient, and every paper it matched (for the web view).

        Whatever goes wrong for one recipient (an operator's template, an odd profile) stops
        only their message: one bad input must not stop an edition for everyone.
        """
        try:
            return self._job(number, address, sent_before)
        except Exception as exc:  # reported per recipient, with its type
            return Uncomposed(address, f"{type(exc).__name__}: {exc}"), None

    def _job(self, number: int, address: str, sent_before: frozenset[str]) -> Composed:
        digest = make_digest(
            self.profiles[number], address, self.edition, self.index, self.listing, sent_before
        )
        if not digest.matches:  # trending papers come beside matched ones, never alone
            return None, None
        rendered, message = self.composer.compose(digest)
        # Only what the email showed counts as sent; papers past the size budget come again.
        shown = rendered.digest.matches + rendered.digest.trending
        matched = zip(digest.matched_ids, digest.matched_reasons, strict=True)
        trending = ((m.paper.id, m.reasons) for m in digest.trending)
        job = Job(address, message, tuple(m.paper.id for m in shown))
        return job, encode_matches(itertools.chain(matched, trending))


def composer_for(
    composition: Composition, ledger: Ledger, archive: EditionArchive | None, parallel: bool = True,
    stage: Stage | None = None,
) -> Compose:  # fmt: skip
    """How this run composes: in worker processes where it pays and is safe, else here.
    Each composed edition is remembered in `archive` (for its web page), unless it is None.
    `stage`: the transport's way to take a message ahead, in the worker that composed it."""
    workers = cores()

    def compose(todo: Todo) -> Iterator[Job | Uncomposed | None]:
        results: Iterator[tuple[tuple[int, str], Composed]]
        if parallel and workers > 1 and len(todo) >= MIN_PARALLEL and can_fork():
            results = _in_workers(composition, ledger, iter(todo), workers, stage)
        else:
            results = ((pair, composition.job(*pair, ledger.sent_paper_ids(pair[1]))) for pair in todo)
        # Each edition is remembered before it is handed over, a batch at a time: one commit for many.
        # todo is taken once, lazily: its recipients may be claimed from the ledger as it goes.
        while batch := list(itertools.islice(results, REMEMBER_BATCH)):
            if archive is not None:
                edition = composition.edition.isoformat()
                archive.remember(
                    (address, edition, matched)
                    for (_, address), (job, matched) in batch
                    if isinstance(job, Job) and matched is not None
                )
            yield from (job for _, (job, _) in batch)

    return compose


_INHERITED: tuple[Composition, Stage | None] | None = None  # set just before the workers are forked


def _work(tasks: list[tuple[int, str, frozenset[str]]]) -> list[Composed]:
    assert _INHERITED is not None, "workers are forked from a process that set the composition"
    composition, stage = _INHERITED
    composed = [composition.job(*task) for task in tasks]
    if stage is None:
        return composed
    # Staged here, a message's bytes need not cross to the sending process (a third of its work).
    return [
        (replace(job, message=stage(job.message, job.address)) if isinstance(job, Job) else job, matched)
        for job, matched in composed
    ]


def _in_workers(
    composition: Composition, ledger: Ledger, todo: Iterator[tuple[int, str]], workers: int,
    stage: Stage | None,
) -> Iterator[tuple[tuple[int, str], Composed]]:  # fmt: skip
    """(recipient, result) in order, at most LOOKAHEAD tasks composed before they are taken."""
    global _INHERITED
    _INHERITED = composition, stage
    tasks = iter(lambda: list(itertools.islice(todo, TASK)), [])
    # The first task is composed here, before the workers are forked: they inherit what it taught
    # the renderer (premailer's answer for each kind of element, the check of the first email
    # against premailer), which each worker would otherwise learn again on its own.
    first = next(tasks, [])
    warmed = [(pair, composition.job(*pair, ledger.sent_paper_ids(pair[1]))) for pair in first]
    pending: deque[tuple[list[tuple[int, str]], Future[list[Composed]]]] = deque()
    with fork_pool(workers, "composing") as pool:

        def submit(task: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], Future[list[Composed]]]:
            work = [(n, address, ledger.sent_paper_ids(address)) for n, address in task]
            return task, pool.submit(_work, work)

        try:
            pending.extend(submit(task) for task in itertools.islice(tasks, LOOKAHEAD))
            yield from warmed
            while pending:
                task, future = pending.popleft()
                results = future.result()
                pending.extend(submit(task) for task in itertools.islice(tasks, 1))
                yield from zip(task, results, strict=True)
        finally:
            for _, future in pending:
                future.cancel()  # a stop or a dead transport: what was not taken is not needed
