"""Transports: the outbox folder (the default; nothing leaves the machine) and SMTP."""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from .errors import DeliveryError, TransportDown
from .models import SmtpConfig


class Transport(Protocol):
    def send(self, message: EmailMessage, recipient: str) -> None: ...

    def close(self) -> None: ...


def eml_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes()


def safe_filename(address: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]", "_", address)


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary name, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


class Outbox:
    """Writes each message as <folder>/<edition>/<address>.eml."""

    def __init__(self, folder: Path, edition: str) -> None:
        self.folder = folder / edition

    def send(self, message: EmailMessage, recipient: str) -> None:
        write_atomically(self.folder / f"{safe_filename(recipient)}.eml", eml_bytes(message))

    def close(self) -> None:
        pass


class Smtp:
    """One SMTP connection, opened on first use and reused for every message of a run."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def send(self, message: EmailMessage, recipient: str) -> None:
        try:
            self._connected().send_message(message, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (0, b""))
            raise DeliveryError(f"refused by the SMTP server: {code} {_text(reply)}") from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"SMTP connection lost: {exc}") from exc

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None

    def _connected(self) -> smtplib.SMTP:
        if self.connection is None:
            self.connection = self._connect()
        return self.connection

    def _connect(self) -> smtplib.SMTP:
        cfg, context = self.config, ssl.create_default_context()
        try:
            if cfg.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=context
                )
            else:
                connection = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
                if cfg.security == "starttls":
                    connection.starttls(context=context)
            if cfg.username:
                connection.login(cfg.username, cfg.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportDown(
                f"cannot connect to SMTP server {cfg.host}:{cfg.port}: {exc}",
                "check delivery.smtp in the config, or use transport: outbox to test",
            ) from exc
        return connection


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def open_transport(transport: str, smtp: SmtpConfig | None, outbox: Path, edition: str) -> Transport:
    if transport == "smtp" and smtp is not None:
        return Smtp(smtp)
    return Outbox(outbox, edition)
