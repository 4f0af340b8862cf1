"""Transports: the outbox folder (the default; nothing leaves the machine) and SMTP.

A transport hands over one message for one recipient and says precisely how that went, so
the ledger can tell "try again" (TemporaryFailure) from "never" (PermanentFailure) from "it
may have arrived" (UncertainDelivery) from "nothing can be sent now" (TransportDown).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import secrets
import shutil
import smtplib
import ssl
from pathlib import Path
from typing import Protocol

from ..errors import PermanentFailure, TemporaryFailure, TransportDown, UncertainDelivery
from ..models import Outgoing, SmtpConfig


class Transport(Protocol):
    def send(self, message: Outgoing, recipient: str) -> None: ...

    def close(self) -> None: ...


MAX_NAME = 200  # characters of an address kept in a file name: most file systems allow 255 bytes


def safe_filename(address: str) -> str:
    """A file name for an address; two addresses never share one.

    Where characters had to be replaced or the name cut short, a hash of the whole address
    is added, or `a/b@x` and `a_b@x` would overwrite each other's messages.
    """
    name = re.sub(r"[^A-Za-z0-9@._+-]", "_", address)
    if name == address and len(name) <= MAX_NAME:
        return name
    return f"{name[:MAX_NAME]}.{hashlib.sha256(address.encode()).hexdigest()[:12]}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary name of this writer's own, then rename: a reader never sees half
    a file, and a write that fails (a full disk) leaves nothing behind.

    No fsync: the file survives the process dying at once, like the ledger's commits do.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its files are private (0600); this one keeps the umask's permissions.
    partial = path.with_name(f".{path.name[:40]}.{os.getpid()}.{secrets.token_hex(4)}.part")
    handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


STAGING = ".staged"  # in an edition's outbox folder: messages written ahead, not yet handed over


class Outbox:
    """Writes each message as <folder>/<edition>/<address>.eml."""

    def __init__(self, folder: Path, edition: str) -> None:
        self.folder = folder / edition
        self.staging = self.folder / STAGING

    def stage(self, message: Outgoing, recipient: str) -> Outgoing:
        """The message written ahead, in the process that composed it, where send() will find it
        and rename it into place: the process that keeps the ledger then neither receives its
        bytes nor writes them. Unchanged when it cannot be written: send() then tries, and says
        why it cannot. A staged file is no hand-over: it is not in the outbox until renamed."""
        path = self.staging / f"{safe_filename(recipient)}.{os.getpid()}.eml"
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
            path.write_bytes(message.data)
        except OSError:
            return message
        return dataclasses.replace(message, data=b"", staged=str(path))

    def send(self, message: Outgoing, recipient: str) -> None:
        """Nothing is written when this fails, so the message waits for the next run; the same
        cause (a full disk, a folder it may not write) would fail every message after it."""
        target = self.folder / f"{safe_filename(recipient)}.eml"
        try:
            if message.staged:
                os.replace(message.staged, target)  # written in full already: a reader sees all or none
            else:
                write_atomically(target, message.data)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise TransportDown(
                f"cannot write to the outbox {self.folder}: {why}",
                "free disk space or fix the folder's permissions; the next run sends what is left",
            ) from exc

    def close(self) -> None:
        """Messages staged but never handed over (a stop, a transport down) are not kept: the
        next run composes them again. One run at a time sends an edition (the edition lock)."""
        shutil.rmtree(self.staging, ignore_errors=True)


class Smtp:
    """One SMTP connection, opened on first use, reused for every message, reopened if dropped."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def send(self, message: Outgoing, recipient: str) -> None:
        connection = self._start(message.sender, recipient)
        self._data(connection, message)

    def _start(self, sender: str, recipient: str) -> smtplib.SMTP:
        """MAIL, RCPT and DATA on a live connection, reconnecting once if it died while idle."""
        for attempt in (1, 2):
            connection = self._connected()
            try:
                code, reply = self._open_data(connection, sender, recipient)
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                if attempt == 2:
                    raise TemporaryFailure(f"SMTP server hung up before the message was sent: {exc}") from exc
                continue  # a connection reused after a pause: open a fresh one, nothing was sent
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                raise TemporaryFailure(f"SMTP connection lost before the message was sent: {exc}") from exc
            if code != 354:
                self._reset(connection)
                raise _refusal(code, reply, "DATA")
            return connection
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None

    def _open_data(self, connection: smtplib.SMTP, sender: str, recipient: str) -> tuple[int, bytes]:
        """MAIL and RCPT (a refusal raised), then DATA's reply; smtp_pool pipelines the three."""
        self._envelope(connection, sender, recipient)
        return connection.docmd("DATA")

    def _envelope(self, connection: smtplib.SMTP, sender: str, recipient: str) -> None:
        connection.ehlo_or_helo_if_needed()
        code, reply = connection.mail(sender)
        if code < 400:
            code, reply = connection.rcpt(recipient)
            stage = "RCPT"
        else:
            stage = "MAIL"
        if code >= 400:
            self._reset(connection)
            raise _refusal(code, reply, stage)

    def _data(self, connection: smtplib.SMTP, message: Outgoing) -> None:
        # From here on the server may have the whole message: a broken connection is uncertain.
        data = re.sub(rb"(?m)^\.", b"..", message.data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        try:
            connection.send(data + b".\r\n")
            code, reply = connection.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise UncertainDelivery(f"SMTP connection lost after the message was sent: {exc}") from exc
        if not 200 <= code < 300:
            raise _refusal(code, reply, "end of DATA")

    def _reset(self, connection: smtplib.SMTP) -> None:
        try:
            connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError):
                self.connection.close()
            self.connection = None

    def _connected(self) -> smtplib.SMTP:
        if self.connection is None:
            self.connection = connect(self.config)
        return self.connection


