"""The mail settings of digest.yaml: DKIM, the return path, the LMTP listener, bounce scores."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..models import BouncePolicy, DkimConfig
from .addresses import normalize_mailbox
from .options import BY_KEY, keys_under
from .yamlfile import Document, KeyPath


def mailbox_or_none(doc: Document, mapping: dict[str, Any], path: KeyPath) -> str | None:
    """A mailbox such as `bounces@example.org` or `Name <a@b>`, or None when the key is absent."""
    text = doc.text(mapping, str(path[-1]), path[:-1])
    if not text:
        return None
    try:
        return normalize_mailbox(text)
    except ValueError as exc:
        doc.problem(path, f"invalid address: {exc}")
        return None


def dkim(doc: Document, delivery: dict[str, Any], base: Path) -> DkimConfig | None:
    path: KeyPath = ("delivery", "dkim")
    if "dkim" not in delivery:
        return None
    section = doc.mapping(delivery["dkim"], path)
    doc.check_keys(section, keys_under(("delivery", "dkim")), path)
    selector = doc.text(section, "selector", path, required=True) or ""
    domain = doc.text(section, "domain", path, required=True) or ""
    key_text = doc.text(section, "key_file", path, required=True) or ""
    for key, value in (("selector", selector), ("domain", domain)):
        if value and not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*", value):
            doc.problem((*path, key), f"'{value}' is not a DNS name")
    key_file = Path(os.path.normpath(base / Path(key_text).expanduser())) if key_text else base
    if key_text and not key_file.is_file():
        hint = "make one: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim.pem"
        doc.problem((*path, "key_file"), f"no such file: {key_file}", hint)
    return DkimConfig(selector, domain.lower(), key_file) if selector and domain and key_text else None


def lmtp_address(doc: Document, inbound: dict[str, Any]) -> str | None:
    """`host:port`, checked for its form; the listener binds it when `digest serve` starts."""
    text = doc.text(inbound, "lmtp", ("inbound",))
    if text is None:
        return None
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        doc.problem(("inbound", "lmtp"), f"expected host:port, got '{text}'", "e.g. 127.0.0.1:8024")
        return None
    return text


def bounce_policy(doc: Document, inbound: dict[str, Any]) -> BouncePolicy:
    def read(key: str) -> Any:
        option = BY_KEY[f"inbound.{key}"]
        if option.kind == "integer":
            return doc.integer(inbound, key, ("inbound",), option.default, int(option.low), int(option.high))
        return doc.number(inbound, key, ("inbound",), option.default, option.low, option.high)

    return BouncePolicy(read("suppress_score"), read("soft_bounce_weight"), read("decay_days"))
