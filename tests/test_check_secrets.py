"""A secret is resolved where it is used: commands that never send do not need SMTP_PASSWORD.

`digest check` still names every unset variable with its key path: an error where this
configuration will need it, a warning where it will not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from click.testing import Result

from digest.config.settings import load_settings

from .conftest import Site
from .smtp_relay import Relay, password_check, serving

Cli = Callable[..., Result]

SMTP = {"host": "127.0.0.1", "port": 2525, "security": "none", "username": "digest"}


def use_delivery(site: Site, transport: str, smtp: dict[str, Any]) -> None:
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    config["delivery"] = {"transport": transport, "smtp": smtp, "retry_delay": 0}
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


@pytest.fixture
def no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)


@pytest.mark.usefixtures("no_password")
def test_suppressions_runs_without_the_smtp_password(site: Site, cli: Cli) -> None:
    use_delivery(site, "smtp", {**SMTP, "password": "${SMTP_PASSWORD}"})

    result = cli("suppressions", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert "0 suppressed address(es)" in result.stderr


@pytest.mark.usefixtures("no_password")
def test_check_with_outbox_transport_warns_of_the_unset_password(site: Site, cli: Cli) -> None:
    use_delivery(site, "outbox", {**SMTP, "password": "${SMTP_PASSWORD}"})

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.output
    assert (
        "Warning: environment variable SMTP_PASSWORD is not set (delivery.smtp.password):"
        " needed only when delivery.transport is smtp" in result.stderr
    )


@pytest.mark.usefixtures("no_password")
def test_check_with_smtp_transport_reports_the_unset_password(site: Site, cli: Cli) -> None:
    use_delivery(site, "smtp", {**SMTP, "password": "${SMTP_PASSWORD}"})

    result = cli("check", "--config", site.config)

    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1
    assert errors[0].startswith(f"Error: {site.config}:")
    assert errors[0].endswith(": delivery.smtp.password: environment variable SMTP_PASSWORD is not set")


@pytest.mark.usefixtures("no_password")
def test_the_password_is_looked_for_when_logging_in(site: Site, cli: Cli) -> None:
    checks = password_check("digest", "correct horse battery")
    with serving(Relay(require_login=True), authenticator=checks, auth_require_tls=False) as relay:
        use_delivery(site, "smtp", {**SMTP, "port": relay.port, "password": "${SMTP_PASSWORD}"})
        settings = load_settings(site.config)  # loads: nothing has needed the password yet
        result = cli("run", "--once", "--config", site.config, "--date", "2026-11-16")

    assert settings.smtp is not None and settings.smtp.password is None
    assert result.exit_code == 1
    assert "environment variable SMTP_PASSWORD is not set" in result.stderr
    assert relay.received == []


@pytest.mark.usefixtures("no_password")
def test_every_smtp_connection_variable_waits_until_a_connection(
    site: Site, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_HOST", raising=False)
    monkeypatch.delenv("SMTP_USER", raising=False)
    smtp = {**SMTP, "host": "${SMTP_HOST}", "username": "${SMTP_USER}", "password": "${SMTP_PASSWORD}"}
    use_delivery(site, "smtp", smtp)

    listed = cli("suppressions", "--config", site.config)
    checked = cli("check", "--config", site.config)
    sent = cli("run", "--once", "--config", site.config, "--date", "2026-11-16")

    assert listed.exit_code == 0, listed.output
    errors = [line for line in checked.stderr.splitlines() if line.startswith("Error: ")]
    assert [e.split(": ", 3)[2:] for e in errors] == [
        ["delivery.smtp.host", "environment variable SMTP_HOST is not set"],
        ["delivery.smtp.username", "environment variable SMTP_USER is not set"],
        ["delivery.smtp.password", "environment variable SMTP_PASSWORD is not set"],
    ]
    assert sent.exit_code == 1
    assert "environment variable SMTP_HOST is not set" in sent.stderr
