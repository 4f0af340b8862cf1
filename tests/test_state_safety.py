"""The state database lost, emptied, restored from an old backup or corrupt: no edition is sent
again unasked, nobody who left is mailed, and every command says what is wrong in one line."""

from __future__ import annotations

import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from digest.store import connect, departed

from .conftest import Site
from .test_delivery import ALICE, BOB, Cli, errors, run, state_dir, subscribe, tally


def database(site: Site) -> Path:
    return state_dir(site) / "digest.sqlite3"


def lose_database(site: Site) -> None:
    for suffix in ("", "-wal", "-shm"):
        database(site).with_name(database(site).name + suffix).unlink(missing_ok=True)


def outbox_files(site: Site) -> list[str]:
    return sorted(str(p.relative_to(site.outbox)) for p in site.outbox.rglob("*.eml"))


@pytest.mark.parametrize("loss", ["deleted", "emptied", "with-its-marker"])
def test_a_lost_database_is_not_silently_recreated(site: Site, cli: Cli, loss: str) -> None:
    assert run(cli, site).exit_code == 0
    sent = outbox_files(site)
    lose_database(site)
    if loss == "emptied":
        database(site).write_bytes(b"")
    if loss == "with-its-marker":
        database(site).with_name("digest.sqlite3.created").unlink()

    again = run(cli, site)

    assert again.exit_code == 1
    [error] = errors(again)
    state = "empty" if loss == "emptied" else "missing"
    sign = (
        f"{ALICE}.eml shows editions were sent here before"
        if loss == "with-its-marker"
        else "digest.sqlite3.created shows a database was created here before"
    )
    assert error == f"Error: state database {database(site)} is {state}, but {sign}"
    assert "Hint: restore it from a backup; or start afresh with `digest init-state`" in again.stderr
    assert outbox_files(site) == sent
    assert database(site).exists() == (loss == "emptied")  # nothing created


def test_init_state_starts_afresh_and_keeps_who_left(site: Site, cli: Cli) -> None:
    subscribe(site, "bob", BOB)
    assert run(cli, site).exit_code == 0
    assert cli("unsubscribe", BOB, "--config", site.config).exit_code == 0
    lose_database(site)

    created = cli("init-state", "--config", site.config)
    again = run(cli, site, date="2026-11-17")

    assert created.exit_code == 0
    assert created.stdout.startswith(f"Created {database(site)}; 1 unsubscribe(s) kept from ")
    assert tally(again, "unsubscribed") == (1,)
    assert not (site.outbox / "2026-11-17" / f"{BOB}.eml").exists()


def test_an_unsubscribe_the_database_forgot_still_wins(site: Site, cli: Cli) -> None:
    subscribe(site, "bob", BOB)
    assert cli("unsubscribe", BOB, "--config", site.config).exit_code == 0
    with closing(sqlite3.connect(database(site))) as db, db:  # as if an old backup came back
        db.execute("DELETE FROM unsubscribes")

    result = run(cli, site)

    assert tally(result, "sent", "unsubscribed") == (1, 1)
    assert [p.name for p in (site.outbox / "2026-11-16").iterdir()] == [f"{ALICE}.eml"]


def test_a_resubscribe_is_kept_in_the_file_too(tmp_path: Path) -> None:
    with closing(connect(tmp_path / "digest.sqlite3")) as db:
        db.execute("INSERT INTO unsubscribes (address, via, at) VALUES (?, 'link', 'now')", (BOB,))
        db.execute("INSERT INTO unsubscribes (address, via, at) VALUES (?, 'link', 'now')", (ALICE,))
        db.execute("DELETE FROM unsubscribes WHERE address = ?", (ALICE,))

    assert departed(tmp_path) == {BOB}


@pytest.mark.parametrize(
    "command",
    [("run", "--once", "--date", "2026-11-16"), ("unsubscribe", BOB), ("suppressions",), ("init-state",)],
    ids=lambda command: command[0],
)
def test_a_corrupt_database_is_one_line_in_every_command(
    site: Site, cli: Cli, command: tuple[str, ...]
) -> None:
    database(site).parent.mkdir(parents=True)
    database(site).write_bytes(b"this is not a database, but a text file of some length\n" * 100)

    result = cli(*command, "--config", site.config)

    assert result.exit_code == 1
    assert errors(result) == [f"Error: state database {database(site)}: file is not a database"]
    assert "Traceback" not in result.stderr


def test_serve_refuses_to_start_on_a_lost_database(site: Site, cli: Cli) -> None:
    assert run(cli, site).exit_code == 0
    lose_database(site)

    with socket.socket() as taken:  # were it to start serving, it would fail at once, not hang
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--config", site.config, "--port", port)

    assert result.exit_code == 1
    [error] = errors(result)
    assert error.startswith(f"Error: state database {database(site)} is missing")
