"""Getting the bytes of a listing: a local file, or HTTP with timeouts, caching, retries and politeness."""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from .. import __version__
from ..errors import SourceError
from ..models import CachedFeed
from .threads import on_calling_thread

USER_AGENT = f"digest/{__version__} (self-hosted paper newsletter)"
MAX_REDIRECTS = 5
# Statuses that mean "not now" rather than "no": rate limits, overload, a sick gateway.
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
# arXiv asks robots for at most one request every few seconds, whichever of its hosts they use.
POLITE_DOMAINS = ("arxiv.org",)
HINTS = {
    400: "the server rejected the request; check the query in the URL",
    401: "the feed needs a login, which digest does not support",
    403: "the server refuses digest; check the URL",
    404: "check the URL",
    410: "the feed is gone; look for its new URL",
}


class FeedCache(Protocol):
    """Where the last body of each URL is kept, with its validators."""

    def cached(self, url: str) -> CachedFeed | None: ...

    def remember(self, url: str, feed: CachedFeed) -> None: ...


class FetchClock(Protocol):
    """Fetching's time: how long it has taken, and waiting (backoff, politeness); tests skip the waits."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemFetchClock:
    """The real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class FetchPolicy:
    """How long one fetch may take, how much it may read, how often it retries."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0  # whole fetch incl. retries and waits; checked between reads
    max_bytes: int = 20 * 1024 * 1024  # after gzip decoding (protects against gzip bombs)
    retries: int = 3  # extra attempts on 429/502/503/504 and failed connections
    backoff: float = 2.0  # first wait in seconds, doubled each time
    max_retry_after: float = 120.0  # a longer Retry-After fails at once
    arxiv_interval: float = 3.0  # at most one request per this many seconds to arxiv.org hosts


@dataclass(frozen=True)
class Fetched:
    """A body, and whether it is the cached one because the server said nothing changed."""

    body: bytes
    not_modified: bool = False


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def fetch(
    location: str,
    policy: FetchPolicy = FetchPolicy(),
    cache: FeedCache | None = None,
    *,
    clock: FetchClock | None = None,
) -> Fetched:
    """The body at a URL or file path; SourceError says why it could not be had."""
    if is_url(location):
        return _Transfer(location, policy, cache, clock or SystemFetchClock()).run()
    if "://" in location:
        scheme = location.partition("://")[0]
        raise SourceError(f"unsupported URL scheme '{scheme}' in {location}", "use http(s):// or a file path")
    return Fetched(_read_file(Path(location), policy.max_bytes))


def _read_file(path: Path, max_bytes: int) -> bytes:
    """A file's bytes, capped as an HTTP body is: a file source may be huge, or /dev/zero."""
    try:
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise SourceError(f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise SourceError(f"{path} is a folder, not a feed file") from exc
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise SourceError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    if len(body) > max_bytes:
        raise SourceError(f"{path} holds more than {_size(max_bytes)}; gave up")
    return body


# When this process last asked each polite domain: shared by all fetches, so that several
# arXiv sources in one run are spaced out too. Times come from the clock of each call.
_last_asked: dict[str, float] = {}
_last_asked_lock = threading.Lock()


def reset_politeness() -> None:
    """Forget when each polite domain was last asked (for tests)."""
    with _last_asked_lock:
        _last_asked.clear()


def _polite_domain(host: str) -> str | None:
    """The rate-limited domain a host belongs to, if any."""
    host = host.lower().rstrip(".")
    return next((d for d in POLITE_DOMAINS if host == d or host.endswith("." + d)), None)


def _polite_wait(host: str, clock: FetchClock, policy: FetchPolicy) -> None:
    """Sleep until this process may ask the host again, and book that moment."""
    domain = _polite_domain(host)
    if domain is None:
        return
    with _last_asked_lock:
        now = clock.monotonic()
        turn = max(now, _last_asked.get(domain, -math.inf) + policy.arxiv_interval)
        # Booked before sleeping, so a concurrent fetch queues behind this one.
        _last_asked[domain] = turn
    if turn > now:
        clock.sleep(turn - now)


@dataclass(frozen=True)
class _Retry:
    """A failed attempt that another may fix: what happened, and the server's Retry-After."""

    problem: str
    after: float | None = None


class _Transfer:
    """One fetch of one URL: its attempts, the waits between them, and its deadline."""

    def __init__(self, url: str, policy: FetchPolicy, cache: FeedCache | None, clock: FetchClock) -> None:
        self.url, self.policy, self.cache, self.clock = url, policy, cache, clock
        # The cache may be a SQLite connection, usable only on the thread that opened it.
        self.cached = on_calling_thread(cache.cached, url) if cache is not None else None
        self.ends = clock.monotonic() + policy.deadline

    def run(self) -> Fetched:
        """The body, after as many attempts as the policy allows."""
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
        with httpx.Client(headers=headers, follow_redirects=False) as client:
            attempt = 1
            while isinstance(outcome := self._attempt(client), _Retry):
                self._wait_to_retry(outcome, attempt)
                attempt += 1
        return outcome

    def _attempt(self, client: httpx.Client) -> Fetched | _Retry:
        """One request; a _Retry where another may go better, SourceError where none will."""
        try:
            with closing(self._send(client)) as response:
                return self._answer(response)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return _Retry(f"cannot connect to {exc.request.url.netloc.decode()}: {_reason(exc)}")
        except httpx.TimeoutException as exc:
            raise self._timeout_error() from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SourceError(f"cannot fetch {self.url}: {_reason(exc)}") from exc

    def _send(self, client: httpx.Client) -> httpx.Response:
        """The response at the end of the redirects; theirs are closed unread, as they may be huge."""
        request = client.build_request("GET", self.url, headers=self._validators())
        for _ in range(MAX_REDIRECTS + 1):
            self._prepare(request)
            response = client.send(request, stream=True)
            if response.next_request is None:
                return response
            response.close()
            request = response.next_request
        raise SourceError(f"more than {MAX_REDIRECTS} redirects from {self.url}; gave up")

    def _validators(self) -> dict[str, str]:
        """The headers that let the server answer 304 when the cached body is still current."""
        headers = {}
        if self.cached is not None and self.cached.etag:
            headers["If-None-Match"] = self.cached.etag
        if self.cached is not None and self.cached.last_modified:
            headers["If-Modified-Since"] = self.cached.last_modified
        return headers

    def _prepare(self, request: httpx.Request) -> None:
        """Space requests to arXiv, then give this one no more time than the deadline leaves."""
        _polite_wait(request.url.host, self.clock, self.policy)
        left = self._left()
        connect, read = min(self.policy.connect_timeout, left), min(self.policy.read_timeout, left)
        request.extensions["timeout"] = httpx.Timeout(read, connect=connect).as_dict()

    def _answer(self, response: httpx.Response) -> Fetched | _Retry:
        """What a response means: the body, the cached body, a reason to retry, or an error."""
        status = response.status_code
        if status == 304 and self.cached is not None:
            return Fetched(self.cached.body, not_modified=True)
        if status in RETRIED_STATUSES:
            return _Retry(self._status(status), _retry_after(response.headers))
        if not 200 <= status < 300:
            # Even when the body parses: arXiv's API wraps its errors in a valid Atom feed.
            raise SourceError(self._status(status), HINTS.get(status))
        body = self._read_body(response)
        if self.cache is not None:
            etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
            on_calling_thread(self.cache.remember, self.url, CachedFeed(body, etag, modified))
        return Fetched(body)

    def _read_body(self, response: httpx.Response) -> bytes:
        """The decoded body, stopped at max_bytes or the deadline, whichever comes first."""
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self.policy.max_bytes:
                raise SourceError(f"{self.url} sent more than {_size(self.policy.max_bytes)}; gave up")
            self._left()
        return bytes(body)

    def _wait_to_retry(self, retry: _Retry, attempt: int) -> None:
        """Sleep before the next attempt, or give up saying why."""
        policy = self.policy
        if attempt > policy.retries:
            raise SourceError(f"{retry.problem} after {attempt} attempts" if attempt > 1 else retry.problem)
        if retry.after is not None and retry.after > policy.max_retry_after:
            limit = f"{policy.max_retry_after:g} s"
            raise SourceError(f"{retry.problem}, asking to retry after {retry.after:g} s (over {limit})")
        wait = policy.backoff * 2 ** (attempt - 1) if retry.after is None else retry.after
        if wait >= self._left():
            deadline = f"{policy.deadline:g} s deadline"
            raise SourceError(f"{retry.problem}; retrying after {wait:g} s would pass the {deadline}")
        self.clock.sleep(wait)

    def _left(self) -> float:
        """Seconds left before the deadline; SourceError when there are none."""
        left = self.ends - self.clock.monotonic()
        if left <= 0:
            raise self._deadline_error()
        return left

    def _timeout_error(self) -> SourceError:
        """A timed-out read: the deadline's doing, or the server's silence."""
        if self.clock.monotonic() >= self.ends:
            return self._deadline_error()
        return SourceError(f"timed out after {self.policy.read_timeout:g} s fetching {self.url}")

    def _deadline_error(self) -> SourceError:
        return SourceError(f"{self.url} took longer than {self.policy.deadline:g} s; gave up")

    def _status(self, status: int) -> str:
        # The standard phrase rather than the server's, which may be empty or odd.
        phrase = httpx.codes.get_reason_phrase(status)
        return f"HTTP {status} {phrase} from {self.url}" if phrase else f"HTTP {status} from {self.url}"


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asks us to wait, from delta-seconds or an HTTP-date, if it says."""
    value = headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    # Measured against the server's own Date, so that our clock's error does not count.
    now = _http_date(headers.get("Date", "")) or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _http_date(value: str) -> dt.datetime | None:
    """An HTTP-date as an aware datetime, or None if it is not one."""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _reason(exc: Exception) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _size(count: int) -> str:
    """A byte count as people say it: 20 MiB, 512 KiB, 1000 bytes."""
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:g} {unit}"
    return f"{count} bytes"
