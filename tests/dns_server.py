"""A real DNS server on loopback (UDP), answering from a dict of records; dnspython builds and
parses the wire messages. Names it does not know get NXDOMAIN; `silent` makes it answer nothing
at all, as a dead server does."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset


class DnsServer:
    """Records: (name, type) → values in zone-file text, ("example.org", "MX") → ["10 mx.example.org."]."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.silent = False
        self.queries: list[str] = []
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._lock = threading.Lock()
        self._stopping = False

    def add(self, name: str, kind: str, *values: str) -> None:
        with self._lock:
            self.records.setdefault((name.lower().rstrip("."), kind), []).extend(values)

    def txt(self, name: str, text: str) -> None:
        """A TXT record; long text split into 255-byte strings, as DNS requires."""
        chunks = [text[i : i + 250] for i in range(0, len(text), 250)]
        self.add(name, "TXT", " ".join(f'"{chunk}"' for chunk in chunks))

    def resolver(self, lifetime: float = 2.0) -> dns.resolver.Resolver:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        resolver.lifetime = resolver.timeout = lifetime
        return resolver

    def _serve(self) -> None:
        while True:
            data, peer = self.socket.recvfrom(4096)
            if self._stopping:
                return
            reply = self._answer(data)
            if reply is not None:
                self.socket.sendto(reply, peer)

    def _answer(self, data: bytes) -> bytes | None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        kind = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self.queries.append(f"{name} {kind}")
            if self.silent:
                return None
            values = list(self.records.get((name, kind), []))
            known = any(key[0] == name for key in self.records)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if values:
            response.answer.append(dns.rrset.from_text_list(question.name, 300, "IN", kind, values))
        elif not known:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    def close(self) -> None:
        """Wake the serving thread with one last datagram, wait for it, then close."""
        self._stopping = True
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as waker:
            waker.sendto(b"stop", ("127.0.0.1", self.port))
        self._thread.join(timeout=5)
        self.socket.close()


@contextmanager
def dns_serving() -> Iterator[DnsServer]:
    server = DnsServer()
    server._thread.start()
    try:
        yield server
    finally:
        server.close()
