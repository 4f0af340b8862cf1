"""Two editions sent at once by two real processes: nobody gets a paper twice."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing

from .conftest import Site
from .smtp_relay import Relay
from .test_delivery import BOB, CAROL, child_env, state_dir, subscribe, use_smtp


def digest_run(site: Site, date: str) -> list[str]:
    return [sys.executable, "-m", "digest", "run", "--once", "--config", str(site.config), "--date", date]


def papers_sent(site: Site) -> Counter[tuple[str, str]]:
    """How often each (address, paper) went out, over every edition in the ledger."""
    with closing(sqlite3.connect(state_dir(site) / "digest.sqlite3")) as db:
        rows = db.execute("SELECT address, papers FROM deliveries WHERE state = 'sent'").fetchall()
    return Counter((address, paper) for address, papers in rows for paper in json.loads(papers))


def test_a_run_of_another_edition_waits_for_the_one_being_sent(site: Site, relay: Relay) -> None:
    subscribe(site, "group", BOB, CAROL)
    use_smtp(site, relay.port)
    reached, release = relay.hold_at(1)  # the first run is held mid-edition, its lock taken

    with subprocess.Popen(
        digest_run(site, "2026-11-16"), stderr=subprocess.PIPE, text=True, env=child_env()
    ) as first:
        try:
            assert reached.wait(timeout=120), "the first run never handed a message over"
            second = subprocess.run(
                digest_run(site, "2026-11-17"), capture_output=True, text=True, env=child_env(), timeout=120
            )
        finally:
            release.set()
        first_err = first.communicate(timeout=120)[1]

    assert first.returncode == 0, first_err
    assert second.returncode == 1
    [error] = [line for line in second.stderr.splitlines() if line.startswith("Error: ")]
    holder = f"edition 2026-11-16 is being sent by process {first.pid} "
    assert error.startswith(f"Error: edition 2026-11-17 cannot be sent while {holder}")
    assert len(relay.received) == 3

    again = subprocess.run(
        digest_run(site, "2026-11-17"), capture_output=True, text=True, env=child_env(), timeout=120
    )

    assert again.returncode == 0, again.stderr
    sent = papers_sent(site)
    assert sent and max(sent.values()) == 1  # no (address, paper) twice
