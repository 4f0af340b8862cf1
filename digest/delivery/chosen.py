"""The transport a run or a confirmation hands its messages to, as the settings choose it."""

from __future__ import annotations

from pathlib import Path

from ..models import DkimConfig, SmtpConfig
from .dkim import DkimSigner, SignedTransport
from .smtp_pool import SmtpPool
from .transports import Outbox, Smtp, Transport


def open_transport(
    transport: str, smtp: SmtpConfig | None, outbox: Path, edition: str, dkim: DkimConfig | None = None,
    connections: int = 1,
) -> Transport:  # fmt: skip
    """The configured transport: SMTP over `connections` connections at once (see smtp_pool), or
    the outbox; with `dkim`, each message is signed as it is handed over."""
    signer = DkimSigner(dkim) if dkim is not None else None
    if transport == "smtp" and smtp is not None and connections > 1:
        return SmtpPool(smtp, connections, signer)  # signs as it takes each message
    chosen: Transport = Smtp(smtp) if transport == "smtp" and smtp is not None else Outbox(outbox, edition)
    return chosen if signer is None else SignedTransport(chosen, signer)
