"""Delivery over SMTP to a real server on loopback: every outcome, the ledger, crashes, TLS, AUTH."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from digest.config.settings import load_settings
from digest.delivery.dispatcher import Dispatcher
from digest.delivery.tally import Pacer
from digest.delivery.transports import Outbox
from digest.models import DeliveryPolicy, Job, Outgoing
from digest.pipeline import run as pipeline
from digest.render.mime import message_id
from digest.store import Ledger, connect
from digest.store.lock import edition_lock
from digest.store.schema import SCHEMA_VERSION

from .conftest import ROOT, Site
from .smtp_relay import (
    ACCEPT_THEN_GO_AWAY,
    ACCEPT_THEN_HANG_UP,
    HANG_UP_MID_DATA,
    Relay,
    at_data,
    at_rcpt,
    free_port,
    password_check,
    server_tls,
    serving,
)

EDITION = dt.date(2026, 11, 16)
SENDER = "Test Digest <digest@digest.example.net>"  # as in the conftest site
ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"

Cli = Callable[..., Result]


def use_smtp(site: Site, port: int, smtp: dict[str, Any] | None = None, **delivery: Any) -> None:
    """Send the site's mail through the loopback relay; retries never really wait. One connection,
    unless `connections` says more: these tests follow each message in turn (test_smtp_pool sends
    over several)."""
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    server = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 10, **(smtp or {})}
    config["delivery"] = {"transport": "smtp", "smtp": server, "retry_delay": 0, "connections": 1, **delivery}
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def subscribe(site: Site, name: str, *addresses: str, keywords: str = "language model") -> None:
    site.profile(name, f"email: [{', '.join(addresses)}]\nkeywords: [{keywords}]\n")


def run(cli: Cli, site: Site, *options: str, date: str = "2026-11-16") -> Result:
    return cli("run", "--once", "--config", site.config, "--date", date, *options)


def tally(result: Result, *names: str) -> tuple[int, ...]:
    """Counts from the run's summary line ("Edition …: 2 sent, 0 failed, … via smtp"), as asked."""
    line = next(line for line in result.stderr.splitlines() if line.startswith("Edition "))
    counts = line.split(": ", 1)[1].rsplit(" via ", 1)[0]
    found = {what: int(n) for n, what in (part.split(" ", 1) for part in counts.split(", "))}
    return tuple(found[name] for name in names)


def errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error: ")]


def state_dir(site: Site) -> Path:
    return load_settings(site.config).state_dir


def states(site: Site, edition: dt.date = EDITION) -> dict[str, str]:
    with closing(connect(state_dir(site) / "digest.sqlite3")) as db:
        return Ledger(db).states(edition)


# One connection, every header right.


def test_every_address_gets_its_own_message_over_one_connection(site: Site, cli: Cli, relay: Relay) -> None:
    subscribe(site, "group", BOB, CAROL)
    subscribe(site, "team", "dave@example.org", "erin@example.org", keywords="pretraining")
    use_smtp(site, relay.port)

    result = run(cli, site)

    assert result.exit_code == 0, result.stderr
    everyone = [ALICE, BOB, CAROL, "dave@example.org", "erin@example.org"]
    assert sorted(r.recipient for r in relay.received) == everyone
    assert relay.connections == 1
    for got in relay.received:
        assert got.sender == "digest@digest.example.net"
        assert parseaddr(got.message["To"])[1] == got.recipient
        assert got.message_id == message_id(got.recipient, EDITION, SENDER)
        assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert got.message["List-Unsubscribe"].startswith("<https://digest.example.net/unsubscribe/")
    assert tally(result, "sent", "failed", "deferred", "uncertain", "already sent") == (5, 0, 0, 0, 0)
    assert states(site) == dict.fromkeys(everyone, "sent")

    again = run(cli, site)

    assert tally(again, "sent", "already sent") == (0, 5)
    assert len(relay.received) == 5


