"""Getting the bytes of a listing: local files, or HTTP with timeouts, a deadline and a size cap."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .. import __version__
from ..errors import SourceError

USER_AGENT = f"digest/{__version__} (self-hosted paper newsletter)"


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0  # whole request, however slowly the bytes drip in
    max_bytes: int = 20 * 1024 * 1024


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def fetch(location: str, policy: FetchPolicy = FetchPolicy()) -> bytes:
    """The body at a URL or file path; SourceError says why it could not be had."""
    if is_url(location):
        return _fetch_http(location, policy)
    if "://" in location:
        raise SourceError(f"unsupported URL scheme in '{location}'", "use http(s):// or a file path")
    try:
        return Path(location).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {location}: {exc.strerror or exc}") from exc


def _fetch_http(url: str, policy: FetchPolicy) -> bytes:
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    headers = {"User-Agent": USER_AGENT}
    started = time.monotonic()
    try:
        with (
            httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise SourceError(f"HTTP {response.status_code} {response.reason_phrase} from {url}")
            return _read_body(response, url, policy, started)
    except httpx.TimeoutException as exc:
        raise SourceError(f"timed out fetching {url}") from exc
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {url}: {exc}") from exc


def _read_body(response: httpx.Response, url: str, policy: FetchPolicy, started: float) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > policy.max_bytes:
            raise SourceError(f"{url} sent more than {policy.max_bytes // 1024} KiB; gave up")
        if time.monotonic() - started > policy.deadline:
            raise SourceError(f"{url} took longer than {policy.deadline:.0f} s; gave up")
    return bytes(body)
