"""`digest inbound`: bounces, complaints, mailed unsubscribes, automatic replies and the rest,
each in the format real servers write, read on standard input; and every kind of bad input."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from digest.cli import main
from digest.config.settings import load_settings
from digest.render.mime import message_id
from digest.store import Bounces, Ledger, Subscribers, connect
from digest.tokens import return_path_token, sign

from . import inbound_messages as mail
from .conftest import Site

TODAY = dt.datetime.now(dt.UTC).date()
ALICE = "alice@example.org"
SENDER = "Test Digest <digest@digest.example.net>"
SECRET = "test-secret"  # the conftest site's


@pytest.fixture
def mailed(site: Site) -> Iterator[Site]:
    """The conftest site with a return path, after today's edition went to alice (outbox)."""
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    config["delivery"]["return_path"] = "bounces@digest.example.net"
    config["inbound"] = {"suppress_score": 2}
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["run", "--once", "--config", str(site.config), "--date", TODAY.isoformat()]
    )
    assert result.exit_code == 0, result.stderr
    yield site


def inbound(site: Site, data: bytes, *recipients: str) -> Result:
    arguments = ["inbound", "--config", str(site.config)]
    for recipient in recipients:
        arguments += ["--recipient", recipient]
    return CliRunner().invoke(main, arguments, input=data, catch_exceptions=False)


def verp(address: str = ALICE, edition: dt.date = TODAY) -> str:
    return f"bounces+{return_path_token(SECRET, address, edition)}@digest.example.net"


def our_id(address: str = ALICE) -> str:
    return message_id(address, TODAY, SENDER)


def db_of(site: Site):  # type: ignore[no-untyped-def]
    return closing(connect(load_settings(site.config).state_dir / "digest.sqlite3"))


def scores(site: Site) -> dict[str, float]:
    with db_of(site) as db:
        return {b.address: b.score for b in Bounces(db).scores(dt.datetime.now(dt.UTC), 30)}


def inbox(site: Site) -> list[Path]:
    folder = load_settings(site.config).state_dir / "inbox"
    return sorted(folder.iterdir()) if folder.exists() else []


def nothing_changed(site: Site) -> bool:
    with db_of(site) as db:
        return (
            not scores(site) and not Ledger(db).is_suppressed(ALICE) and not Subscribers(db).has_left(ALICE)
        )


# What each kind of message does.


def test_a_hard_dsn_counts_a_full_bounce_and_the_ledger_row_records_it(mailed: Site) -> None:
    result = inbound(mailed, mail.postfix_dsn(verp(), ALICE, our_id()))

    assert result.exit_code == 0, result.stderr
    assert result.output.startswith(f"bounce (hard) for {ALICE}, edition {TODAY}: 5.1.1")
    assert "score 1 of 2" in result.output
    assert scores(mailed) == {ALICE: 1.0}
    with db_of(mailed) as db:
        row = db.execute("SELECT bounce FROM deliveries WHERE address = ?", (ALICE,)).fetchone()
    assert row[0].startswith("5.1.1")
    assert inbox(mailed) == []


def test_a_second_hard_bounce_reaches_the_score_and_suppresses(mailed: Site) -> None:
    inbound(mailed, mail.postfix_dsn(verp(), ALICE, our_id()))
    result = inbound(mailed, mail.exim_bounce(verp(), ALICE, our_id()))

    assert "score 2 of 2; suppressed" in result.output
    with db_of(mailed) as db:
        assert Ledger(db).is_suppressed(ALICE)