def test_dead_smtp_server_loses_nobody(site: Site, cli: Cli) -> None:
    port = free_port()
    use_smtp(site, port)

    dead = run(cli, site)
    with serving(port=port) as relay:
        back = run(cli, site)

    assert dead.exit_code == 1  # nothing could be delivered: a cron job must notice
    [error] = errors(dead)
    assert error.startswith(
        f"Error: 1 message(s) left for the next run: cannot connect to SMTP server 127.0.0.1:{port}"
    )
    assert "  Hint: check delivery.smtp in the config, or use transport: outbox to test" in dead.stderr
    assert tally(dead, "sent", "failed", "deferred") == (0, 0, 1)
    assert tally(back, "sent") == (1,)
    assert [r.recipient for r in relay.received] == [ALICE]


def test_dead_server_on_a_rerun_leaves_only_the_unsent_for_later(site: Site, cli: Cli) -> None:
    subscribe(site, "bob", BOB)
    port = free_port()
    use_smtp(site, port)
    with serving(port=port) as relay:
        relay.always(ALICE, at_rcpt("452 4.2.2 mailbox full"))
        first = run(cli, site)

    rerun = run(cli, site)

    assert tally(first, "sent", "deferred") == (1, 1)
    assert "Error: 1 message(s) left for the next run: cannot connect" in rerun.stderr
    assert tally(rerun, "sent", "deferred", "already sent") == (0, 1, 1)  # Bob has his: not waiting
    assert states(site) == {ALICE: "pending", BOB: "sent"}


# Replies scripted per recipient: 4xx, 421, 5xx.


def test_temporary_refusal_is_retried_within_the_run(site: Site, cli: Cli, relay: Relay) -> None:
    subscribe(site, "bob", BOB)
    use_smtp(site, relay.port)
    relay.script(BOB, at_rcpt("451 4.7.1 greylisted, try again later"))

    result = run(cli, site, "--strict")

    assert result.exit_code == 0, result.stderr
    assert relay.rcpt_attempts.count(BOB) == 2
    assert len(relay.to(BOB)) == 1
    assert tally(result, "sent", "deferred") == (2, 0)
    assert "deferred to the next run" not in result.stderr
    assert states(site)[BOB] == "sent"


def test_lasting_refusal_is_deferred_then_delivered_once_by_a_rerun(
    site: Site, cli: Cli, relay: Relay
) -> None:
    subscribe(site, "bob", BOB)
    use_smtp(site, relay.port, retries=2)
    relay.always(BOB, at_rcpt("452 4.2.2 mailbox full"))

    first = run(cli, site)
    strict = run(cli, site, "--strict")

    assert first.exit_code == 0 and strict.exit_code == 1
    assert "Warning: deferred to the next run: bob@example.org: SMTP 452 4.2.2 mailbox full (at RCPT)" in (
        first.stderr
    )
    assert tally(first, "sent", "deferred") == (1, 1)
    assert relay.rcpt_attempts.count(BOB) == 6  # the first try and two retries, in each run
    assert states(site)[BOB] == "deferred"

    relay.always(BOB, None)
    later = run(cli, site)
    last = run(cli, site)

    assert tally(later, "sent", "deferred", "already sent") == (1, 0, 1)
    assert tally(last, "sent", "already sent") == (0, 2)
    assert [r.recipient for r in relay.received] == [ALICE, BOB]
    assert states(site) == {ALICE: "sent", BOB: "sent"}


def test_server_closing_with_421_delays_only_that_recipient(site: Site, cli: Cli, relay: Relay) -> None:
    subscribe(site, "group", BOB, CAROL)
    use_smtp(site, relay.port)
    relay.script(BOB, at_rcpt("421 4.3.2 service shutting down", hang_up=True))

    result = run(cli, site)

    assert result.exit_code == 0, result.stderr
    assert Counter(r.recipient for r in relay.received) == {ALICE: 1, BOB: 1, CAROL: 1}
    assert relay.connections == 2  # Carol, then Bob's retry, on a new connection
    assert tally(result, "sent", "deferred") == (3, 0)


