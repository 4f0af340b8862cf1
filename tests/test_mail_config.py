"""The mail options of digest.yaml: each bad value reported by `digest check` with its key path."""

from __future__ import annotations

from collections.abc import Callable

import yaml
from click.testing import Result

from digest.config.settings import load_settings

from .conftest import Site

Cli = Callable[..., Result]


def write(site: Site, **sections: dict[str, object]) -> None:
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    for name, values in sections.items():
        config.setdefault(name, {}).update(values)
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def test_every_bad_mail_option_is_reported_at_once(site: Site, cli: Cli) -> None:
    write(
        site,
        delivery={"return_path": "not an address"},
        inbound={"lmtp": "8024", "suppress_score": 0, "soft_bounce_weight": 2, "decay_day": 30},
        subscriptions={"sender": "join@"},
    )

    result = cli("check", "--config", site.config)

    assert result.exit_code == 1
    for expected in (
        "delivery.return_path: invalid address",
        "inbound.lmtp: expected host:port, got '8024'",
        "inbound.suppress_score: expected a number from 0.5 to 100, got 0",
        "inbound.soft_bounce_weight: expected a number from 0 to 1, got 2",
        "inbound.decay_day: unknown key",
        "subscriptions.sender: invalid address",
    ):
        assert expected in result.stderr, expected


def test_good_mail_options_are_read(site: Site) -> None:
    write(
        site,
        delivery={"return_path": "bounces@digest.example.net"},
        inbound={"lmtp": "127.0.0.1:8024", "suppress_score": 5, "soft_bounce_weight": 0.25, "decay_days": 14},
    )

    settings = load_settings(site.config)

    assert settings.return_path == "bounces@digest.example.net" and settings.lmtp == "127.0.0.1:8024"
    assert (settings.bounces.suppress_score, settings.bounces.soft_weight, settings.bounces.decay_days) == (
        5.0, 0.25, 14,
    )  # fmt: skip
