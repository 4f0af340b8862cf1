"""End to end: preview and run over the shipped samples, the ledger, sources that fail."""

from __future__ import annotations

import datetime as dt
import email
import json
import re
import sqlite3
from contextlib import closing
from email import policy
from pathlib import Path

import pytest

from digest.config.settings import load_settings
from digest.pipeline.preview import preview
from digest.store import Ledger, connect

from .conftest import ARXIV_SAMPLE, HF_SAMPLE, ROOT, FeedServer, Site

NOW = dt.datetime(2026, 11, 16, 7, 30, tzinfo=dt.UTC)
EDITION = dt.date(2026, 11, 16)
GOLDEN = Path(__file__).parent / "golden"


def read_eml(path: Path) -> email.message.EmailMessage:
    with path.open("rb") as handle:
        return email.message_from_binary_file(handle, policy=policy.default)  # type: ignore[return-value]


def blank_volatile(eml: str) -> str:
    """Headers that change on every render, blanked as rss2email's tests do."""
    eml = re.sub(r"^Date: .*$", "Date: <blanked>", eml, flags=re.MULTILINE)
    return re.sub(r"={15}\d+==", "<boundary>", eml)


def test_preview_matches_golden_files(site: Site, tmp_path: Path, regen_golden: bool) -> None:
    settings = load_settings(site.config)
    result = preview(settings, site.profiles / "alice.yaml", tmp_path / "out", edition=EDITION, now=NOW)

    rendered = {path.suffix: path.read_bytes().decode() for path in result.files}
    rendered[".eml"] = blank_volatile(rendered[".eml"])
    for suffix, text in rendered.items():
        golden = GOLDEN / f"alice{suffix}"
        if regen_golden:
            golden.write_bytes(text.encode())
        expected = golden.read_bytes().decode()
        assert text == expected, f"{golden.name} differs; run pytest --regen-golden if that is intended"


def test_preview_writes_three_files_and_records_nothing(site: Site, cli, tmp_path: Path) -> None:
    out = tmp_path / "preview"
    result = cli("preview", site.profiles / "alice.yaml", "--config", site.config, "--out", out)

    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["alice.eml", "alice.html", "alice.txt"]
    assert not site.outbox.exists()
    db = connect(site.config.parent / "var" / "digest.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM deliveries").fetchone() == (0,)


def test_message_is_multipart_alternative_with_list_headers(site: Site, tmp_path: Path) -> None:
    settings = load_settings(site.config)
    result = preview(settings, site.profiles / "alice.yaml", tmp_path, edition=EDITION, now=NOW)
    message = read_eml(result.files[2])

    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == "Alice <alice@example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (u.strip(" <>") for u in message["List-Unsubscribe"].split(","))
    assert https.startswith("https://digest.example.net/unsubscribe/")
    assert mailto.startswith("mailto:digest@digest.example.net?subject=unsubscribe")
    again = preview(settings, site.profiles / "alice.yaml", tmp_path / "again", edition=EDITION, now=NOW)
    assert read_eml(again.files[2])["Message-ID"] == message["Message-ID"]


def test_two_runs_of_one_edition_write_one_message_per_subscriber(site: Site, cli) -> None:
    site.profile("bob", "email: [bob@example.org, carol@example.org]\nkeywords: [language model]\n")
    args = ("run", "--once", "--config", site.config, "--date", "2026-11-16")

    first, second = cli(*args), cli(*args)

    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    messages = sorted(p.name for p in (site.outbox / "2026-11-16").iterdir())
    assert messages == ["alice@example.org.eml", "bob@example.org.eml", "carol@example.org.eml"]
    assert "3 sent" in first.stderr
    assert "0 sent" in second.stderr and "3 already sent" in second.stderr


def test_a_later_edition_never_repeats_a_paper(site: Site, cli) -> None:
    assert cli("run", "--once", "--config", site.config, "--date", "2026-11-16").exit_code == 0

    later = cli("run", "--once", "--config", site.config, "--date", "2026-11-17")

    assert "0 sent" in later.stderr and "1 with no match" in later.stderr
    assert not (site.outbox / "2026-11-17").exists()


def test_dry_run_sends_and_records_nothing(site: Site, cli) -> None:
    result = cli("run", "--once", "--dry-run", "--config", site.config)

    assert result.exit_code == 0
    assert "Edition" in result.stderr and "would send 1 message (dry run: nothing sent" in result.stderr
    assert "0 sent" not in result.stderr and "1 sent" not in result.stderr  # nothing was
    assert not site.outbox.exists()
    with closing(sqlite3.connect(site.outbox.parent / "digest.sqlite3")) as db:
        assert db.execute("SELECT count(*) FROM deliveries").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM edition_papers").fetchone() == (0,)
    assert cli("run", "--once", "--config", site.config).stderr.count("1 sent") == 1