def test_permanent_refusal_fails_the_address_for_good(site: Site, cli: Cli, relay: Relay) -> None:
    subscribe(site, "bob", BOB)
    use_smtp(site, relay.port)
    relay.always(BOB, at_rcpt("550 5.1.1 no such user"))

    first = run(cli, site)
    again = run(cli, site, "--strict")

    assert first.exit_code == 0
    assert "Error: not delivered: bob@example.org: SMTP 550 5.1.1 no such user (at RCPT)" in first.stderr
    assert tally(first, "sent", "failed") == (1, 1)
    assert relay.rcpt_attempts.count(BOB) == 1  # neither retried within the run nor by the next
    assert states(site)[BOB] == "failed"
    assert again.exit_code == 0  # this run had nothing go wrong
    assert tally(again, "sent", "failed", "already sent") == (0, 0, 2)


def test_refusal_at_end_of_data_fails_and_the_connection_goes_on(site: Site, cli: Cli, relay: Relay) -> None:
    subscribe(site, "group", BOB, CAROL)
    use_smtp(site, relay.port)
    relay.always(BOB, at_data("554 5.7.1 message refused as spam"))

    result = run(cli, site)

    assert (
        "Error: not delivered: bob@example.org: SMTP 554 5.7.1 message refused as spam (at end of DATA)"
        in (result.stderr)
    )
    assert [r.recipient for r in relay.received] == [ALICE, CAROL]
    assert relay.connections == 1
    assert states(site)[BOB] == "failed"


def test_repeated_permanent_refusals_suppress_the_address_until_cleared(
    site: Site, cli: Cli, relay: Relay
) -> None:
    # Bob is never sent anything, so the same listing matches for him on every date.
    subscribe(site, "bob", BOB)
    use_smtp(site, relay.port, suppress_after=2)
    relay.always(BOB, at_rcpt("550 5.1.1 no such user"))

    monday = run(cli, site, date="2026-11-16")
    tuesday = run(cli, site, date="2026-11-17")
    wednesday = run(cli, site, date="2026-11-18")
    listed = cli("suppressions", "--config", site.config)

    assert "suppressed after" not in monday.stderr
    assert "Warning: bob@example.org is now suppressed after repeated permanent failures" in tuesday.stderr
    assert tally(wednesday, "failed", "suppressed") == (0, 1)
    assert relay.rcpt_attempts.count(BOB) == 2
    assert listed.stdout.startswith("bob@example.org  since ") and "550 5.1.1 no such user" in listed.stdout

    relay.always(BOB, None)
    cleared = cli("suppressions", "--config", site.config, "--clear", BOB)
    back = run(cli, site, date="2026-11-18")

    assert cleared.stdout == "bob@example.org will be mailed again\n"
    assert cli("suppressions", "--config", site.config).stdout == ""
    assert tally(back, "sent", "suppressed") == (1, 0)
    assert len(relay.to(BOB)) == 1


def test_clearing_a_suppression_resets_the_failure_streak(site: Site, cli: Cli, relay: Relay) -> None:
    subscribe(site, "bob", BOB)
    use_smtp(site, relay.port, suppress_after=2)
    relay.always(BOB, at_rcpt("550 5.1.1 no such user"))
    run(cli, site, date="2026-11-16")
    tuesday = run(cli, site, date="2026-11-17")
    assert f"digest suppressions --clear {BOB}" in tuesday.stderr  # the hint names the address

    assert cli("suppressions", "--config", site.config, "--clear", BOB).exit_code == 0
    wednesday = run(cli, site, date="2026-11-18")  # one more refusal: a new streak of one
    thursday = run(cli, site, date="2026-11-19")

    assert "is now suppressed" not in wednesday.stderr
    assert tally(wednesday, "failed") == (1,)
    assert tally(thursday, "failed", "suppressed") == (1, 0)
    assert relay.rcpt_attempts.count(BOB) == 4


