"""Delivery over SMTP to a real server on loopback (aiosmtpd)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from .conftest import Site

SMTP_CONFIG = """
delivery:
  transport: smtp
  smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout: 5}}
"""


class Recorder:
    """An SMTP handler that keeps every message and counts connections."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.connections = 0

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


@contextmanager
def running_smtp_server(port: int) -> Iterator[Recorder]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


def use_smtp(site: Site, port: int) -> None:
    text = site.config.read_text().replace("delivery:\n  transport: outbox\n", "")
    site.config.write_text(text + SMTP_CONFIG.format(port=port))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_run_delivers_every_address_over_one_connection(site: Site, cli: Any) -> None:
    port = free_port()
    use_smtp(site, port)
    site.profile("group", "email: [bob@example.org, carol@example.org]\nkeywords: [language model]\n")

    with running_smtp_server(port) as recorder:
        result = cli("run", "--once", "--config", site.config)

    assert result.exit_code == 0, result.stderr
    assert sorted(e.rcpt_tos[0] for e in recorder.messages) == [
        "alice@example.org",
        "bob@example.org",
        "carol@example.org",
    ]
    assert recorder.connections == 1
    first = message_from_bytes(recorder.messages[0].content, policy=policy.default)  # type: ignore[arg-type]
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "3 sent" in result.stderr


def test_dead_smtp_server_loses_nobody(site: Site, cli: Any) -> None:
    port = free_port()
    use_smtp(site, port)
    run = ("run", "--once", "--config", site.config, "--date", "2026-11-16")

    dead = cli(*run)
    strict = cli(*run, "--strict")
    with running_smtp_server(port) as recorder:
        back = cli(*run)

    assert dead.exit_code == 0 and strict.exit_code == 1
    assert "Error: 1 message(s) left for the next run: cannot connect to SMTP server 127.0.0.1" in dead.stderr
    assert "0 sent, 0 failed, 1 deferred" in dead.stderr
    assert "1 sent" in back.stderr
    assert [e.rcpt_tos for e in recorder.messages] == [["alice@example.org"]]
