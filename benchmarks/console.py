"""The operator's console at scale: 100,000 subscribers, the overview page and `digest status`.

    python benchmarks/console.py [--subscribers 100000] [--editions 10] [--per-file 1] [--keep DIR]

Builds a site on disk: profile files (one per subscriber by default, as sign-ups from the web
form are; --per-file 100 for group profiles), a ledger of --editions editions for everyone,
unsubscribes, pending sign-ups, suppressions and a month of source fetches. Then measures, in
this process, the numbers of `digest status` and the GET of /admin over real HTTP on loopback,
cold (first, the profile cache is filled) and warm (the median of the next runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

import httpx
import uvicorn

from digest.config.settings import load_settings
from digest.pipeline.state import database_path
from digest.serve.site_status import status
from digest.serve.web import create_app
from digest.store import connect

CONFIG = """\
site: {{title: Bench, base_url: "http://127.0.0.1", sender: "Bench <b@example.org>", secret: bench}}
sources:
  - {{name: arxiv, url: arxiv.xml}}
  - {{name: hf, url: hf.json}}
delivery: {{transport: outbox}}
state_dir: var
profiles_dir: profiles
"""
PASSWORD = "benchmark password"


def build(root: Path, subscribers: int, editions: int, per_file: int) -> Path:
    (root / "profiles").mkdir(parents=True)
    config = root / "digest.yaml"
    config.write_text(CONFIG.format(), encoding="utf-8")
    addresses = [f"reader{n:06d}@example.org" for n in range(subscribers)]
    for start in range(0, subscribers, per_file):
        group = addresses[start : start + per_file]
        text = f"email: [{', '.join(group)}]\nkeywords: [language model]\n"
        (root / "profiles" / f"p{start:06d}.yaml").write_text(text, encoding="utf-8")
    with closing(connect(database_path(load_settings(config)))) as db:
        fill_ledger(db, addresses, editions)
    return config


def fill_ledger(db: object, addresses: list[str], editions: int) -> None:
    first = dt.date(2026, 11, 1)
    days = [(first + dt.timedelta(days=n)).isoformat() for n in range(editions)]
    at = "2026-11-01T07:00:00+00:00"
    states = ["sent"] * 95 + ["failed"] * 3 + ["deferred", "uncertain"]
    with db:  # type: ignore[attr-defined]
        db.execute("BEGIN IMMEDIATE")  # type: ignore[attr-defined]
        db.executemany(  # type: ignore[attr-defined]
            "INSERT INTO deliveries VALUES (?, ?, ?, '<m@x>', '[]', NULL, ?, ?)",
            (
                (address, day, states[(i + j) % 100], at, at)
                for j, day in enumerate(days)
                for i, address in enumerate(addresses)
            ),
        )
        db.executemany(  # type: ignore[attr-defined]
            "INSERT INTO unsubscribes VALUES (?, 'link', ?)", ((a, at) for a in addresses[::20])
        )
        db.executemany(  # type: ignore[attr-defined]
            "INSERT INTO suppressions VALUES (?, '550', ?)", ((a, at) for a in addresses[7::100])
        )
        db.executemany(  # type: ignore[attr-defined]
            "INSERT INTO pending_subscriptions VALUES (?, ?, '[\"x\"]', NULL, ?)",
            ((f"n{n}", f"new{n}@example.org", at) for n in range(2000)),
        )
        db.executemany(  # type: ignore[attr-defined]
            "INSERT INTO source_checks VALUES (?, ?, ?, ?, 300, 40, NULL)",
            (
                (s, s, at, (first + dt.timedelta(days=n)).isoformat())
                for n in range(30)
                for s in ("arxiv", "hf")
            ),
        )


def timed(work: object, runs: int) -> tuple[float, float]:
    """(the first run, the median of the others), in seconds."""
    took = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        took.append(time.perf_counter() - started)
    return took[0], statistics.median(took[1:])


def serve(config: Path) -> tuple[uvicorn.Server, int]:
    os.environ["DIGEST_ADMIN_PASSWORD"] = PASSWORD
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(load_settings(config)), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, port


def signed_in(client: httpx.Client, port: int) -> dict[str, str]:
    form = client.get("/admin/sign-in").text
    token = form.split('name="token" value="')[1].split('"')[0]
    answer = client.post(
        "/admin/sign-in",
        data={"token": token, "password": PASSWORD},
        headers={"Origin": f"http://127.0.0.1:{port}"},
    )
    return {"Cookie": answer.headers["set-cookie"].split(";")[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--editions", type=int, default=10)
    parser.add_argument("--per-file", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Build the site in this folder and keep it.")
    options = parser.parse_args()
    root = options.keep or Path(tempfile.mkdtemp(prefix="digest-console-"))
    started = time.perf_counter()
    config = build(root, options.subscribers, options.editions, options.per_file)
    print(f"site with {options.subscribers:,} subscribers, {options.editions} editions: "
          f"built in {time.perf_counter() - started:.1f} s")  # fmt: skip
    settings = load_settings(config)
    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    with closing(connect(database_path(settings))) as db:
        cold, warm = timed(lambda: status(settings, db, now), options.runs)
    print(f"digest status numbers: first {cold * 1000:.0f} ms, then {warm * 1000:.0f} ms (median)")
    server, port = serve(config)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        cookie = signed_in(client, port)
        for path in ("/admin", "/admin/subscribers?search=reader0999"):
            cold, warm = timed(lambda p=path: client.get(p, headers=cookie).raise_for_status(), options.runs)
            print(f"GET {path}: first {cold * 1000:.0f} ms, then {warm * 1000:.0f} ms (median)")
    server.should_exit = True


if __name__ == "__main__":
    main()
