"""DNS look-ups with deadlines (dnspython), for `digest doctor` and DKIM verification."""

from __future__ import annotations

from collections.abc import Callable

import dns.exception
import dns.resolver

from ..errors import DigestError

DEADLINE = 5.0  # seconds for one look-up, retries included


class LookupFailed(Exception):
    """No answer in time, or a server failure: the record may exist, but nobody said so."""


def make_resolver(nameserver: str | None = None, deadline: float = DEADLINE) -> dns.resolver.Resolver:
    """The system's resolver, or one that asks `nameserver` (`host` or `host:port`) only."""
    if nameserver is None:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration as exc:
            raise DigestError("this system has no DNS resolver configured", "pass --nameserver") from exc
    else:
        host, _, port = nameserver.rpartition(":") if nameserver.count(":") == 1 else (nameserver, "", "")
        resolver = dns.resolver.Resolver(configure=False)
        try:
            resolver.nameservers = [host]
            resolver.port = int(port) if port else 53
        except ValueError as exc:
            raise DigestError(
                f"'{nameserver}' is not a nameserver", "give an IP address, e.g. 9.9.9.9:53"
            ) from exc
    resolver.lifetime = resolver.timeout = deadline
    return resolver


def records(resolver: dns.resolver.Resolver, name: str, kind: str) -> list[str]:
    """The records of `kind` at `name` as text (TXT strings joined); [] when there are none."""
    try:
        answer = resolver.resolve(name, kind)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.Timeout as exc:
        raise LookupFailed(f"no answer within {resolver.lifetime:g} s") from exc
    except dns.exception.DNSException as exc:
        raise LookupFailed(str(exc) or type(exc).__name__) from exc
    if kind == "TXT":
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]
    return [rdata.to_text() for rdata in answer]


def dkim_dnsfunc(resolver: dns.resolver.Resolver) -> Callable[..., bytes]:
    """A look-up function for dkimpy (`dnsfunc`): the TXT record at a name, as bytes."""

    def lookup(name: bytes, timeout: float = DEADLINE) -> bytes:
        try:
            found = records(resolver, name.decode().rstrip("."), "TXT")
        except LookupFailed:
            return b""
        return found[0].encode() if found else b""

    return lookup
