"""Signing is made without json.dumps and with the key's HMAC state kept: its tokens must be
byte for byte what the plain recipe (json.dumps, then a fresh HMAC) makes, for any text."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.tokens import return_path_token, sign, sign_each, verify


def plain_sign(secret: str, purpose: str, address: str, expires: dt.datetime | None, nonce: str | None,
               issued: dt.datetime | None, subject: str | None) -> str:  # fmt: skip
    """The recipe the tokens of earlier digests were made with, the oracle here."""
    data: dict[str, object] = {"p": purpose, "a": address}
    for key, value in (("e", expires), ("n", nonce), ("t", issued), ("s", subject)):
        if value is not None:
            data[key] = int(value.timestamp()) if isinstance(value, dt.datetime) else value

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    payload = b64(json.dumps(data, separators=(",", ":")).encode())
    return f"{payload}.{b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:18])}"


moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)


@settings(max_examples=300, deadline=None)  # a bounded budget: well under a second
@given(
    secret=st.text(min_size=1), purpose=st.text(), address=st.text(), expires=st.none() | moments,
    nonce=st.none() | st.text(), issued=st.none() | moments, subject=st.none() | st.text(),
)  # fmt: skip
def test_tokens_are_those_of_the_plain_recipe_for_any_text(
    secret: str, purpose: str, address: str, expires: dt.datetime | None, nonce: str | None,
    issued: dt.datetime | None, subject: str | None,
) -> None:  # fmt: skip
    token = sign(secret, purpose, address, expires, nonce, issued=issued, subject=subject)
    assert token == plain_sign(secret, purpose, address, expires, nonce, issued, subject)
    assert verify(secret, purpose, token, now=dt.datetime(1999, 1, 1, tzinfo=dt.UTC)).address == address


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(min_size=1), purpose=st.text(), address=st.text(), expires=moments, issued=moments,
    subjects=st.lists(st.text(), max_size=4),
)  # fmt: skip
def test_tokens_signed_together_are_those_of_the_plain_recipe_one_by_one(
    secret: str, purpose: str, address: str, expires: dt.datetime, issued: dt.datetime, subjects: list[str]
) -> None:  # fmt: skip
    tokens = sign_each(secret, purpose, address, subjects, expires, issued)
    assert tokens == [plain_sign(secret, purpose, address, expires, None, issued, s) for s in subjects]


def test_tokens_of_two_secrets_differ_though_signed_one_after_the_other() -> None:
    """The kept HMAC state is the secret's own: another secret's tokens are not made with it."""
    first, second = (sign(secret, "unsubscribe", "a@example.org") for secret in ("one", "two"))
    assert first.split(".")[0] == second.split(".")[0] and first != second
    assert first == plain_sign("one", "unsubscribe", "a@example.org", None, None, None, None)
    edition = dt.date(2026, 11, 16)
    assert return_path_token("one", "a@example.org", edition) != return_path_token(
        "two", "a@example.org", edition
    )