def test_url_source_from_loopback_server(site: Site, cli, feed_server: FeedServer) -> None:
    url = feed_server.serve(
        "/rss/cs.CL+cs.LG", ARXIV_SAMPLE.read_bytes(), **{"Content-Type": "application/rss+xml"}
    )

    result = cli("fetch", "--json", "--config", site.config, "--source", url)

    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 12  # 14 items less one replace and one replace-cross
    assert feed_server.requests[0][1]["user-agent"].startswith("digest/")


def test_failing_source_is_reported_and_the_others_go_on(site: Site, cli, feed_server: FeedServer) -> None:
    broken = feed_server.serve("/broken", b"oops", status=500)

    result = cli("run", "--once", "--config", site.config, "--source", broken, "--source", HF_SAMPLE)

    assert result.exit_code == 0
    assert re.search(r"^Error: source 127\.0\.0\.1:\d+/broken: HTTP 500", result.stderr, re.MULTILINE)
    body = read_eml(next(site.outbox.glob("*/alice@example.org.eml"))).get_body(("plain",))
    assert "Finetuned *Language Models* Are Zero-Shot Learners" in body.get_content()
    assert 'Source "127.0.0.1' in body.get_content()
    assert (
        cli(
            "run",
            "--once",
            "--strict",
            "--config",
            site.config,
            "--source",
            broken,
            "--date",
            "2026-01-01",
        ).exit_code
        == 1
    )


def test_all_sources_failing_sends_nothing_and_exits_1(site: Site, cli, feed_server: FeedServer) -> None:
    result = cli(
        "run",
        "--once",
        "--config",
        site.config,
        "--source",
        feed_server.serve("/down", b"", status=500),
    )

    assert result.exit_code == 1
    assert "HTTP 500" in result.stderr
    assert not site.outbox.exists()


def test_shipped_config_and_profile_pass_check_from_the_project_folder(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)

    result = cli("check")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK: config/digest.yaml and 1 profile(s)")


def test_fetch_and_preview_exit_1_when_every_source_failed(
    site: Site, cli, feed_server: FeedServer, tmp_path: Path
) -> None:
    down = feed_server.serve("/down", b"", status=500)

    fetched = cli("fetch", "--config", site.config, "--source", down)
    previewed = cli(
        "preview", site.profiles / "alice.yaml", "--config", site.config, "--source", down, "--out", tmp_path
    )

    assert fetched.exit_code == 1 and "Error: every source failed" in fetched.stderr
    assert previewed.exit_code == 1 and "would send nothing" in previewed.stderr
    assert len(list(tmp_path.glob("alice.*"))) == 3  # the layout can still be checked offline


def test_a_message_caught_mid_hand_over_is_reported_uncertain_not_resent(site: Site, cli) -> None:
    db = connect(site.config.parent / "var" / "digest.sqlite3")
    Ledger(db).mark(
        "alice@example.org", EDITION, "sending", "<crashed@digest.example.net>"
    )  # a run killed here
    db.close()

    result = cli("run", "--once", "--config", site.config, "--date", "2026-11-16")

    assert "0 sent" in result.stderr and "1 uncertain" in result.stderr
    assert (
        "Warning: uncertain, not resent: alice@example.org: a run stopped while handing it over"
        in result.stderr
    )
    assert not site.outbox.exists()


def test_second_fetch_is_a_conditional_get_and_knows_what_is_new(
    site: Site, cli, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/rss", ARXIV_SAMPLE.read_bytes(), ETag='"v1"')

    first = cli("fetch", "--json", "--config", site.config, "--source", url)
    second = cli("fetch", "--json", "--config", site.config, "--source", url)

    assert "14 items, 12 kept, 12 new, 2 skipped" in first.stderr
    assert "14 items, 12 kept, 0 new, 2 skipped (unchanged since the last fetch)" in second.stderr
    assert feed_server.requests[1][1]["if-none-match"] == '"v1"'
    assert second.stdout == first.stdout


def test_replacements_can_be_included(site: Site, cli) -> None:
    site.config.write_text(
        site.config.read_text().replace("fetch:\n", "fetch:\n  include_replacements: true\n")
    )

    result = cli("fetch", "--json", "--config", site.config, "--source", ARXIV_SAMPLE)

    kinds = [json.loads(line)["announce_type"] for line in result.stdout.splitlines()]
    assert sorted(set(kinds)) == ["cross", "new", "replace", "replace-cross"]
