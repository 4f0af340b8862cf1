"""`digest run` sends edition D to the profiles due on D: daily ones always, weekly ones on their weekday."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path

import pytest

from digest.models import Profile
from digest.pipeline.due import due_on
from digest.serve.slots import slot_of

from .conftest import Site

WEEKLY = "email: wendy@example.org\nkeywords: [quokka, language model]\nfrequency: weekly\nweekday: friday\n"
MONDAY, TUESDAY, THURSDAY, FRIDAY = "2026-11-16", "2026-11-17", "2026-11-19", "2026-11-20"
WEEK_FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>week</title><link>https://example.org/</link>
<item><title>Counting quokkas from the air</title><link>https://example.org/papers/quokka</link>
<description>We count quokkas on Rottnest Island with drones.</description></item>
</channel></rss>
"""


def sent_to(site: Site, edition: str) -> list[str]:
    folder = site.outbox / edition
    return sorted(p.stem for p in folder.iterdir()) if folder.exists() else []


def test_a_weekly_friday_profile_is_mailed_on_fridays_only(site: Site, cli) -> None:
    site.profile("wendy", WEEKLY)

    for day in (MONDAY, TUESDAY, THURSDAY, FRIDAY):
        result = cli("run", "--config", site.config, "--date", day)
        assert result.exit_code == 0, result.stderr

    assert "wendy@example.org" not in sent_to(site, MONDAY) + sent_to(site, TUESDAY) + sent_to(site, THURSDAY)
    assert "alice@example.org" in sent_to(site, MONDAY)  # daily profiles are due every day
    assert "wendy@example.org" in sent_to(site, FRIDAY)


def test_the_friday_digest_holds_the_papers_archived_during_the_week(site: Site, cli, tmp_path: Path) -> None:
    site.profile("wendy", WEEKLY.replace("quokka, language model", "quokka"))
    week_feed = tmp_path / "week.xml"
    week_feed.write_text(WEEK_FEED, encoding="utf-8")
    assert cli("fetch", "--config", site.config, "--source", week_feed).exit_code == 0  # archived on Tuesday

    result = cli("run", "--once", "--config", site.config, "--date", FRIDAY)  # --once is still accepted

    assert result.exit_code == 0, result.stderr
    raw = (site.outbox / FRIDAY / "wendy@example.org.eml").read_bytes()
    text = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",))
    assert text is not None and "on Rottnest Island with drones" in text.get_content()


@pytest.mark.parametrize(
    ("frequency", "weekday"), [(None, None), ("daily", None), ("weekly", None), ("weekly", "friday")]
)
def test_run_and_serve_share_one_due_rule(frequency: str | None, weekday: str | None) -> None:
    profile = Profile("p.yaml", ("p@example.org",), ("x",), frequency=frequency, weekday=weekday)
    slot = slot_of(profile, "UTC", "07:00", weekdays_only=False)

    for offset in range(7):
        day = dt.date(2026, 11, 16) + dt.timedelta(days=offset)
        assert slot.runs_on(day) == due_on(profile, day), (frequency, weekday, day)