def test_a_temporary_failure_counts_less(mailed: Site) -> None:
    dsn = mail.postfix_dsn(verp(), ALICE, our_id(), status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full")

    result = inbound(mailed, dsn)

    assert "bounce (soft)" in result.output and "score 0.5 of 2" in result.output
    assert scores(mailed) == {ALICE: 0.5}


def test_a_delay_notice_is_not_a_bounce(mailed: Site) -> None:
    result = inbound(mailed, mail.postfix_dsn(verp(), ALICE, our_id(), status="4.4.1", action="delayed"))

    assert result.exit_code == 0 and result.output.startswith("ignored delay notice")
    assert nothing_changed(mailed) and inbox(mailed) == []


def test_an_exim_bounce_without_a_token_is_matched_by_our_message_id(mailed: Site) -> None:
    result = inbound(mailed, mail.exim_bounce("bounces@digest.example.net", ALICE, our_id()))

    assert result.output.startswith(f"bounce (hard) for {ALICE}")
    assert scores(mailed) == {ALICE: 1.0}


def test_the_envelope_recipient_given_by_the_mail_server_carries_the_token(mailed: Site) -> None:
    dsn = mail.postfix_dsn("bounces@digest.example.net", ALICE, "<unknown@elsewhere>")

    result = inbound(mailed, dsn, verp())

    assert result.output.startswith(f"bounce (hard) for {ALICE}")


def test_a_complaint_unsubscribes_and_suppresses_at_once_matched_by_message_id(mailed: Site) -> None:
    result = inbound(mailed, mail.arf_complaint("abuse@digest.example.net", our_id()))

    assert result.exit_code == 0
    assert result.output.strip() == f"complaint from {ALICE}: unsubscribed and suppressed"
    with db_of(mailed) as db:
        assert Subscribers(db).has_left(ALICE) and Ledger(db).is_suppressed(ALICE)
    again = CliRunner().invoke(
        main, ["run", "--once", "--config", str(mailed.config), "--date", TODAY.isoformat()]
    )
    assert "1 unsubscribed" in again.stderr or "unsubscribed" in again.stderr


def test_a_mailed_unsubscribe_works_like_the_link(mailed: Site) -> None:
    token = sign(SECRET, "unsubscribe", ALICE, issued=dt.datetime.now(dt.UTC))

    result = inbound(mailed, mail.mailed_unsubscribe(ALICE, token))

    assert result.output.strip() == f"unsubscribe of {ALICE} by mail"
    with db_of(mailed) as db:
        assert Subscribers(db).has_left(ALICE)
    assert inbound(mailed, mail.mailed_unsubscribe(ALICE, token)).output.strip().endswith("(it already was)")


def test_a_vacation_reply_is_ignored_and_never_counted(mailed: Site) -> None:
    result = inbound(mailed, mail.vacation_reply(ALICE), verp())

    assert result.exit_code == 0 and result.output.startswith("ignored automatic reply")
    assert nothing_changed(mailed) and inbox(mailed) == []


def test_a_persons_message_is_kept_unchanged_in_the_inbox(mailed: Site) -> None:
    note = mail.person_note(ALICE)

    result = inbound(mailed, note)

    assert result.exit_code == 0 and "kept in inbox/" in result.output
    [kept] = inbox(mailed)
    assert kept.read_bytes() == note
    assert nothing_changed(mailed)


# Bad input: one line each, nothing changed that should not be, exit 0.


def bad(site: Site, data: bytes, *recipients: str) -> str:
    result = inbound(site, data, *recipients)
    assert result.exit_code == 0, result.stderr
    assert len(result.output.strip().splitlines()) == 1
    assert nothing_changed(site)
    return result.output


def test_a_forged_return_path_token_changes_nothing(mailed: Site) -> None:
    forged = verp().replace(verp()[-30:-25], "00000")
    line = bad(mailed, mail.postfix_dsn(forged, ALICE, "<unknown@elsewhere>"))

    assert "matches no recipient of edition" in line and "kept in inbox/" in line


def test_an_expired_return_path_token_changes_nothing(mailed: Site) -> None:
    old = verp(edition=TODAY - dt.timedelta(days=120))
    line = bad(mailed, mail.postfix_dsn(old, ALICE, "<unknown@elsewhere>"))

    assert "outside the last 60 days" in line


def test_a_dsn_for_an_address_never_mailed_changes_nothing(mailed: Site) -> None:
    line = bad(mailed, mail.postfix_dsn("bounces@digest.example.net", "zed@example.org", "<x@elsewhere>"))

    assert "zed@example.org was never mailed by this site" in line


def test_a_complaint_with_no_usable_id_changes_nothing(mailed: Site) -> None:
    line = bad(mailed, mail.arf_complaint("abuse@digest.example.net", "<not-ours@example.com>"))

    assert "complaint (feedback type abuse) not acted on: it names no address" in line
    assert "kept in inbox/" in line


def test_a_30_mb_message_is_kept_unread(mailed: Site) -> None:
    huge = mail.person_note(ALICE) + b"x" * (30 * 1024 * 1024)

    line = bad(mailed, huge)

    assert line.startswith("unreadable: 30 MB")
    assert inbox(mailed)[0].stat().st_size == len(huge)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\xff\xfe binary garbage without headers\r\n" * 10,
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="open\r\n\r\n--open\r\n'
        b"Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822\r\nStatus: 9.9\r\n",
        b"".join(
            b"Received: from hop%d.example.com by hop%d.example.com; Mon, 30 Nov 2026\r\n" % (i, i + 1)
            for i in range(500)
        )
        + b"Subject: loop\r\n\r\nround and round\r\n",
        b"From: =?iso-8859-1?q?J=F6rg?= <j@example.org>\r\nSubject: R\xe9ponse \xe0 la lettre\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nCaf\xe9 cr\xe8me \xff\xfe\r\n",
    ],
    ids=["no headers", "malformed MIME", "500 Received headers", "non-UTF-8"],
)
def test_malformed_messages_are_kept_for_a_person(mailed: Site, data: bytes) -> None:
    line = bad(mailed, data)

    assert "kept in inbox/" in line
    assert inbox(mailed)[0].read_bytes() == data


def test_a_broken_config_asks_the_mail_server_to_try_again(site: Site) -> None:
    site.config.write_text("site: [\n", encoding="utf-8")

    result = inbound(site, mail.person_note(ALICE))

    assert result.exit_code == 75
    assert result.stderr.startswith("Error: inbound message not handled, the mail server will try again")


def test_digest_inbound_as_a_mail_server_runs_it(mailed: Site) -> None:
    """A real process reading a real pipe, as Postfix's pipe transport runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "digest", "inbound", "--config", str(mailed.config), "--recipient", verp()],
        input=mail.postfix_dsn("bounces@digest.example.net", ALICE, our_id()),
        capture_output=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith(f"bounce (hard) for {ALICE}")
