"""Several senders on one edition: three `digest run` processes, one PostgreSQL state, one relay.

Each sender is a machine of its own (its own state dir); they share only the state database and
the profiles. One of them is SIGKILLed while the relay holds its reply: the edition still reaches
every address once, and the one whose outcome nobody knows is reported uncertain, not resent.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

import psycopg
import yaml

from .conftest import Site
from .smtp_relay import Relay
from .test_delivery import child_env

EDITION = "2026-11-16"
RECIPIENTS = [f"reader{number:04d}@example.org" for number in range(3000)]
KILLED_AT = 1000  # the relay's count of messages when one sender is killed
LEASE = 5  # seconds: a dead sender's claims are taken over this soon (the least the config allows)


def sender_config(site: Site, number: int, relay_port: int, state_url: str) -> Path:
    """The site's config as machine `number` has it: a state dir of its own, the shared database."""
    config: dict[str, Any] = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    config["state_dir"] = str(site.root / f"machine-{number}")
    config["profiles_dir"] = str(site.profiles)
    config["state_url"] = state_url
    smtp = {"host": "127.0.0.1", "port": relay_port, "security": "none", "timeout": 10}
    # Two connections each: a sender's messages in flight are answered and recorded before it
    # waits on the others' claims (they may be waiting on its own).
    config["delivery"] = {"transport": "smtp", "smtp": smtp, "connections": 2, "claim_lease": LEASE}
    path = site.root / f"digest-{number}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def start_sender(config: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "digest", "run", "--once", "--config", str(config), "--date", EDITION]
    return subprocess.Popen(command, stderr=log, env=child_env())


def sender_log(site: Site, number: int) -> str:
    """What sender `number` wrote to its standard error."""
    return (site.root / f"sender-{number}.log").read_text()


def claimer_pid(state_url: str, address: str) -> int:
    """The process that claimed an address's row (a claimer is node:pid:token)."""
    with psycopg.connect(state_url) as db:
        row = db.execute(
            "SELECT claimer FROM deliveries WHERE address = %s AND edition = %s", (address, EDITION)
        ).fetchone()
    assert row is not None and row[0], f"{address} has no claimer"
    return int(row[0].split(":")[1])


def ledger(state_url: str) -> dict[str, tuple[str, str]]:
    with psycopg.connect(state_url) as db:
        rows = db.execute("SELECT address, state, claimer FROM deliveries WHERE edition = %s", (EDITION,))
        return {address: (state, claimer) for address, state, claimer in rows}


def test_three_senders_share_an_edition_of_3000_and_one_killed_mid_way_sends_nothing_twice(
    site: Site, relay: Relay, postgres_url: str
) -> None:
    everyone = "email: [" + ", ".join(RECIPIENTS) + "]\n"
    site.profile("alice", everyone + "keywords: [language model]\nmax_papers: 1\n")
    configs = [sender_config(site, number, relay.port, postgres_url) for number in range(3)]
    reached, release = relay.hold_at(KILLED_AT)
    logs = [(site.root / f"sender-{number}.log").open("wb") for number in range(3)]
    senders = [start_sender(config, log) for config, log in zip(configs, logs, strict=True)]
    try:
        deadline = time.monotonic() + 120
        while not reached.wait(timeout=0.05):
            assert time.monotonic() < deadline, "no sender got far"
            exited = next((n for n, s in enumerate(senders) if s.poll() is not None), None)
            assert exited is None, f"sender {exited} ended early: {sender_log(site, exited)[-3000:]}"
        held = relay.received[KILLED_AT - 1].recipient  # its sender waits for the relay's reply
        victim = next(s for s in senders if s.pid == claimer_pid(postgres_url, held))
        victim.kill()
        assert victim.wait(timeout=30) == -signal.SIGKILL
        release.set()
        survivors = [s for s in senders if s is not victim]
        assert [s.wait(timeout=300) for s in survivors] == [0, 0]
    finally:
        release.set()
        for sender in senders:
            sender.kill()
            sender.wait()
        for log in logs:
            log.close()

    copies = Counter(received.recipient for received in relay.received)
    rows = ledger(postgres_url)
    uncertain = {address for address, (state, _) in rows.items() if state == "uncertain"}
    logged = [sender_log(site, n) for n in range(3) if senders[n] is not victim]
    stderr = "".join(logged)
    reported = set(re.findall(r"uncertain, not resent: (\S+): ", stderr))
    assert max(copies.values()) == 1  # nobody got the edition twice
    assert held in uncertain  # it arrived, but nobody knows: reported, never resent
    assert reported == uncertain
    assert all(copies[a] == 1 and rows[a][0] == "sent" for a in RECIPIENTS if a not in uncertain)
    assert len({claimer for _, claimer in rows.values()}) == 3  # all three shared the work
