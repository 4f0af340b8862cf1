"""Many requests at once over real HTTP: sign-up limits hold, and parallel saves lose nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from digest.config.profiles import load_profiles
from digest.tokens import sign

from .conftest import Site
from .smtp_relay import Relay, at_rcpt
from .test_delivery import use_smtp
from .test_web import Server, serving

PARALLEL = 50


def post_all(web: Server, path: str, forms: list[dict[str, str]]) -> list[httpx.Response]:
    """POST every form at once, each on its own connection."""

    def post(form: dict[str, str]) -> httpx.Response:
        with httpx.Client(base_url=f"http://127.0.0.1:{web.port}", timeout=30) as client:
            return client.post(path, data=form)

    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(post, forms))
    web.mailed()
    return answers


def test_parallel_sign_ups_for_one_address_send_one_confirmation(site: Site, relay: Relay) -> None:
    use_smtp(site, relay.port)
    form = {"email": "victim@example.org", "keywords": "pretraining"}

    with serving(site) as web:
        answers = post_all(web, "/subscribe", [form] * PARALLEL)

    assert [a.status_code for a in answers] == [200] * PARALLEL
    assert len({a.text for a in answers}) == 1  # every answer alike: none tells who was mailed
    assert len(relay.to("victim@example.org")) == 1


def test_the_site_wide_cap_lets_exactly_that_many_through(site: Site, relay: Relay) -> None:
    use_smtp(site, relay.port)
    site.config.write_text(site.config.read_text() + "subscriptions:\n  max_per_hour: 7\n")
    forms = [{"email": f"person{i}@example.org", "keywords": "pretraining"} for i in range(PARALLEL)]

    with serving(site) as web:
        answers = post_all(web, "/subscribe", forms)

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 7 + [429] * (PARALLEL - 7)
    assert len(relay.received) == 7


def test_a_failed_confirmation_frees_its_slot(site: Site, relay: Relay) -> None:
    use_smtp(site, relay.port)
    relay.script("zed@example.org", at_rcpt("550 5.1.1 no such mailbox"))
    form = {"email": "zed@example.org", "keywords": "pretraining"}

    with serving(site) as web:
        post_all(web, "/subscribe", [form])
        assert relay.to("zed@example.org") == []
        post_all(web, "/subscribe", [form])  # the refused mail did not use up the hour

    assert len(relay.to("zed@example.org")) == 1


def test_parallel_manage_saves_keep_one_readable_profile(site: Site) -> None:
    token = sign("test-secret", "manage", "alice@example.org")
    forms = [{"keywords": f"topic {i}\npretraining"} for i in range(PARALLEL)]

    with serving(site) as web:
        answers = post_all(web, f"/manage/{token}", forms)

    assert [a.status_code for a in answers] == [200] * PARALLEL
    profiles, errors = load_profiles(site.profiles)
    assert errors == [] and [p.emails for p in profiles] == [("alice@example.org",)]
    assert profiles[0].keywords[1] == "pretraining"
    left = [p for p in site.profiles.iterdir() if not p.name.startswith(".")]  # .locks is the savers'
    assert left == [site.profiles / "alice.yaml"]  # no temp file left
