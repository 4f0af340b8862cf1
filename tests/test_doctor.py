"""`digest doctor` against a DNS server the test runs on loopback, with good records, broken
ones and none at all, and a real relay on loopback that checks the login."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from digest.cli import main
from digest.config.settings import load_settings
from digest.delivery.dkim import DkimSigner
from digest.models import DkimConfig
from digest.store import Ledger, Subscribers, connect

from .conftest import Site
from .dns_server import DnsServer, dns_serving
from .mail_keys import make_key
from .smtp_relay import Relay, password_check, serving

DOMAIN = "digest.example.net"  # the conftest site's sender domain
LOGIN, PASSWORD = "digest", "correct horse battery"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_key(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def relay() -> Iterator[Relay]:
    checks = password_check(LOGIN, PASSWORD)
    with serving(Relay(require_login=True), authenticator=checks, auth_require_tls=False) as running:
        yield running


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    with dns_serving() as server:
        yield server


def configure(site: Site, relay: Relay, key: Path, password: str = PASSWORD, **changes: Any) -> None:
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    smtp = {
        "host": "127.0.0.1",
        "port": relay.port,
        "security": "none",
        "username": LOGIN,
        "password": password,
    }
    config["delivery"] = {
        "transport": "smtp", "smtp": smtp, "return_path": f"bounces@{DOMAIN}",
        "dkim": {"selector": "d2026", "domain": DOMAIN, "key_file": str(key)},
    }  # fmt: skip
    config["site"].update(changes)
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def publish_good_records(dns_server: DnsServer, key: Path) -> None:
    dns_server.txt(DOMAIN, "v=spf1 mx ip4:192.0.2.10 ~all")
    dns_server.txt(DOMAIN, "google-site-verification=abc")  # another TXT record is no SPF record
    dns_server.txt(*DkimSigner(DkimConfig("d2026", DOMAIN, key)).dns_record())
    dns_server.txt(f"_dmarc.{DOMAIN}", "v=DMARC1; p=quarantine; rua=mailto:dmarc@digest.example.net")
    dns_server.add(DOMAIN, "MX", "10 mx.digest.example.net.")


def doctor(site: Site, dns_server: DnsServer, *options: str) -> Result:
    arguments = ["doctor", "--config", str(site.config), "--nameserver", f"127.0.0.1:{dns_server.port}"]
    return CliRunner().invoke(main, [*arguments, *options], catch_exceptions=False, env={"NO_COLOR": "1"})


def marks(result: Result) -> dict[str, str]:
    """Each check's name → its whole line."""
    return {line[2:].split(":")[0]: line for line in result.output.splitlines() if line[:1] in "✓✗"}


def test_a_well_set_up_site_passes_every_check(
    site: Site, relay: Relay, dns_server: DnsServer, key: Path
) -> None:
    configure(site, relay, key)
    publish_good_records(dns_server, key)

    result = doctor(site, dns_server)

    assert result.exit_code == 0, result.output
    found = marks(result)
    assert list(found) == [
        "SPF",
        "DKIM",
        "DMARC",
        "MX",
        "Return path",
        "HTTPS",
        "SMTP relay",
        "Headers",
        "Complaints",
    ]
    assert all(line.startswith("✓") for line in found.values()), result.output
    assert "9 of 9 checks passed" in result.stderr
    assert f"as {LOGIN}" in found["SMTP relay"]
    assert relay.received == []  # the login was checked, nothing was sent


def test_broken_records_each_fail_with_their_fix(
    site: Site, relay: Relay, dns_server: DnsServer, key: Path, tmp_path: Path
) -> None:
    configure(site, relay, key, password="wrong", base_url="http://digest.example.net")
    dns_server.txt(DOMAIN, "v=spf1 mx ~all")
    dns_server.txt(DOMAIN, "v=spf1 a -all")  # two SPF records: a permanent error for receivers
    other = DkimSigner(DkimConfig("d2026", DOMAIN, make_key(tmp_path, name="other.pem")))
    dns_server.txt(*other.dns_record())  # a key, but not ours

    result = doctor(site, dns_server)

    assert result.exit_code == 1
    found = marks(result)
    assert all(found[name].startswith("✗") for name in ("SPF", "DKIM", "DMARC", "MX", "HTTPS", "SMTP relay"))
    assert "has 2 SPF records" in found["SPF"]
    assert "is not the public half of" in found["DKIM"]
    assert f"_dmarc.{DOMAIN} has no DMARC record" in found["DMARC"]
    assert "has no MX record" in found["MX"]
    assert "refused the login" in found["SMTP relay"]
    assert found["Headers"].startswith("✗") and "lacks an https unsubscribe link" in found["Headers"]
    fixes = [line for line in result.output.splitlines() if line.startswith("    fix: ")]
    assert len(fixes) == 7
    assert f'publish a TXT record at d2026._domainkey.{DOMAIN}: "v=DKIM1; k=rsa; p=' in result.output
    assert "2 of 9 checks passed" in result.stderr


def test_a_dns_server_that_never_answers_fails_each_dns_check_and_says_so(
    site: Site, relay: Relay, dns_server: DnsServer, key: Path
) -> None:
    configure(site, relay, key)
    dns_server.silent = True

    result = doctor(site, dns_server, "--dns-timeout", "0.3")

    assert result.exit_code == 1
    found = marks(result)
    for name in ("SPF", "DKIM", "DMARC", "MX"):
        assert "the DNS did not answer: no answer within 0.3 s" in found[name], result.output
    assert found["SMTP relay"].startswith("✓") and found["Headers"].startswith("✓")


def test_without_dkim_or_a_return_path_doctor_says_what_to_set(
    site: Site, relay: Relay, dns_server: DnsServer, key: Path
) -> None:
    publish_good_records(dns_server, key)
    configure(site, relay, key)
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    del config["delivery"]["dkim"], config["delivery"]["return_path"]
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    result = doctor(site, dns_server)

    found = marks(result)
    assert "delivery.dkim is not set" in found["DKIM"] and found["DKIM"].startswith("✗")
    assert found["Return path"].startswith("✗") and "fix: set delivery.return_path" in result.output


def test_a_nameserver_that_is_not_an_address_is_one_clear_error(site: Site) -> None:
    result = CliRunner().invoke(main, ["doctor", "--config", str(site.config), "--nameserver", "dns.example"])

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 'dns.example' is not a nameserver")


def test_a_complaint_rate_past_three_in_a_thousand_fails(
    site: Site, relay: Relay, dns_server: DnsServer, key: Path
) -> None:
    configure(site, relay, key)
    publish_good_records(dns_server, key)
    state_dir = load_settings(site.config).state_dir
    edition = dt.datetime.now(dt.UTC).date()
    with closing(connect(state_dir / "digest.sqlite3")) as db:
        for number in range(200):
            Ledger(db).mark_sent(f"reader{number}@example.org", edition, f"<{number}@x>", [])
        Subscribers(db).unsubscribe("reader7@example.org", "complaint")

    found = marks(doctor(site, dns_server))

    assert found["Complaints"].startswith("✗")
    assert "1 in 30 days for 200 digests sent (0.50%; receivers act at 0.3%)" in found["Complaints"]