# Connections that break.


def test_connection_dropped_between_messages_loses_and_repeats_nobody(
    site: Site, cli: Cli, relay: Relay
) -> None:
    subscribe(site, "group", BOB, CAROL, "dave@example.org", "erin@example.org")
    use_smtp(site, relay.port)
    relay.script(BOB, ACCEPT_THEN_HANG_UP)

    result = run(cli, site, "--strict")

    assert result.exit_code == 0, result.stderr
    assert sorted(Counter(r.recipient for r in relay.received).values()) == [1, 1, 1, 1, 1]
    assert relay.connections == 2
    assert tally(result, "sent", "deferred", "uncertain") == (5, 0, 0)


def test_connection_lost_mid_data_is_uncertain_and_resent_only_on_request(
    site: Site, cli: Cli, relay: Relay
) -> None:
    subscribe(site, "group", BOB, CAROL)
    use_smtp(site, relay.port)
    relay.script(BOB, HANG_UP_MID_DATA)

    first = run(cli, site)

    assert "Warning: uncertain, not resent: bob@example.org: SMTP connection lost after the message was" in (
        first.stderr
    )
    assert tally(first, "sent", "uncertain") == (2, 1)
    assert states(site)[BOB] == "uncertain"
    assert len(relay.to(BOB)) == 1  # it did arrive: that is why it is not resent
    assert len(relay.to(CAROL)) == 1  # on a new connection

    plain = run(cli, site)

    assert "uncertain, not resent: bob@example.org: marked uncertain by an earlier run" in plain.stderr
    assert len(relay.to(BOB)) == 1

    resent = run(cli, site, "--resend-uncertain")
    once_more = run(cli, site, "--resend-uncertain")

    assert tally(resent, "sent", "uncertain") == (1, 0)
    assert tally(once_more, "sent") == (0,)
    assert len(relay.to(BOB)) == 2
    assert states(site)[BOB] == "sent"


def test_relay_gone_during_retries_reports_who_got_theirs(site: Site, cli: Cli, relay: Relay) -> None:
    subscribe(site, "group", BOB, CAROL)
    use_smtp(site, relay.port)
    relay.script(BOB, at_rcpt("451 4.3.0 try again later"), ACCEPT_THEN_GO_AWAY)
    relay.script(CAROL, at_rcpt("451 4.3.0 try again later"))

    result = run(cli, site)

    assert [r.recipient for r in relay.received] == [ALICE, BOB]
    assert states(site) == {ALICE: "sent", BOB: "sent", CAROL: "pending"}
    assert "deferred to the next run" not in result.stderr  # Bob has his; Carol is counted below
    assert "Error: 1 message(s) left for the next run: cannot connect to SMTP server" in result.stderr
    assert tally(result, "sent", "deferred") == (2, 1)


# TLS and AUTH.


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: the relay's own CA."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is required in CI")
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "relay.pem", folder / "relay.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_starttls_with_the_relays_ca_delivers(site: Site, cli: Cli, certificate: tuple[Path, Path]) -> None:
    with serving(tls_context=server_tls(*certificate), require_starttls=True) as relay:
        use_smtp(site, relay.port, {"security": "starttls", "ca_file": str(certificate[0])})
        result = run(cli, site, "--strict")

    assert result.exit_code == 0, result.stderr
    assert [(r.recipient, r.tls) for r in relay.received] == [(ALICE, True)]


def test_starttls_with_an_untrusted_certificate_sends_nothing(
    site: Site, cli: Cli, certificate: tuple[Path, Path]
) -> None:
    with serving(tls_context=server_tls(*certificate), require_starttls=True) as relay:
        use_smtp(site, relay.port, {"security": "starttls"})
        result = run(cli, site)

    assert result.exit_code == 1
    [error] = errors(result)
    assert f"TLS with SMTP server 127.0.0.1:{relay.port} failed: CERTIFICATE_VERIFY_FAILED" in error
    assert "set delivery.smtp.ca_file" in result.stderr
    assert relay.received == []
    assert "sent" not in states(site).values()


