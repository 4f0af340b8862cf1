"""Whatever bytes arrive, classifying them never raises and says what they are (a few seconds)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.inbound import classify

from . import inbound_messages as mail

KINDS = {"bounce", "complaint", "unsubscribe", "delay", "auto_reply", "other", "unreadable"}
REAL = [
    mail.postfix_dsn("bounces@x.example", "a@example.org", "<m@x.example>"),
    mail.exim_bounce("bounces@x.example", "a@example.org", "<m@x.example>"),
    mail.arf_complaint("abuse@x.example", "<m@x.example>"),
    mail.vacation_reply("a@example.org"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_are_classified_without_raising(data: bytes) -> None:
    assert classify(data).kind in KINDS


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL), st.integers(min_value=0), st.binary(min_size=1, max_size=40))
def test_real_reports_with_bytes_changed_or_cut_are_classified_without_raising(
    message: bytes, where: int, junk: bytes
) -> None:
    at = where % len(message)
    assert classify(message[:at] + junk + message[at + len(junk) :]).kind in KINDS
    assert classify(message[:at]).kind in KINDS