def connect(config: SmtpConfig) -> smtplib.SMTP:
    """An open, secured and authenticated connection; TransportDown says why there is none."""
    if config.unset_variable:  # looked for here, where it is first needed
        name = config.unset_variable
        hint = f"export {name}=… before sending (it is named in delivery.smtp)"
        raise TransportDown(f"environment variable {name} is not set", hint)
    context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
    where = f"{config.host}:{config.port}"
    try:
        return _secured(_opened(config, context), config, context)
    except smtplib.SMTPAuthenticationError as exc:
        raise TransportDown(f"SMTP server {where} refused the login: {_text(exc.smtp_error)}",
                            "check delivery.smtp.username and the password variable") from exc  # fmt: skip
    except ssl.SSLError as exc:
        hint = "for a private CA, set delivery.smtp.ca_file"
        raise TransportDown(f"TLS with SMTP server {where} failed: {exc.reason or exc}", hint) from exc
    except (smtplib.SMTPException, OSError) as exc:
        hint = "check delivery.smtp in the config, or use transport: outbox to test"
        raise TransportDown(f"cannot connect to SMTP server {where}: {exc}", hint) from exc


def _opened(config: SmtpConfig, context: ssl.SSLContext) -> smtplib.SMTP:
    if config.security == "tls":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout)


def _secured(connection: smtplib.SMTP, config: SmtpConfig, context: ssl.SSLContext) -> smtplib.SMTP:
    """STARTTLS and login; a connection refused either is closed here, or its socket would leak."""
    try:
        if config.security == "starttls":
            connection.starttls(context=context)
        if config.username:
            connection.login(config.username, config.password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def _refusal(code: int, reply: bytes | str, stage: str) -> TemporaryFailure | PermanentFailure:
    error = f"SMTP {code} {_text(reply)} (at {stage})"
    return TemporaryFailure(error) if 400 <= code < 500 else PermanentFailure(error)


def _text(reply: bytes | str) -> str:
    return " ".join((reply.decode(errors="replace") if isinstance(reply, bytes) else reply).split())
