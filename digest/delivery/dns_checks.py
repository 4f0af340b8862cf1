"""The DNS records receivers look at before they trust bulk mail: SPF, DKIM, DMARC and MX.

Each check asks the DNS (with a deadline) and says what it found and, when it fails, which
record to publish. A server that does not answer fails the check with that reason.
"""

from __future__ import annotations

from collections.abc import Callable

import dns.resolver

from ..errors import DkimError
from ..models import DkimConfig, MailCheck
from .dkim import DkimSigner, public_key_base64, public_key_of_record
from .dns_lookup import LookupFailed, records

Resolver = dns.resolver.Resolver


def asked(name: str, check: Callable[[], MailCheck]) -> MailCheck:
    """`check()`, or a failed check when the DNS did not answer."""
    try:
        return check()
    except LookupFailed as error:
        return MailCheck(
            name, False, f"the DNS did not answer: {error}", "check the resolver (or --nameserver)"
        )


def spf(resolver: Resolver, domain: str) -> MailCheck:
    """The envelope sender's domain publishes one SPF record that does not allow everyone."""

    def check() -> MailCheck:
        found = [r for r in records(resolver, domain, "TXT") if r.lower().startswith("v=spf1")]
        fix = f'publish one TXT record at {domain}: "v=spf1 mx include:<your relay\'s SPF domain> ~all"'
        if not found:
            return MailCheck("SPF", False, f"{domain} has no SPF record", fix)
        if len(found) > 1:
            return MailCheck(
                "SPF", False, f"{domain} has {len(found)} SPF records; receivers reject that", fix
            )
        if found[0].split()[-1] in ("+all", "all"):
            return MailCheck("SPF", False, f"{domain}'s SPF record allows anyone: {found[0]}", fix)
        return MailCheck("SPF", True, f"{domain}: {found[0]}")

    return asked("SPF", check)


def dkim_key(resolver: Resolver, config: DkimConfig | None, from_domain: str) -> MailCheck:
    """The selector's published key is the public half of the configured private key."""
    if config is None:
        fix = "make a key and set delivery.dkim (see the README); `digest check` prints its record"
        return MailCheck("DKIM", False, "delivery.dkim is not set: digests go out unsigned", fix)
    try:
        signer = DkimSigner(config)
    except DkimError as error:
        return MailCheck("DKIM", False, str(error), error.hint)
    if from_domain != config.domain and not from_domain.endswith("." + config.domain):
        fix = f"sign with the From's domain {from_domain} (or a parent of it)"
        return MailCheck(
            "DKIM", False, f"d={config.domain} is not aligned with the From's {from_domain}", fix
        )
    name, value = signer.dns_record()

    def check() -> MailCheck:
        published = [public_key_of_record(r) for r in records(resolver, name, "TXT")]
        fix = f'publish a TXT record at {name}: "{value}"'
        if not published:
            return MailCheck("DKIM", False, f"no key is published at {name}", fix)
        if public_key_base64(signer.key) not in published:
            return MailCheck(
                "DKIM", False, f"the key at {name} is not the public half of {config.key_file}", fix
            )
        return MailCheck("DKIM", True, f"{name} publishes the key of {config.key_file.name}")

    return asked("DKIM", check)


def dmarc(resolver: Resolver, domain: str) -> MailCheck:
    """A DMARC policy at _dmarc.<From domain>, or at its parent (the organisational domain)."""

    def check() -> MailCheck:
        for candidate in _self_and_parent(domain):
            found = [r for r in records(resolver, f"_dmarc.{candidate}", "TXT") if r.startswith("v=DMARC1")]
            if found:
                return MailCheck("DMARC", True, f"_dmarc.{candidate}: {found[0]}")
        fix = f'publish a TXT record at _dmarc.{domain}: "v=DMARC1; p=none; rua=mailto:dmarc@{domain}"'
        return MailCheck("DMARC", False, f"_dmarc.{domain} has no DMARC record", fix)

    return asked("DMARC", check)


def mx(resolver: Resolver, domain: str) -> MailCheck:
    """Mail to the return path's domain can arrive: bounces and complaints come back there."""

    def check() -> MailCheck:
        found = records(resolver, domain, "MX")
        if not found or found == ["0 ."]:
            fix = f"publish an MX record for {domain} pointing at the server that runs `digest inbound`"
            return MailCheck("MX", False, f"{domain} has no MX record: bounces cannot come back", fix)
        return MailCheck("MX", True, f"{domain}: {', '.join(sorted(found))}")

    return asked("MX", check)


def _self_and_parent(domain: str) -> list[str]:
    labels = domain.split(".")
    return [domain, ".".join(labels[1:])] if len(labels) > 2 else [domain]