def test_implicit_tls_delivers(site: Site, cli: Cli, certificate: tuple[Path, Path]) -> None:
    with serving(ssl_context=server_tls(*certificate)) as relay:
        use_smtp(site, relay.port, {"security": "tls", "ca_file": str(certificate[0])})
        result = run(cli, site, "--strict")

    assert result.exit_code == 0, result.stderr
    assert [(r.recipient, r.tls) for r in relay.received] == [(ALICE, True)]


def test_login_with_the_password_from_the_environment(
    site: Site, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "correct horse battery")
    checks = password_check("digest", "correct horse battery")
    with serving(Relay(require_login=True), authenticator=checks, auth_require_tls=False) as relay:
        use_smtp(site, relay.port, {"username": "digest", "password": "${SMTP_PASSWORD}"})
        result = run(cli, site, "--strict")

    assert result.exit_code == 0, result.stderr
    assert [(r.recipient, r.login) for r in relay.received] == [(ALICE, "digest")]
    assert "correct horse" not in site.config.read_text(encoding="utf-8")


def test_refused_login_is_one_clear_error_and_sends_nothing(
    site: Site, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(site, "bob", BOB)
    monkeypatch.setenv("SMTP_PASSWORD", "not-the-password-7f3a")
    checks = password_check("digest", "correct horse battery")
    with serving(Relay(require_login=True), authenticator=checks, auth_require_tls=False) as relay:
        use_smtp(site, relay.port, {"username": "digest", "password": "${SMTP_PASSWORD}"})
        result = run(cli, site)

    # Like an unreachable server: reported, left for the next run, and a failing exit status.
    assert result.exit_code == 1
    [error] = errors(result)
    assert error.startswith("Error: 2 message(s) left for the next run: SMTP server 127.0.0.1:")
    assert "refused the login" in error
    assert "check delivery.smtp.username and the password variable" in result.stderr
    assert "not-the-password" not in result.stderr
    assert relay.received == [] and relay.rcpt_attempts == []
    assert tally(result, "sent", "deferred") == (0, 2)


# One run per edition at a time.


def test_a_second_run_of_an_edition_being_sent_stops(site: Site, cli: Cli, relay: Relay) -> None:
    use_smtp(site, relay.port)

    with edition_lock(state_dir(site), EDITION):
        blocked = run(cli, site)
    after = run(cli, site)

    assert blocked.exit_code == 1
    [error] = errors(blocked)
    holder = f"process {os.getpid()} on {os.uname().nodename}, since "
    assert error.startswith(f"Error: edition 2026-11-16 is being sent by {holder}")
    assert "Hint: wait for that run to finish, then run again" in blocked.stderr
    assert after.exit_code == 0 and [r.recipient for r in relay.received] == [ALICE]


# Pacing and backoff, with a pacer that does not really wait.


class FakePacer(Pacer):
    """Time that passes only when told to: sleeps are recorded, not waited."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def plain_message(address: str) -> Outgoing:
    message = EmailMessage()
    message["From"], message["To"] = SENDER, address
    message["Message-ID"] = message_id(address, EDITION, SENDER)
    message.set_content("Hello")
    return Outgoing(str(message["Message-ID"]), "bench@example.org", message.as_bytes())


@pytest.mark.parametrize(("rate_limit", "sleeps"), [(2, [0.3, 0.3, 0.3]), (4, [0.05, 0.05, 0.05]), (0, [])])
def test_rate_limit_spaces_the_messages(tmp_path: Path, rate_limit: float, sleeps: list[float]) -> None:
    pacer = FakePacer()
    policy = DeliveryPolicy(retries=0, retry_delay=0, rate_limit=rate_limit)
    addresses = [f"user{n}@example.org" for n in range(4)]

    def compose(todo: list[tuple[int, str]]) -> Iterator[Job]:
        for _, address in todo:
            pacer.now += 0.2  # rendering takes time, and that time counts toward the spacing
            yield Job(address, plain_message(address), ())

    with closing(connect(tmp_path / "state.sqlite3")) as db:
        outbox = Outbox(tmp_path / "outbox", EDITION.isoformat())
        tally = Dispatcher(Ledger(db), outbox, policy, EDITION, pacer=pacer).run(addresses, compose, None)
        recorded = Ledger(db).states(EDITION)

    assert pacer.sleeps == pytest.approx(sleeps)
    assert tally.sent == 4 and set(recorded.values()) == {"sent"}
    assert len(list((tmp_path / "outbox" / EDITION.isoformat()).iterdir())) == 4


def test_retries_back_off_doubling_each_time(site: Site, relay: Relay) -> None:
    use_smtp(site, relay.port, retries=3, retry_delay=30)
    relay.script(ALICE, *[at_rcpt("451 4.3.0 try again later")] * 3)
    pacer = FakePacer()

    report = pipeline.run_once(load_settings(site.config), pipeline.RunOptions(edition=EDITION), pacer=pacer)

    assert pacer.sleeps == [30, 60, 120]
    assert report.tally.sent == 1 and len(relay.to(ALICE)) == 1


# The ledger of an older version.

VERSION_1 = """
CREATE TABLE deliveries (
    address     TEXT NOT NULL,
    edition     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    message_id  TEXT NOT NULL,
    papers      TEXT NOT NULL DEFAULT '[]',
    error       TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (address, edition)
);
CREATE TABLE sent_papers (
    address   TEXT NOT NULL,
    paper_id  TEXT NOT NULL,
    edition   TEXT NOT NULL,
    PRIMARY KEY (address, paper_id)
);
INSERT INTO deliveries (address, edition, state, message_id, papers, updated_at)
VALUES ('alice@example.org', '2026-11-16', 'sent', '<old@digest.example.net>', '["2005.14165"]',
        '2026-11-16T07:00:00+00:00');
"""


def test_a_version_1_ledger_keeps_its_rows_and_takes_the_new_states(
    site: Site, cli: Cli, relay: Relay
) -> None:
    database = state_dir(site) / "digest.sqlite3"
    database.parent.mkdir(parents=True)
    with closing(sqlite3.connect(database)) as db:
        db.executescript(VERSION_1)
    subscribe(site, "bob", BOB)
    use_smtp(site, relay.port, retries=0)
    relay.always(BOB, at_rcpt("452 4.2.2 mailbox full"))

    result = run(cli, site)

    assert tally(result, "sent", "deferred", "already sent") == (0, 1, 1)
    assert relay.received == []
    with closing(sqlite3.connect(database)) as db:
        version = db.execute("PRAGMA user_version").fetchone()
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = db.execute("SELECT address, state, message_id, created_at FROM deliveries ORDER BY address")
        alice, bob = rows.fetchall()
    assert version == (SCHEMA_VERSION,) and "deliveries_v1" not in tables
    assert alice == (ALICE, "sent", "<old@digest.example.net>", "2026-11-16T07:00:00+00:00")
    assert bob[:3] == (BOB, "deferred", message_id(BOB, EDITION, SENDER))  # a state version 1 refused


# Crash safety: runs killed at random points, then rerun to completion.

SUBSCRIBERS = [f"user{n:03}@example.org" for n in range(1, 201)]
GREYLISTED, UNKNOWN = "user007@example.org", "user013@example.org"


def digest_run(site: Site) -> list[str]:
    config = str(site.config)
    return [sys.executable, "-m", "digest", "run", "--once", "--config", config, "--date", "2026-11-16"]


def child_env() -> dict[str, str]:
    """The child imports this checkout's digest, installed or not."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def kill_when_received(site: Site, relay: Relay, count: int, hold: bool = False) -> None:
    """Run an edition in a child process and SIGKILL it once the relay has `count` messages."""
    reached = relay.when_received(count, hold)
    log = site.root / f"killed-at-{count}.log"
    with (
        log.open("wb") as stderr,
        subprocess.Popen(digest_run(site), stderr=stderr, env=child_env()) as child,
    ):
        deadline = time.monotonic() + 60
        while not reached.wait(timeout=0.05):
            if child.poll() is not None or time.monotonic() > deadline:
                child.kill()
                pytest.fail(f"the run never got the relay to {count} messages:\n{log.read_text()}")
        workers = children_of(child.pid)
        child.kill()
        assert child.wait(timeout=30) == -signal.SIGKILL
    # A killed run's worker processes end too, rather than wait for work forever.
    deadline = time.monotonic() + 15
    while any(map(is_running, workers)):
        assert time.monotonic() < deadline, f"workers {workers} outlived the run"
        time.sleep(0.05)


def children_of(pid: int) -> list[int]:
    stats = Path("/proc").glob("[0-9]*/stat")
    return [int(stat.parent.name) for stat in stats if _stat(stat)[1:2] == [str(pid)]]


def is_running(pid: int) -> bool:
    state = _stat(Path(f"/proc/{pid}/stat"))
    return bool(state) and state[0] != "Z"  # an orphan's zombie waits on a reaper, not on work


def _stat(path: Path) -> list[str]:
    """State, parent pid, ... of a process; empty if it is gone."""
    try:
        return path.read_text().rpartition(")")[2].split()
    except OSError:
        return []


def run_to_completion(site: Site) -> str:
    done = subprocess.run(digest_run(site), capture_output=True, text=True, env=child_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.mark.parametrize("seed", range(5))
def test_runs_killed_at_random_then_rerun_send_each_message_once(site: Site, relay: Relay, seed: int) -> None:
    (site.profiles / "alice.yaml").unlink()
    for address in SUBSCRIBERS:  # one paper each: rendering is what takes the time
        site.profile(address.split("@")[0], f"email: {address}\nkeywords: [language model]\nmax_papers: 1\n")
    use_smtp(site, relay.port)
    relay.script(GREYLISTED, at_rcpt("451 4.7.1 greylisted, try again later"))
    relay.always(UNKNOWN, at_rcpt("550 5.1.1 no such user"))
    # 19 or more messages are still to go at the second kill: it lands before that run could end.
    first, second = sorted(random.Random(seed).sample(range(5, 181), 2))

    kill_when_received(site, relay, first, hold=True)  # dies waiting for the reply to message `first`
    held = relay.received[first - 1].recipient
    kill_when_received(site, relay, second)
    final = run_to_completion(site)
    delivered = len(relay.received)
    further = run_to_completion(site)

    uncertain = set(re.findall(r"uncertain, not resent: (\S+): ", final))
    ledger = states(site)
    copies = Counter(r.recipient for r in relay.received)
    assert held in uncertain and copies[held] == 1
    assert {a for a, state in ledger.items() if state == "uncertain"} == uncertain
    assert all(r.message_id == message_id(r.recipient, EDITION, SENDER) for r in relay.received)
    assert all(copies[a] <= 1 for a in SUBSCRIBERS)
    assert [a for a in SUBSCRIBERS if copies[a] == 0] == sorted(
        {UNKNOWN} | {a for a in uncertain if copies[a] == 0}
    )
    assert ledger[UNKNOWN] in ("failed", "uncertain")  # uncertain only if a kill hit its RCPT
    assert copies[GREYLISTED] == 1 or GREYLISTED in uncertain
    assert all(ledger[a] == "sent" for a in SUBSCRIBERS if a not in uncertain | {UNKNOWN})
    assert len(relay.received) == delivered
    assert "Edition 2026-11-16: 0 sent, 0 failed, 0 deferred" in further
