"""Messages to the outbox written ahead by the worker that composed them: the hand-over is a
rename, the bytes are those composed, and nothing staged outlives the run."""

from __future__ import annotations

import email
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from digest.delivery.transports import STAGING, Outbox
from digest.models import Outgoing
from digest.pipeline.composing import MIN_PARALLEL

from .conftest import ROOT, Site

MESSAGE = Outgoing("<m@example.org>", "d@example.org", b"Subject: hi\r\n\r\n.one line\r\n\xc3\xa9\r\n")


def test_a_staged_message_lands_in_the_outbox_byte_for_byte_and_the_staging_goes_with_close(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path, "2026-11-16")
    staged = outbox.stage(MESSAGE, "a/b@example.org")
    leftover = outbox.stage(MESSAGE, "never@example.org")  # a stop came before its turn
    assert staged.data == b"" and Path(staged.staged).parent == tmp_path / "2026-11-16" / STAGING
    assert not list((tmp_path / "2026-11-16").glob("*.eml"))  # staged is not handed over

    outbox.send(staged, "a/b@example.org")
    outbox.close()

    [written] = (tmp_path / "2026-11-16").iterdir()
    assert written.read_bytes() == MESSAGE.data
    assert not Path(leftover.staged).exists() and not (tmp_path / "2026-11-16" / STAGING).exists()


def test_a_message_that_cannot_be_staged_is_kept_whole_for_the_hand_over(tmp_path: Path) -> None:
    (tmp_path / "2026-11-16").mkdir()
    (tmp_path / "2026-11-16" / STAGING).write_text("a file where the staging folder would be")
    outbox = Outbox(tmp_path, "2026-11-16")
    assert outbox.stage(MESSAGE, "a@example.org") == MESSAGE  # send() writes it, or says why not


def test_a_run_composed_in_workers_leaves_every_message_in_the_outbox_and_nothing_staged(site: Site) -> None:
    """...and keeps each edition's matches and reasons, which the workers encoded, for its web page."""
    addresses = [f"p{n:03}@example.org" for n in range(MIN_PARALLEL + 20)]
    for address in addresses:
        site.profile(address[:4], f"email: {address}\nkeywords: [language model]\nmax_papers: 1\n")
    command = [sys.executable, "-m", "digest", "run", "--once", "--config", str(site.config)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)  # forks workers
    assert done.returncode == 0, done.stderr

    [folder] = (site.config.parent / "var" / "outbox").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{a}.eml" for a in [*addresses, "alice@example.org"]
    )
    for address in addresses:
        parsed = email.message_from_bytes((folder / f"{address}.eml").read_bytes())
        assert parsed["To"] == address and parsed.get_content_type() == "multipart/alternative"
    with sqlite3.connect(site.config.parent / "var" / "digest.sqlite3") as db:
        states = db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall()
        remembered = dict(db.execute("SELECT address, reasons FROM edition_papers").fetchall())
    assert states == [("sent", len(addresses) + 1)]
    for address in addresses:
        matched = json.loads(remembered[address])  # every paper matched, not only the one shown
        assert matched and all(
            {(r["kind"], r["term"]) for r in reasons} == {("keyword", "language model")}
            for reasons in matched.values()
        )
