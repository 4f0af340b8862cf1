"""The store's tables and every reader and writer above them, on SQLite and on PostgreSQL alike.

Each test runs once per engine (the `backend` fixture): a PostgreSQL state must behave exactly as
the SQLite file does, down to the order of rows and what an upsert keeps.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import closing
from pathlib import Path

import pytest

from digest.errors import StateError
from digest.models import CachedFeed, Paper, Reason, SourceReport
from digest.store import (
    Bounces,
    Database,
    EditionArchive,
    HttpCache,
    Ledger,
    PaperArchive,
    ScheduleLog,
    SourceHistory,
    State,
    Subscribers,
    connect,
    encode_matches,
)
from digest.store.admin_sessions import AdminSessions
from digest.store.overview import (
    BounceFigures,
    deliveries_of,
    edition_counts,
    last_sent,
    latest_pending,
    pending_addresses,
    uncertain_deliveries,
    unsubscribes,
)
from digest.store.schema import SCHEMA_VERSION, version
from digest.store.source_log import SourceLog

from .conftest import StateLocation

EDITION = dt.date(2026, 11, 16)
NOW = dt.datetime(2026, 11, 16, 7, 0, tzinfo=dt.UTC)
ALICE, BOB = "alice@example.org", "bob@example.org"


def paper(number: int, title: str = "A paper") -> Paper:
    arxiv = f"2611.{number:05d}"
    return Paper(arxiv, f"{title} {number}", "An abstract with <tags> & 100% text.", ("A. Author",),
                 f"https://arxiv.org/abs/{arxiv}")  # fmt: skip


def test_a_new_state_is_at_the_current_schema_version(backend: Database) -> None:
    assert version(backend) == SCHEMA_VERSION


def test_the_ledger_keeps_one_row_per_address_and_edition(backend: Database) -> None:
    ledger = Ledger(backend)
    ledger.mark(ALICE, EDITION, "sending", "<a@x>")
    ledger.mark_sent(ALICE, EDITION, "<a@x>", ["2611.00001", "2611.00002"])
    ledger.mark_sent(ALICE, EDITION, "<a@x>", ["2611.00001"])  # a paper already sent stays once
    ledger.mark(BOB, EDITION, "deferred", "<b@x>", "452 mailbox full")

    assert ledger.states(EDITION) == {ALICE: "sent", BOB: "deferred"}
    assert ledger.sent_paper_ids(ALICE) == {"2611.00001", "2611.00002"}
    assert edition_counts(backend, 5)[0].sent == 1
    assert edition_counts(backend, 5)[0].deferred == 1


def test_a_run_that_died_mid_hand_over_leaves_its_rows_uncertain(backend: Database) -> None:
    ledger = Ledger(backend)
    ledger.mark(ALICE, EDITION, "sending", "<a@x>")
    ledger.mark(BOB, EDITION, "sent", "<b@x>")

    assert ledger.settle_interrupted(EDITION) == [ALICE]
    assert ledger.states(EDITION) == {ALICE: "uncertain", BOB: "sent"}
    assert [row[0] for row in uncertain_deliveries(backend, EDITION.isoformat())] == [ALICE]
    assert ledger.settle_interrupted(EDITION) == []


def test_hard_failures_in_a_row_suppress_until_cleared(backend: Database) -> None:
    ledger = Ledger(backend)
    for day in (16, 17):
        ledger.mark(ALICE, dt.date(2026, 11, day), "failed", "<a@x>", "550 no such user")
    assert ledger.consecutive_failures(ALICE) == 2
    ledger.suppress(ALICE, "550 no such user")
    ledger.suppress(ALICE, "550 again")  # the newer reason replaces the older

    assert ledger.is_suppressed(ALICE)
    assert [row[:2] for row in ledger.suppressions()] == [(ALICE, "550 again")]
    assert ledger.unsuppress(ALICE)
    assert not ledger.is_suppressed(ALICE)
    assert ledger.consecutive_failures(ALICE) == 0  # the streak starts after the cleared failures
    assert not ledger.unsuppress(ALICE)


def test_the_schedule_log_records_each_slot_once(backend: Database) -> None:
    log = ScheduleLog(backend)
    log.record("07:00 UTC", EDITION, False, "source down", NOW)
    log.record("07:00 UTC", EDITION, True, "", NOW + dt.timedelta(minutes=5))

    assert log.last("07:00 UTC", EDITION) == ("done", NOW + dt.timedelta(minutes=5))
    assert log.first_start(NOW) == NOW
    assert log.first_start(NOW + dt.timedelta(days=1)) == NOW  # recorded once
    log.forget("07:00 UTC", EDITION)
    assert log.last("07:00 UTC", EDITION) is None


def test_sign_ups_are_limited_reserved_released_and_completed(backend: Database) -> None:
    subscribers = Subscribers(backend)
    hour = dt.timedelta(hours=1)
    assert subscribers.reserve("n1", ALICE, ["rl"], "Alice", NOW, hour, 2) == "reserved"
    assert subscribers.reserve("n2", ALICE, ["rl"], "Alice", NOW, hour, 2) == "recent"
    assert subscribers.reserve("n3", BOB, [], None, NOW, hour, 1) == "full"
    assert subscribers.pending("n1") == (ALICE, ["rl"], "Alice")
    assert pending_addresses(backend) == {ALICE: pending_addresses(backend)[ALICE]}
    assert latest_pending(backend, ALICE) is not None

    subscribers.release("n1")  # the email could not be sent: the address may ask again at once
    assert subscribers.pending("n1") is None
    assert subscribers.reserve("n4", ALICE, ["rl"], "Alice", NOW, hour, 2) == "reserved"
    subscribers.complete("n4", ALICE)
    assert subscribers.pending("n4") is None


def test_an_unsubscribe_is_kept_once_and_lifted_by_a_new_subscription(backend: Database) -> None:
    subscribers = Subscribers(backend)
    assert subscribers.unsubscribe(ALICE, "link")
    assert not subscribers.unsubscribe(ALICE, "link")  # idempotent
    assert subscribers.has_left(ALICE)
    assert subscribers.unsubscribed() == {ALICE}
    assert unsubscribes(backend)[ALICE][0] == "link"

    subscribers.add_pending("n1", ALICE, [], None)
    subscribers.complete("n1", ALICE)
    assert not subscribers.has_left(ALICE)


def test_rotated_links_are_valid_only_from_the_rotation_on(backend: Database) -> None:
    subscribers = Subscribers(backend)
    assert subscribers.links_valid_from(ALICE) == 0
    subscribers.rotate_links(ALICE, NOW)
    subscribers.rotate_links(ALICE, NOW + dt.timedelta(hours=1))
    assert subscribers.links_valid_from(ALICE) == int(NOW.timestamp()) + 3601


def test_bounces_add_up_and_mark_their_delivery(backend: Database) -> None:
    Ledger(backend).mark(ALICE, EDITION, "sent", "<a@x>")
    bounces = Bounces(backend)
    assert bounces.record(ALICE, 0.5, "452 full", NOW, 30) == 0.5
    assert bounces.record(ALICE, 1.0, "550 gone", NOW, 30, EDITION) == 1.5

    [score] = bounces.scores(NOW, 30)
    assert (score.address, score.score, score.bounces, score.suppressed) == (ALICE, 1.5, 2, False)
    assert bounces.delivery_of("<a@x>") == (ALICE, EDITION)
    assert bounces.latest_edition(ALICE) == EDITION
    assert BounceFigures(backend).bounced([EDITION.isoformat()]) == {EDITION.isoformat(): 1}
    assert bounces.clear(ALICE)
    assert bounces.scores(NOW, 30) == []


def test_the_edition_archive_keeps_matches_and_reasons(backend: Database) -> None:
    PaperArchive(backend).remember([paper(1), paper(2)])
    Ledger(backend).mark_sent(ALICE, EDITION, "<a@x>", ["2611.00001"])
    reasons = (Reason("keyword", "pretraining", "title"),)
    archive = EditionArchive(backend)
    archive.remember(
        [(ALICE, EDITION.isoformat(), encode_matches([("2611.00002", ()), ("2611.00001", reasons)]))]
    )
    archive.remember(
        [(ALICE, EDITION.isoformat(), encode_matches([("2611.00001", reasons), ("2611.00002", ())]))]
    )

    [edition] = archive.sent_editions(ALICE)
    assert (edition.edition, edition.matched, edition.sent) == (EDITION.isoformat(), 2, 1)
    matches = archive.matches(ALICE, EDITION.isoformat())
    assert [m.paper.id for m in matches] == ["2611.00001", "2611.00002"]
    assert matches[0].reasons == reasons
    assert last_sent(backend) == {ALICE: EDITION.isoformat()}
    assert deliveries_of(backend, ALICE) == [(EDITION.isoformat(), "sent", "")]


def test_the_paper_archive_remembers_and_finds_papers(backend: Database) -> None:
    archive = PaperArchive(backend)
    assert archive.remember([paper(1), paper(2)]) == {"2611.00001", "2611.00002"}
    assert archive.remember([paper(2, "Retitled"), paper(3)]) == {"2611.00003"}

    found = archive.papers_with_ids(["2611.00002", "2611.09999"])
    assert found["2611.00002"].title == "Retitled 2"
    assert found["2611.00002"].abstract == paper(2).abstract  # %, < and & kept as they are
    assert set(archive.latest_ids(10)) == {"2611.00001", "2611.00002", "2611.00003"}
    archive.remember_unknown_to_arxiv(["2611.09999"])
    archive.remember_unknown_to_arxiv(["2611.09999"])
    assert list(archive.unknown_to_arxiv(["2611.09999", "2611.00001"])) == ["2611.09999"]


def test_the_http_cache_and_source_history_keep_the_latest(backend: Database) -> None:
    cache = HttpCache(backend)
    cache.remember("https://example.org/feed", CachedFeed(b"\x00old", '"v1"'))
    cache.remember("https://example.org/feed", CachedFeed(b"\x00\xffnew", '"v2"', "Mon, 16 Nov 2026"))
    assert cache.cached("https://example.org/feed") == CachedFeed(b"\x00\xffnew", '"v2"', "Mon, 16 Nov 2026")
    assert cache.cached("https://example.org/other") is None

    history = SourceHistory(backend)
    assert history.repeats("feed.xml", ["a", "b"], EDITION) is None
    assert history.repeats("feed.xml", ["a", "b"], EDITION + dt.timedelta(days=1)) == EDITION


def test_the_source_log_keeps_the_order_of_fetches(backend: Database) -> None:
    log = SourceLog(backend)
    for error in (None, "HTTP 503", None, "timed out"):  # within one second: their order decides
        log.record([SourceReport("arxiv", "https://example.org/a", papers=3, error=error)], EDITION)

    assert [check.error for check in log.checks(EDITION)] == [None, "HTTP 503", None, "timed out"]
    [health] = log.health(EDITION)
    assert (health.fetches, health.failures, health.last_error) == (4, 2, "timed out")


def test_admin_sessions_start_and_end(backend: Database) -> None:
    sessions = AdminSessions(backend)
    session = sessions.start(dt.timedelta(hours=1))
    assert sessions.is_live(session, dt.timedelta(hours=1))
    sessions.end(session)
    assert not sessions.is_live(session, dt.timedelta(hours=1))


def test_a_transaction_that_fails_leaves_nothing_behind(backend: Database) -> None:
    with pytest.raises(RuntimeError), backend.transaction():
        Ledger(backend).mark(ALICE, EDITION, "sending", "<a@x>")
        raise RuntimeError("the run died here")
    assert Ledger(backend).states(EDITION) == {}


def test_writing_transactions_take_turns(state_location: StateLocation) -> None:
    """Two connections reserving the last sign-up of the hour at once: exactly one gets it."""
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def sign_up(nonce: str, address: str) -> None:
        db = state_location.open()  # a connection per thread, as the web workers have
        barrier.wait()
        outcomes.append(Subscribers(db).reserve(nonce, address, [], None, NOW, dt.timedelta(hours=1), 1))
        db.close()

    state_location.open().close()  # the schema first, so the two only race for the sign-up
    threads = [threading.Thread(target=sign_up, args=pair) for pair in (("n1", ALICE), ("n2", BOB))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["full", "reserved"]


def test_a_transaction_that_is_not_exclusive_keeps_no_writer_out(state_location: StateLocation) -> None:
    """What claiming work in batches will rest on: a reader's transaction lets a writer commit."""
    with closing(state_location.open()) as reader, closing(state_location.open()) as writer:
        with reader.transaction(exclusive=False):
            assert Ledger(reader).states(EDITION) == {}
            with writer.transaction():  # would wait for the reader's commit if it held the write lock
                Ledger(writer).mark(ALICE, EDITION, "sending", "<a@x>")
        assert Ledger(reader).states(EDITION) == {ALICE: "sending"}


def test_a_server_that_is_not_there_is_a_one_line_error_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(
        StateError, match=r"^state database postgresql://digest@127\.0\.0\.1:1/digest: "
    ) as error:
        connect(tmp_path / "digest.sqlite3", url="postgresql://digest:secret@127.0.0.1:1/digest")
    assert "secret" not in str(error.value)


def test_a_state_reconnects_after_the_server_dropped_it(tmp_path: Path, postgres_url: str) -> None:
    """A server restart or fail-over under `digest serve`: the request under way fails in one
    line, and the worker's next request gets a new connection."""
    state = State(tmp_path, "secret", postgres_url)
    first = state.db
    pid = first.execute("SELECT pg_backend_pid()").fetchone()[0]
    with closing(connect(tmp_path / "unused", url=postgres_url)) as admin:
        admin.execute("SELECT pg_terminate_backend(?)", (pid,))
    with pytest.raises(StateError):
        first.execute("SELECT 1")

    assert state.db is not first
    assert state.db.execute("SELECT 1").fetchone() == (1,)
    state.close()
