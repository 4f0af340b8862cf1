"""DKIM signatures and VERP return paths on digests sent over SMTP, checked the way a receiver
checks them: dkimpy fetches the public key from a DNS server the test runs on loopback."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import dkim
import pytest
import yaml
from click.testing import Result
from dkim import crypto

from digest.config.settings import load_settings
from digest.delivery.dkim import DkimSigner, openssl_sign
from digest.delivery.dns_lookup import dkim_dnsfunc
from digest.models import DkimConfig
from digest.pipeline.composing import MIN_PARALLEL
from digest.store import Bounces, connect
from digest.tokens import return_path_address, return_path_edition

from .conftest import ROOT, Site
from .dns_server import DnsServer, dns_serving
from .mail_keys import make_key
from .smtp_relay import Relay

Cli = Callable[..., Result]
TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_key(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    with dns_serving() as server:
        yield server


def configure(site: Site, port: int, **delivery: Any) -> None:
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    server = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 10}
    config["delivery"] = {"transport": "smtp", "smtp": server, "retry_delay": 0, **delivery}
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def publish(dns_server: DnsServer, key: Path) -> None:
    name, value = DkimSigner(DkimConfig("d2026", "digest.example.net", key)).dns_record()
    dns_server.txt(name, value)


def test_a_digest_over_smtp_carries_a_signature_that_verifies_and_a_verp_return_path(
    site: Site, cli: Cli, relay: Relay, dns_server: DnsServer, key: Path
) -> None:
    dkim_config = {"selector": "d2026", "domain": "digest.example.net", "key_file": str(key)}
    configure(site, relay.port, dkim=dkim_config, return_path="bounces@digest.example.net")
    publish(dns_server, key)

    result = cli("run", "--once", "--config", site.config, "--date", TODAY.isoformat())

    assert result.exit_code == 0, result.stderr
    [got] = relay.received
    assert dkim.verify(got.data, dnsfunc=dkim_dnsfunc(dns_server.resolver()))
    signature = got.message["DKIM-Signature"]
    tags = dict(part.strip().partition("=")[::2] for part in signature.split(";"))
    assert tags["a"] == "rsa-sha256" and tags["c"] == "relaxed/relaxed"
    assert tags["d"] == "digest.example.net" and tags["s"] == "d2026"
    signed = {name.strip().lower() for name in "".join(tags["h"].split()).split(":")}
    wanted = "from to subject date message-id list-id list-unsubscribe list-unsubscribe-post"
    assert set(wanted.split()) <= signed
    assert got.message.get_all("DKIM-Signature") and len(got.message.get_all("DKIM-Signature")) == 1
    # The return path names the recipient and edition; the From stays the site's sender.
    token = re.fullmatch(r"bounces\+(\d{8}-[0-9a-f]{20})@digest\.example\.net", got.sender)
    assert token, got.sender
    assert got.message["From"] == "Test Digest <digest@digest.example.net>"
    state_db = load_settings(site.config).state_dir / "digest.sqlite3"
    with closing(connect(state_db)) as db:
        edition = return_path_edition(token.group(1), TODAY)
        candidates = Bounces(db).recipients(edition)
    assert return_path_address("test-secret", token.group(1), candidates, edition) == "alice@example.org"


def test_a_changed_signed_header_or_a_wrong_published_key_fails_verification(
    tmp_path: Path, dns_server: DnsServer, key: Path
) -> None:
    signer = DkimSigner(DkimConfig("d2026", "digest.example.net", key))
    message = (
        b"From: Test Digest <digest@digest.example.net>\r\nTo: alice@example.org\r\n"
        b"Subject: Papers\r\nList-Unsubscribe: <https://digest.example.net/unsubscribe/x>\r\n\r\nHello\r\n"
    )
    signed = signer.sign(message)
    publish(dns_server, key)
    lookup = dkim_dnsfunc(dns_server.resolver())

    assert dkim.verify(signed, dnsfunc=lookup)
    assert not dkim.verify(signed.replace(b"unsubscribe/x", b"unsubscribe/y"), dnsfunc=lookup)
    other = DkimSigner(DkimConfig("other", "digest.example.net", make_key(tmp_path, name="other.pem")))
    dns_server.txt(*other.dns_record())
    assert not dkim.verify(signed.replace(b"s=d2026", b"s=other"), dnsfunc=lookup)


def test_check_says_which_txt_record_to_publish(site: Site, cli: Cli, key: Path) -> None:
    dkim_config = {"selector": "d2026", "domain": "digest.example.net", "key_file": str(key)}
    configure(site, 25, dkim=dkim_config)

    result = cli("check", "--config", site.config)

    assert result.exit_code == 0, result.stderr
    name, value = DkimSigner(DkimConfig("d2026", "digest.example.net", key)).dns_record()
    assert f"DKIM: publish a TXT record at {name}:" in result.output
    assert value in result.output


def test_check_refuses_a_short_key_or_one_that_is_not_a_key(site: Site, cli: Cli, tmp_path: Path) -> None:
    short = make_key(tmp_path, bits=1024, name="short.pem")
    configure(site, 25, dkim={"selector": "d2026", "domain": "digest.example.net", "key_file": str(short)})

    result = cli("check", "--config", site.config)

    assert result.exit_code == 1
    assert "the DKIM key has 1024 bits; receivers want at least 2048" in result.stderr

    (tmp_path / "junk.pem").write_text("not a key\n")
    configure(site, 25, dkim={"selector": "d2026", "domain": "digest.example.net", "key_file": "../junk.pem"})
    result = cli("check", "--config", site.config)

    assert result.exit_code == 1
    assert "not an RSA private key in PEM form" in result.stderr


def test_a_dkim_section_missing_keys_is_reported_with_its_key_path(site: Site, cli: Cli) -> None:
    configure(site, 25, dkim={"selector": "d2026", "key_fil": "dkim.pem"})

    result = cli("check", "--config", site.config)

    assert result.exit_code == 1
    assert "delivery.dkim.domain: missing required key" in result.stderr
    assert "delivery.dkim.key_fil: unknown key" in result.stderr


def test_a_confirmation_is_signed_too_and_comes_from_its_own_sender(
    site: Site, cli: Cli, dns_server: DnsServer, key: Path
) -> None:
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    config["delivery"]["dkim"] = {"selector": "d2026", "domain": "digest.example.net", "key_file": str(key)}
    config["subscriptions"] = {"sender": "Test Digest sign-ups <join@digest.example.net>"}
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    publish(dns_server, key)

    result = cli("subscribe", "zed@example.org", "--keyword", "pretraining", "--config", site.config)

    assert result.exit_code == 0, result.stderr
    data = (site.outbox / "confirmations" / "zed@example.org.eml").read_bytes()
    assert dkim.verify(data, dnsfunc=dkim_dnsfunc(dns_server.resolver()))
    assert b"\r\nFrom: Test Digest sign-ups <join@digest.example.net>\r\n" in data


def test_signing_only_prepends_a_header_and_the_message_bytes_stay_as_built(key: Path) -> None:
    signer = DkimSigner(DkimConfig("d2026", "digest.example.net", key))
    built = b"From: Test Digest <digest@digest.example.net>\r\nSubject: Papers\r\n\r\nline one=\r\n two\r\n"

    signed = signer.sign(built)

    assert signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert signed.endswith(b"\r\n" + built) and signed.count(b"DKIM-Signature:") == 1


def test_digests_composed_in_workers_come_signed_to_the_outbox(
    site: Site, dns_server: DnsServer, key: Path
) -> None:
    """Signing happens where a digest is composed (the workers, on every core); every message
    handed over carries one signature, and it verifies."""
    addresses = [f"p{n:03}@example.org" for n in range(MIN_PARALLEL + 20)]
    for address in addresses:
        site.profile(address[:4], f"email: {address}\nkeywords: [language model]\nmax_papers: 1\n")
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    config["delivery"] = {
        "transport": "outbox",
        "dkim": {"selector": "d2026", "domain": "digest.example.net", "key_file": str(key)},
    }
    site.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    publish(dns_server, key)
    command = [sys.executable, "-m", "digest", "run", "--once", "--config", str(site.config)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)  # forks workers
    assert done.returncode == 0, done.stderr

    [folder] = (site.config.parent / "var" / "outbox").iterdir()
    messages = sorted(folder.glob("*.eml"))
    assert len(messages) == len(addresses) + 1
    resolve = dkim_dnsfunc(dns_server.resolver())
    for path in messages:
        data = path.read_bytes()
        assert data.count(b"DKIM-Signature:") == 1, path.name
        assert dkim.verify(data, dnsfunc=resolve), path.name


def test_openssl_signs_the_bytes_dkimpy_would_and_an_unknown_key_goes_dkimpys_way(
    key: Path, tmp_path: Path
) -> None:
    digest = hashlib.sha256(b"the canonical headers, as dkimpy hashes them")
    loaded = crypto.parse_pem_private_key(DkimSigner(DkimConfig("d2026", "digest.example.net", key)).key)
    other = crypto.parse_pem_private_key(make_key(tmp_path).read_bytes())  # no signer loaded it

    for parsed in (loaded, other):
        assert openssl_sign(digest, parsed) == bytes(crypto.RSASSA_PKCS1_v1_5_sign(digest, parsed))
