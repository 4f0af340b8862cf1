"""Return paths that name their recipient (VERP): bounces+<token>@example.org per message.

A bounce goes to the envelope sender, whatever the From says; with one envelope sender per
recipient and edition, the bounce itself says whom it is about, even when it quotes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from email.utils import parseaddr

from ..models import Outgoing
from ..tokens import return_path_token


def verp_address(return_path: str, token: str) -> str:
    """`bounces+<token>@example.org` for the return path `bounces@example.org`."""
    local, _, domain = parseaddr(return_path)[1].rpartition("@")
    return f"{local}+{token}@{domain}"


def with_return_path(
    message: Outgoing, return_path: str | None, secret: str, recipient: str, edition: dt.date
) -> Outgoing:
    """`message` with its envelope sender naming (recipient, edition); as it is without a return path."""
    if not return_path:
        return message
    token = return_path_token(secret, recipient, edition)
    return dataclasses.replace(message, sender=verp_address(return_path, token))
