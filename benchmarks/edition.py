"""A whole edition for N subscribers over P papers, beside the naive pipeline, in one process.

    python benchmarks/edition.py [--subscribers 10000] [--papers 2000] [--naive-sample 200]
                                 [--transport outbox|smtp]

It writes a site to a temporary folder (N profiles, a P-paper arXiv listing), then:
  * ours: `digest run --once` as the CLI runs it (profiles, fetch and parse, matching, render,
    inline, MIME, hand-over, ledger), timed per stage;
  * naive: for a sample of the same digests, Jinja render of the whole email, then
    premailer.transform, then an EmailMessage, per subscriber (what most mailers do).
Both are reported in ms per digest, with the ratio and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).parent))

from matching import FILLER, make_topics

from digest.config.profile_cache import CACHE_FILE
from digest.config.profiles import load_profiles
from digest.config.settings import load_settings
from digest.delivery.transports import Outbox
from digest.matching import PaperIndex, compile_profile, select_top
from digest.models import Digest
from digest.pipeline import run as pipeline
from digest.pipeline.composing import Composer
from digest.render import renderer as render
from digest.render.mime import build_message

EDITION = dt.date(2026, 11, 16)
T = TypeVar("T")


def write_listing(path: Path, count: int, topics: list[str], rng: random.Random) -> None:
    items = []
    for number in range(count):
        chosen = rng.sample(topics, 6)
        words = [rng.choice(FILLER) for _ in range(150)]
        for topic in chosen:
            words.insert(rng.randrange(len(words)), topic)
        for end in range(len(words) - 1, 0, -rng.randint(12, 28)):
            words[end] += "."
        authors = ", ".join(f"Author {rng.randrange(5000)}" for _ in range(rng.randint(1, 12)))
        items.append(
            f"<item><title>{chosen[0].title()} for {' '.join(rng.sample(FILLER, 4))}</title>"
            f"<link>https://arxiv.org/abs/2611.{number:05d}</link>"
            f"<description>arXiv:2611.{number:05d}v1 Announce Type: new \nAbstract: {' '.join(words)}"
            "</description>"
            f'<guid isPermaLink="false">oai:arXiv.org:2611.{number:05d}v1</guid>'
            f"<category>cs.CL</category><category>cs.LG</category>"
            f"<pubDate>Mon, 16 Nov 2026 00:00:00 -0500</pubDate>"
            f"<arxiv:announce_type>new</arxiv:announce_type><dc:creator>{authors}</dc:creator></item>"
        )
    path.write_text(
        '<?xml version="1.0"?><rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
        "<title>cs.CL updates on arXiv.org</title>" + "".join(items) + "</channel></rss>"
    )


def write_site(root: Path, subscribers: int, papers: int, transport: str, smtp_port: int) -> Path:
    rng = random.Random(11)
    topics = make_topics(3_000, rng)
    write_listing(root / "listing.xml", papers, topics, rng)
    profiles = root / "profiles"
    profiles.mkdir()
    for number in range(subscribers):
        keywords = ", ".join(rng.sample(topics, 8))
        (profiles / f"s{number:06}.yaml").write_text(
            f"email: s{number:06}@example.org\nkeywords: [{keywords}]\nexclude: [survey]\n"
        )
    delivery = (
        f"delivery: {{transport: smtp, smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none}}}}\n"
        if transport == "smtp"
        else ""
    )
    config = root / "digest.yaml"
    config.write_text(
        "site: {title: Bench Digest, sender: 'Bench <bench@example.org>', base_url: 'https://bench.example.org',"
        " secret: bench}\n"
        f"sources: [{{name: arxiv, url: {root / 'listing.xml'}}}]\n"
        + delivery
        + f"state_dir: {root / 'var'}\n"
    )
    return config


def timed(stages: dict[str, float], stage: str, work: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = work()
    stages[stage] = stages.get(stage, 0.0) + time.perf_counter() - started
    return result


def stages_of(config: Path, sample: int) -> dict[str, float]:
    """Each stage on its own, in this process; the per-digest ones on a sample, scaled to all."""
    settings = load_settings(config)
    stages: dict[str, float] = {}
    profiles, _ = timed(stages, "profiles", lambda: load_profiles(settings.profiles_dir))
    cache = settings.state_dir / CACHE_FILE  # written by the run: every profile unchanged since
    timed(stages, "profiles, cached", lambda: load_profiles(settings.profiles_dir, cache))
    listing = timed(stages, "fetch and parse", lambda: pipeline.fetch(settings, edition=EDITION))
    compiled = [compile_profile(p) for p in profiles]
    index = timed(stages, "matching: index", lambda: PaperIndex(listing.papers, compiled))
    picked = timed(stages, "matching: select", lambda: [
        (c, select_top(c, index, frozenset(), c.profile.max_papers)) for c in compiled
    ][:sample])  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    composer = Composer(settings, now)
    outbox = Outbox(config.parent / "stage-outbox", EDITION.isoformat())
    few = [(c, shown, ids) for c, (shown, ids) in picked if shown]
    for profile, shown, ids in few:
        digest = Digest(EDITION, profile.profile, profile.profile.emails[0], tuple(shown), 0, (), tuple(ids))
        links = composer.links(digest.recipient, EDITION)
        started = time.perf_counter()
        rendered = composer.renderer.render(digest, links)
        built = time.perf_counter()
        message = build_message(rendered, links, sender=settings.sender, list_title=settings.title, now=now)
        handed = time.perf_counter()
        outbox.send(message, digest.recipient)
        done = time.perf_counter()
        for stage, seconds in (
            ("render and inline", built - started),
            ("MIME", handed - built),
            ("hand-over", done - handed),
        ):
            stages[stage] = stages.get(stage, 0.0) + seconds
    scale = len(profiles) / max(len(few), 1)
    for stage in ("render and inline", "MIME", "hand-over"):
        stages[stage] *= scale
    return stages


def ours(config: Path) -> tuple[pipeline.RunReport, float]:
    """`digest run --once`, as the command runs it: workers on the other cores, the ledger, the outbox."""
    started = time.perf_counter()
    report = pipeline.run_once(load_settings(config), pipeline.RunOptions(edition=EDITION))
    return report, time.perf_counter() - started


def naive(config: Path, sample: int) -> float:
    """Per digest: Jinja render of the whole email, premailer.transform, EmailMessage."""
    settings = load_settings(config)
    profiles, _ = load_profiles(settings.profiles_dir)
    listing = pipeline.fetch(settings, edition=EDITION)
    compiled = [compile_profile(p) for p in profiles[:sample]]
    index = PaperIndex(listing.papers, compiled)
    renderer = render.Renderer(settings.title, fast_inline=False)
    links = render.Links("https://b/u", "https://b/m", "mailto:b@example.org", "https://b/w")
    digests = []
    for profile in compiled:
        shown, ids = select_top(profile, index, frozenset(), profile.profile.max_papers)
        if shown:
            digests.append(
                Digest(EDITION, profile.profile, profile.profile.emails[0], tuple(shown), 0, (), tuple(ids))
            )
    started = time.perf_counter()
    for digest in digests:
        renderer._views.clear()  # nothing carried from one subscriber to the next
        context = renderer._context(digest, links, {"intro": None, "footer": None}, render.ABSTRACT_CHARS)
        html = render.inline_styles(
            renderer._page(context)
        )  # Jinja render of the whole email, then premailer
        text = renderer.text_env.get_template(render.TEXT_TEMPLATE).render(
            {**context, "paper_text": renderer._paper_text}
        )
        message = EmailMessage()
        message["From"], message["To"] = settings.sender, digest.recipient
        message["Subject"] = render.subject_line(settings.title, digest)
        message.set_content(text, cte="quoted-printable")
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        message.as_bytes()
    return (time.perf_counter() - started) / max(len(digests), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=2_000)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--transport", choices=("outbox", "smtp"), default="outbox")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        relay = start_relay() if args.transport == "smtp" else None
        config = write_site(
            Path(folder), args.subscribers, args.papers, args.transport, relay.port if relay else 0
        )
        report, total = ours(config)  # first: its peak RSS is the run's alone
        run_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        naive_each = naive(config, args.naive_sample)
        stages = stages_of(config, args.naive_sample * 5)
        if relay:
            relay.stop()
    digests = report.tally.sent
    print(f"{args.subscribers} subscribers x {args.papers} papers, transport {args.transport}")
    print("  stages, one after another in one process (per-digest stages from a sample, scaled;")
    print("  a small sample overstates render, paying for per-paper blocks few digests share):")
    for stage, seconds in stages.items():
        print(f"    {stage:<20} {seconds:8.2f} s")
    print(f"  {'total (digest run)':<22} {total:8.2f} s   {digests} digests sent")
    ours_each = total / max(digests, 1)
    print(f"  ours   {ours_each * 1e3:8.3f} ms per digest, end to end")
    naive_note = "render, premailer, EmailMessage; no fetch, no delivery"
    print(f"  naive  {naive_each * 1e3:8.3f} ms per digest ({naive_note})")
    print(f"  ratio  {naive_each / ours_each:8.1f}x")
    # Workers are forked: most of their pages are the main process's, counted again in their RSS.
    shared = "largest worker, most pages shared with the main process"
    print(f"  peak RSS of the run {run_rss:.0f} MB (main process), {worker_rss:.0f} MB ({shared})")


class start_relay:
    """A loopback SMTP server that accepts and discards, for --transport smtp. It runs in a
    process of its own: as a thread here it would keep `digest run` from forking its workers."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"]
        self.process = subprocess.Popen([*command, "-l", f"127.0.0.1:{self.port}"])
        deadline = time.monotonic() + 30
        while True:  # listening once it accepts a connection
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


if __name__ == "__main__":
    main()
