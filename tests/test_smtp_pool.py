"""SMTP over several connections at once, pipelined: every recipient's outcome still exact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.smtp_sink import Sink  # the benchmark's sink, which sees how commands arrive

from .conftest import Site
from .smtp_relay import HANG_UP_MID_DATA, Relay, at_data, at_rcpt, serving
from .test_delivery import ALICE, BOB, CAROL, Cli, run, states, subscribe, tally, use_smtp

DAVE, ERIN = "dave@example.org", "erin@example.org"
MANY = [f"r{n:02}@example.org" for n in range(24)]


@pytest.fixture
def relay() -> Iterator[Relay]:
    with serving(Relay(pipelining=True)) as running:
        yield running


def test_many_messages_over_four_pipelined_connections_each_once(site: Site, cli: Cli, relay: Relay) -> None:
    subscribe(site, "many", *MANY)
    use_smtp(site, relay.port, connections=4)

    result = run(cli, site)

    assert result.exit_code == 0, result.stderr
    assert sorted(r.recipient for r in relay.received) == sorted([ALICE, *MANY])  # once each
    assert 1 <= relay.connections <= 4
    assert set(states(site).values()) == {"sent"}


def test_refusals_are_each_recipients_own_when_pipelined(site: Site, cli: Cli, relay: Relay) -> None:
    subscribe(site, "group", BOB, CAROL, DAVE, ERIN, *MANY[:8])
    use_smtp(site, relay.port, connections=4)
    relay.script(BOB, at_rcpt("550 5.1.1 no such mailbox"))  # the relay then refuses its DATA too
    relay.script(CAROL, at_data("554 5.7.1 message refused as spam"))
    relay.script(DAVE, at_rcpt("451 4.3.0 try again later"))  # deferred, then sent by the retry

    result = run(cli, site)

    ledger = states(site)
    assert ledger[BOB] == "failed" and ledger[CAROL] == "failed"
    assert "bob@example.org: SMTP 550 5.1.1 no such mailbox (at RCPT)" in result.stderr
    assert "carol@example.org: SMTP 554 5.7.1 message refused as spam (at end of DATA)" in result.stderr
    others = [ALICE, DAVE, ERIN, *MANY[:8]]
    assert all(ledger[a] == "sent" and len(relay.to(a)) == 1 for a in others)  # replies stayed in step
    assert relay.to(BOB) == [] and relay.to(CAROL) == []
    assert tally(result, "sent", "failed") == (len(others), 2)


def test_a_connection_dropped_mid_message_is_uncertain_and_the_rest_go_on(
    site: Site, cli: Cli, relay: Relay
) -> None:
    subscribe(site, "group", BOB, CAROL, DAVE, ERIN)
    use_smtp(site, relay.port, connections=4)
    relay.script(BOB, HANG_UP_MID_DATA)  # the whole message arrived; the answer never does

    first = run(cli, site)
    again = run(cli, site)

    assert states(site)[BOB] == "uncertain" and len(relay.to(BOB)) == 1  # arrived; never resent
    assert tally(first, "sent", "uncertain") == (4, 1)
    assert all(len(relay.to(a)) == 1 for a in (ALICE, CAROL, DAVE, ERIN))
    assert tally(again, "sent") == (0,)


@pytest.mark.parametrize("pipelining", [True, False])
def test_mail_rcpt_and_data_go_in_one_write_only_where_the_relay_offers_pipelining(
    site: Site, cli: Cli, pipelining: bool
) -> None:
    sink = Sink(pipelining=pipelining).start()
    subscribe(site, "group", BOB, CAROL)
    use_smtp(site, sink.port, connections=2)
    try:
        result = run(cli, site)
    finally:
        sink.close()

    assert result.exit_code == 0, result.stderr
    assert sink.messages == 3
    together = [b"MAIL", b"RCPT", b"DATA"]
    assert sink.batches.count(together) == (3 if pipelining else 0)
    assert (sink.batches.count([b"DATA"]) == 3) is not pipelining
