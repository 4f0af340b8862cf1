"""A whole edition for N subscribers over P papers, every path side by side, in one run.

    python benchmarks/edition.py [--subscribers 10000] [--papers 2000] [--repeat 3]
                                 [--naive-sample 200]

It writes a site to a temporary folder (N profiles, a P-paper arXiv listing), then, repeated
and interleaved (each round in another order, each run on a state of its own):
  * run:    `digest run --once` as cron runs it, a process of its own (imports, profiles, fetch
            and parse, matching, render, inline, MIME, hand-over, ledger), to the outbox;
  * serve:  the same edition sent by `digest serve`'s scheduler (a tick at the slot's send time:
            the edition goes to a process of its own, which forks its compose workers);
  * smtp:   `digest run --once` over SMTP to a sink that answers 250 to everything (smtp_sink.py, in a
            process of its own), `delivery.connections` connections, pipelined;
  * naive:  for a sample of the same digests, Jinja render of the whole email, then
            premailer.transform, then an EmailMessage, per subscriber (what most mailers do);
  * lean:   a lean naive pipeline: one Jinja render of a small template, premailer.transform,
            EmailMessage, write the file, per subscriber;
  * inproc: (only with --paths) the scheduled edition in the service's own process, as before
            editions had a process of their own: composed on one core.
  * dkim:   (only with --paths) `digest run --once` as `run`, every message DKIM-signed (a
            2048-bit key openssl makes).
  * pg:     (only with --state postgresql://…/DB) `digest run --once` as `run`, its state in a new
            database on that PostgreSQL server (one per round, created through the given one).
  * pg1, pg2, pg3: (only with --state) 1, 2 or 3 `digest run --once` started together on one
            edition, one PostgreSQL state, each with a state dir of its own (as on machines of
            their own), to the SMTP sink as `smtp` is: they share the edition by claiming its
            recipients. Their ms per digest is the wall time of all of them over the digests sent.
Each is reported in ms per digest (median and range over the rounds), with the ratios, the
stages of one run in one process, and the peak RSS. The floor line is what a run spends per
digest whatever renders it (from the stages: the listing fetched, parsed and indexed, then each
digest matched, its links signed and its file written, on the cores there are), beside what 10x
the lean pipeline asks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import random
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).parent))

import jinja2
import premailer
from matching import FILLER, make_topics

from digest.config.profile_cache import CACHE_FILE
from digest.config.profiles import load_profiles
from digest.config.settings import load_settings
from digest.delivery.transports import Outbox
from digest.matching import PaperIndex, compile_profile, select_top
from digest.models import Digest
from digest.pipeline import run as pipeline
from digest.pipeline.composing import Composer
from digest.pipeline.workers import cores
from digest.render import renderer as render
from digest.render.mime import build_message
from digest.serve.edition_process import warm_up
from digest.serve.scheduler import Service

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


def write_site(root: Path, subscribers: int, papers: int) -> None:
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


def write_config(
    root: Path, name: str, smtp_port: int = 0, state_url: str | None = None, dkim_key: Path | None = None
) -> Path:
    """A config of the site with a state of its own (`name`): every run sends the whole edition."""
    delivery = (
        f"delivery: {{transport: smtp, smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none}}}}\n"
        if smtp_port
        else ""
    )
    if dkim_key is not None:  # to the outbox, every message signed
        delivery = f"delivery: {{dkim: {{selector: d1, domain: example.org, key_file: {dkim_key}}}}}\n"
    config = root / f"{name}.yaml"
    config.write_text(
        "site: {title: Bench Digest, sender: 'Bench <bench@example.org>', base_url: 'https://bench.example.org',"
        " secret: bench}\n"
        f"sources: [{{name: arxiv, url: {root / 'listing.xml'}}}]\n"
        + delivery
        + f"state_dir: {root / name}\nprofiles_dir: {root / 'profiles'}\n"
        + "schedule: {send_at: '07:00', weekdays_only: false}\n"
        + (f"state_url: {state_url}\n" if state_url else "")
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
    cache = settings.state_dir / CACHE_FILE
    load_profiles(settings.profiles_dir, cache)  # the cache a run leaves: every profile unchanged since
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
        signing = time.perf_counter()
        links = composer.links(digest.recipient, EDITION, shown)
        started = time.perf_counter()
        rendered = composer.renderer.render(digest, links)
        built = time.perf_counter()
        message = build_message(rendered, links, sender=settings.sender, list_title=settings.title, now=now)
        handed = time.perf_counter()
        outbox.send(message, digest.recipient)
        done = time.perf_counter()
        for stage, seconds in (
            ("links", started - signing),
            ("render and inline", built - started),
            ("MIME", handed - built),
            ("hand-over", done - handed),
        ):
            stages[stage] = stages.get(stage, 0.0) + seconds
    scale = len(profiles) / max(len(few), 1)
    for stage in ("links", "render and inline", "MIME", "hand-over"):
        stages[stage] *= scale
    return stages


def ours(config: Path) -> tuple[int, float]:
    """`digest run --once` as cron runs it: a new process (imports included), compose workers on
    the other cores, the ledger, the outbox or the SMTP server. It starts with the profile cache a
    site has after its first run, as the serve path does. (Digests sent, seconds.)"""
    settings = load_settings(config)
    load_profiles(settings.profiles_dir, settings.state_dir / CACHE_FILE)
    command = [sys.executable, "-m", "digest", "run", "--once", "--config", str(config)]
    started = time.perf_counter()
    subprocess.run([*command, "--date", EDITION.isoformat()], check=True, capture_output=True)
    return sent_in(settings.state_dir, settings.state_url), time.perf_counter() - started


def together(configs: list[Path]) -> tuple[int, float]:
    """Several `digest run --once` on one edition at once, each its own process: a sender each.
    (Digests sent by all of them, seconds from the first start to the last end.)"""
    settings = [load_settings(config) for config in configs]
    for each in settings:
        load_profiles(each.profiles_dir, each.state_dir / CACHE_FILE)
    command = [sys.executable, "-m", "digest", "run", "--once", "--date", EDITION.isoformat(), "--config"]
    started = time.perf_counter()
    senders = [subprocess.Popen([*command, str(config)], stderr=subprocess.DEVNULL) for config in configs]
    assert [sender.wait() for sender in senders] == [0] * len(senders)
    return sent_in(settings[0].state_dir, settings[0].state_url), time.perf_counter() - started


def sent_in(state_dir: Path, state_url: str | None = None) -> int:
    query = "SELECT COUNT(*) FROM deliveries WHERE state = 'sent'"
    if state_url:
        import psycopg

        with psycopg.connect(state_url) as server:
            return int(server.execute(query).fetchone()[0])  # type: ignore[index]
    with sqlite3.connect(state_dir / "digest.sqlite3") as db:
        return int(db.execute(query).fetchone()[0])


STATE_URL: str | None = None  # --state: the PostgreSQL server of the pg path


def new_database(name: str) -> str:
    """A new, empty database on the --state server, and its URL."""
    import psycopg

    assert STATE_URL, "the pg path needs --state postgresql://…"
    with psycopg.connect(STATE_URL, autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {name}")
        server.execute(f"CREATE DATABASE {name}")
    return STATE_URL.rsplit("/", 1)[0] + "/" + name


def served_in_process(config: Path) -> tuple[int, float]:
    """The edition as `digest serve` sent it before editions had a process of their own: in the
    service's process, whose other threads (here one that waits, as the web server's do) keep it
    from forking compose workers. (Digests sent, seconds.)"""
    service = Service(load_settings(config), in_child=False)
    due = dt.datetime.combine(EDITION, dt.time(7, 0, 5), tzinfo=dt.UTC)
    assert service.tick(due - dt.timedelta(minutes=1)) == []
    waiting = threading.Event()
    thread = threading.Thread(target=waiting.wait)
    thread.start()
    try:
        started = time.perf_counter()
        reports = service.tick(due)
        return sum(r.tally.sent for r in reports), time.perf_counter() - started
    finally:
        waiting.set()
        thread.join()


def served(config: Path) -> tuple[int, float]:
    """The edition as `digest serve` sends it: the scheduler's tick at the slot's send time (07:00
    UTC) hands it to a process of its own. A tick a minute before, with nothing due, is the
    running service's (it reads the profiles, leaving the profile cache as a service has it).
    (Digests sent, seconds.)"""
    service = Service(load_settings(config), in_child=True)
    due = dt.datetime.combine(EDITION, dt.time(7, 0, 5), tzinfo=dt.UTC)
    assert service.tick(due - dt.timedelta(minutes=1)) == []
    started = time.perf_counter()
    reports = service.tick(due)
    return sum(r.tally.sent for r in reports), time.perf_counter() - started


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
            {**context, "paper_text": functools.partial(renderer._paper_text, votes=links.votes)}
        )
        message = EmailMessage()
        message["From"], message["To"] = settings.sender, digest.recipient
        message["Subject"] = render.subject_line(settings.title, digest)
        message.set_content(text, cte="quoted-printable")
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        message.as_bytes()
    return (time.perf_counter() - started) / max(len(digests), 1)


LEAN_TEMPLATE = """<html><head><style>
body { font-family: sans-serif; color: #222; } h2 { font-size: 16px; } .authors { color: #555; }
a { color: #0645ad; } .abstract { font-size: 14px; line-height: 1.4; }
</style></head><body><h1>{{ title }}</h1>
{% for m in matches %}<h2><a href="{{ m.paper.url }}">{{ m.paper.title }}</a></h2>
<p class="authors">{{ m.paper.authors | join(", ") }}</p><p class="abstract">{{ m.paper.abstract }}</p>
{% endfor %}<p><a href="{{ unsubscribe }}">Unsubscribe</a></p></body></html>"""


def lean_naive(config: Path, sample: int, out: Path) -> float:
    """Per digest: one Jinja render of a small template, premailer.transform, EmailMessage, write."""
    settings = load_settings(config)
    profiles, _ = load_profiles(settings.profiles_dir)
    listing = pipeline.fetch(settings, edition=EDITION)
    compiled = [compile_profile(p) for p in profiles[:sample]]
    index = PaperIndex(listing.papers, compiled)
    picked = [(c, select_top(c, index, frozenset(), c.profile.max_papers)[0]) for c in compiled]
    template = jinja2.Environment(autoescape=True).from_string(LEAN_TEMPLATE)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for profile, shown in picked:
        address = profile.profile.emails[0]
        html = template.render(title=settings.title, matches=shown, unsubscribe="https://b/u")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = settings.sender, address, settings.title
        message.set_content(premailer.transform(html, allow_network=False), subtype="html")
        (out / f"{address}.eml").write_bytes(message.as_bytes())
    return (time.perf_counter() - started) / max(len(picked), 1)


PATHS = ("run", "serve", "smtp", "naive", "lean")  # and "inproc" and "dkim", on request (--paths)


def one(path: str, root: Path, number: int, sink_port: int, sample: int) -> float:
    """Seconds per digest of one path, on a state of its own."""
    if path in SENDERS:
        return several(path, root, number, sink_port)
    state_url = new_database(f"bench_{number}") if path == "pg" else None
    key = dkim_key(root) if path == "dkim" else None
    config = write_config(root, f"{path}-{number}", sink_port if path == "smtp" else 0, state_url, key)
    if path == "naive":
        return naive(config, sample)
    if path == "lean":
        return lean_naive(config, sample, root / f"lean-{number}")
    sent, seconds = {"serve": served, "inproc": served_in_process}.get(path, ours)(config)  # pg: ours
    print(f"  round {number + 1} {path:<6} {seconds:7.2f} s  {sent} sent", flush=True)
    return seconds / max(sent, 1)


def dkim_key(root: Path) -> Path:
    """A 2048-bit RSA key for the dkim path, made by openssl once per benchmark."""
    key = root / "dkim.pem"
    if not key.exists():
        command = [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            str(key),
        ]
        subprocess.run(command, check=True, capture_output=True)
    return key


SENDERS = {"pg1": 1, "pg2": 2, "pg3": 3}  # senders sharing one edition on a PostgreSQL state


def several(path: str, root: Path, number: int, sink_port: int) -> float:
    """Seconds per digest of SENDERS[path] senders on one edition, over SMTP to the sink."""
    state_url = new_database(f"bench_{path}_{number}")
    configs = [write_config(root, f"{path}-{number}-{k}", sink_port, state_url) for k in range(SENDERS[path])]
    sent, seconds = together(configs)
    print(f"  round {number + 1} {path:<6} {seconds:7.2f} s  {sent} sent", flush=True)
    return seconds / max(sent, 1)


def rounds(
    root: Path, repeat: int, sink_port: int, sample: int, paths: tuple[str, ...] = PATHS
) -> dict[str, list[float]]:
    """Seconds per digest of each path, round after round, each round in another order."""
    each: dict[str, list[float]] = {path: [] for path in paths}
    for number in range(repeat):
        order = paths[number % len(paths) :] + paths[: number % len(paths)]
        for path in order:
            each[path].append(one(path, root, number, sink_port, sample))
    return each


FLOOR = f"before any rendering: fetch, parse, index; then match, sign, write on {cores()} cores"


def floor(stages: dict[str, float], subscribers: int) -> float:
    """Seconds per digest that a run spends whatever renders its digests: the listing fetched,
    parsed and indexed before any digest is composed, then every digest's matching, its links
    signed and its file written, shared out over the cores."""
    start = stages["fetch and parse"] + stages["matching: index"]
    each = stages["matching: select"] + stages["links"] + stages["hand-over"]
    return (start + each / cores()) / subscribers


def spread(values: list[float]) -> str:
    ms = [v * 1e3 for v in values]
    return f"{statistics.median(ms):7.3f} ms per digest (range {min(ms):.3f}-{max(ms):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=2_000)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--paths",
        default=",".join(PATHS),
        help="some of " + ", ".join((*PATHS, "inproc", "dkim", "pg", *SENDERS)),
    )
    parser.add_argument(
        "--state", metavar="URL", help="a PostgreSQL server for the pg path: postgresql://…/DB"
    )
    args = parser.parse_args()
    global STATE_URL
    STATE_URL = args.state
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_site(root, args.subscribers, args.papers)
        sink = start_sink()
        try:
            print(f"{args.subscribers} subscribers x {args.papers} papers, {args.repeat} rounds")
            warm_up()  # as `digest serve` does when it starts: its fork server, ready for every edition
            each = rounds(root, args.repeat, sink.port, args.naive_sample, tuple(args.paths.split(",")))
        finally:
            sink.stop()
        run_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        stages = stages_of(write_config(root, "stages"), args.naive_sample * 5)
    print("  stages, one after another in one process (per-digest stages from a sample, scaled;")
    print("  a small sample overstates render, paying for per-paper blocks few digests share):")
    for stage, seconds in stages.items():
        print(f"    {stage:<20} {seconds:8.2f} s")
    notes = {
        "run": "digest run --once to the outbox, end to end",
        "serve": "a scheduled edition of digest serve, to the outbox",
        "smtp": "digest run --once to the 250 sink, pipelined connections",
        "naive": "render, premailer, EmailMessage; no fetch, no delivery",
        "lean": "small template, premailer, EmailMessage, write; no fetch",
        "inproc": "a scheduled edition in the service's process, as before: one core",
        "pg": "digest run --once to the outbox, its state on PostgreSQL",
        "dkim": "digest run --once to the outbox, every message DKIM-signed",
        **{path: f"{n} digest run --once, one PostgreSQL state, 250 sink" for path, n in SENDERS.items()},
    }
    for path in each:
        print(f"  {path:<6} {spread(each[path])}  {notes[path]}")
    print(f"  floor  {floor(stages, args.subscribers) * 1e3:7.3f} ms per digest  {FLOOR}")
    if each.get("lean"):
        asked = statistics.median(each["lean"]) * 1e2  # a tenth, in ms
        print(f"  lean / 10 {asked:4.3f} ms per digest  what 10x the lean pipeline asks")
    median = {path: statistics.median(each[path]) for path in each}
    if "run" in median:
        for path, ratio in (("lean", "lean / run"), ("naive", "naive / run"), ("dkim", "dkim / run")):
            if path in median:
                print(f"  {ratio:<12} {median[path] / median['run']:6.1f}x")
        for path, ratio in (
            ("serve", "serve / run"),
            ("smtp", "smtp / run"),
            ("inproc", "inproc / run"),
            ("pg", "pg / run"),
        ):
            if path in median:
                print(
                    f"  {ratio:<12} {median[path] / median['run']:6.2f}  (per round: "
                    + ", ".join(f"{a / b:.2f}" for a, b in zip(each[path], each["run"], strict=True))
                    + ")"
                )
    if "smtp" in median:  # several senders against one over SMTP with a SQLite state
        for path in (p for p in SENDERS if p in median):
            print(
                f"  {path + ' / smtp':<12} {median[path] / median['smtp']:6.2f}  (per round: "
                + ", ".join(f"{a / b:.2f}" for a, b in zip(each[path], each["smtp"], strict=True))
                + ")"
            )
    # Workers are forked: most of their pages are the main process's, counted again in their RSS.
    shared = "largest child: an edition process or a worker, most pages shared"
    print(f"  peak RSS {run_rss:.0f} MB (this process), {worker_rss:.0f} MB ({shared})")


class start_sink:
    """The SMTP sink (smtp_sink.py) in a process of its own: as a thread here it would keep
    `digest run` from forking its workers, and share this process's GIL."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        sink = Path(__file__).with_name("smtp_sink.py")
        self.process = subprocess.Popen([sys.executable, str(sink), str(self.port)])
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
