"""The whole loop, with real parts: a digest goes out over SMTP signed and with a VERP return
path; its bounces and a complaint come back over LMTP to a running `digest serve`; the address
is suppressed at the configured score and `digest suppressions` shows it."""

from __future__ import annotations

import datetime as dt
import os
import queue
import re
import signal
import smtplib
import subprocess
import sys
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import IO
from urllib.parse import unquote

import dkim
import yaml
from click.testing import CliRunner

from digest.cli import main
from digest.delivery.dkim import DkimSigner
from digest.delivery.dns_lookup import dkim_dnsfunc
from digest.models import DkimConfig

from . import inbound_messages as mail
from .conftest import ROOT, Site
from .dns_server import dns_serving
from .mail_keys import make_key
from .smtp_relay import Relay, free_port

TODAY = dt.datetime.now(dt.UTC).date()
ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"


def configure(site: Site, relay_port: int, lmtp_port: int, key: Path) -> None:
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    config["delivery"] = {
        "transport": "smtp",
        "smtp": {"host": "127.0.0.1", "port": relay_port, "security": "none", "timeout": 10},
        "return_path": "bounces@digest.example.net",
        "dkim": {"selector": "d2026", "domain": "digest.example.net", "key_file": str(key)},
    }
    config["inbound"] = {"lmtp": f"127.0.0.1:{lmtp_port}", "suppress_score": 2}
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    site.profile("bob", "email: bob@example.org\nkeywords: [language model]\n")
    site.profile("carol", "email: carol@example.org\nkeywords: [language model]\n")


def mailto_unsubscribe(message: EmailMessage) -> tuple[str, bytes]:
    """The mail a client sends for the digest's List-Unsubscribe mailto: (its address, the mail)."""
    mailto = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", str(message["List-Unsubscribe"]))
    assert mailto is not None
    token = unquote(mailto.group(2)).removeprefix("unsubscribe ")
    return mailto.group(1), mail.mailed_unsubscribe(CAROL, token)


class ServerLog:
    """The server's log lines, read on a thread of their own so a test can wait for one with a
    deadline (a generous one: it fails a broken server, it does not time a working one)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self.lines.put(raw.decode(errors="replace"))
        self.lines.put("")  # the server stopped

    def wait_for(self, text: str) -> None:
        while True:
            try:
                line = self.lines.get(timeout=60)
            except queue.Empty:
                line = ""
            self.seen.append(line)
            if text in line:
                return
            if not line:
                raise AssertionError(f"digest serve never said: {text}\n" + "".join(self.seen))


def hand_over(port: int, sender: str, recipient: str, data: bytes) -> None:
    with smtplib.LMTP("127.0.0.1", port) as lmtp:
        refused = lmtp.sendmail(sender, [recipient], data)
    assert refused == {}


def test_bounces_over_lmtp_suppress_at_the_score_and_a_complaint_unsubscribes(
    site: Site, relay: Relay, tmp_path: Path
) -> None:
    key, lmtp_port = make_key(tmp_path), free_port()
    configure(site, relay.port, lmtp_port, key)
    runner = CliRunner()
    sent = runner.invoke(main, ["run", "--once", "--config", str(site.config), "--date", TODAY.isoformat()])
    assert sent.exit_code == 0, sent.stderr
    to_alice, to_bob = relay.to(ALICE)[0], relay.to(BOB)[0]
    with dns_serving() as dns_server:
        dns_server.txt(*DkimSigner(DkimConfig("d2026", "digest.example.net", key)).dns_record())
        assert dkim.verify(to_alice.data, dnsfunc=dkim_dnsfunc(dns_server.resolver()))
    assert to_alice.sender.startswith("bounces+") and to_alice.sender != to_bob.sender

    command = [sys.executable, "-m", "digest", "serve", "--no-schedule", "--config", str(site.config),
               "--port", str(free_port())]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(command, stderr=subprocess.PIPE, env=environment) as server:
        assert server.stderr is not None
        log = ServerLog(server.stderr)
        try:
            log.wait_for("listening for inbound mail (LMTP)")
            alice_id, bounces = to_alice.message_id, to_alice.sender
            hand_over(lmtp_port, "", bounces, mail.postfix_dsn(bounces, ALICE, alice_id))
            hand_over(lmtp_port, "", bounces, mail.exim_bounce(bounces, ALICE, alice_id))
            complaint = mail.arf_complaint("abuse@digest.example.net", to_bob.message_id)
            hand_over(lmtp_port, "", "abuse@digest.example.net", complaint)
            hand_over(lmtp_port, CAROL, *mailto_unsubscribe(relay.to(CAROL)[0].message))
            log.wait_for("by mail")  # LMTP answers once a message is handled: the last line is there
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            log.reader.join(timeout=60)  # it read to the end before the pipe is closed

    listed = runner.invoke(main, ["suppressions", "--config", str(site.config)])
    [alice_line] = [line for line in listed.output.splitlines() if line.startswith(ALICE)]
    assert "score 2 of 2  suppressed  last bounce" in alice_line and "5.2.1" in alice_line
    assert any(line.startswith(f"{BOB}  since") for line in listed.output.splitlines())
    assert "2 suppressed address(es), 1 with bounces" in listed.stderr
    text = "".join(log.seen)
    assert ALICE not in text and BOB not in text  # the log names a keyed tag and the domain
    assert "score 2 of 2; suppressed" in text and "complaint from" in text

    again = runner.invoke(main, ["run", "--once", "--config", str(site.config), "--date", "2030-01-02"])
    assert "1 suppressed" in again.stderr and "2 unsubscribed" in again.stderr, again.stderr
    assert relay.to(ALICE) == [to_alice] and relay.to(BOB) == [to_bob]  # neither is mailed again
    assert len(relay.to(CAROL)) == 1  # nor is carol, who left by mail

    cleared = runner.invoke(main, ["suppressions", "--config", str(site.config), "--clear", ALICE])
    assert cleared.exit_code == 0
    after = runner.invoke(main, ["suppressions", "--config", str(site.config)])
    assert ALICE not in after.output
