"""Shared fixtures: a site on disk, the shipped samples, a loopback HTTP server for feeds."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from digest.cli import main
from digest.store import Database, connect

from .postgres_server import PostgresServer, Unavailable, running_server
from .smtp_relay import Relay
from .smtp_relay import serving as serving_relay

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ARXIV_SAMPLE = SAMPLES / "arxiv-cs.CL+cs.LG.xml"
HF_SAMPLE = SAMPLES / "hf-daily-papers.json"
CORPUS = ROOT.parent / "shared" / "corpus" / "feeds"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true", help="Rewrite the golden files in tests/golden.")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))


SITE_CONFIG = """\
site:
  title: Test Digest
  base_url: https://digest.example.net
  sender: "Test Digest <digest@digest.example.net>"
  secret: test-secret
sources:
  - name: arxiv
    url: {arxiv}
  - name: hf
    url: {hf}
delivery:
  transport: outbox
state_dir: var
profiles_dir: profiles
fetch:
  arxiv_api: "off"  # tests reach no network: a test that looks ids up serves the API itself
"""

ALICE = """\
email: alice@example.org
name: Alice
keywords: [pretraining, data selection, instruction tuning, language model]
exclude: [survey]
authors: ["Percy Liang"]
categories: [cs.CL, cs.LG]
"""


@dataclass
class Site:
    """A site folder: config/digest.yaml, profiles/, var/."""

    root: Path
    config: Path
    profiles: Path = field(init=False)

    def __post_init__(self) -> None:
        self.profiles = self.config.parent / "profiles"
        self.profiles.mkdir(parents=True, exist_ok=True)

    def profile(self, name: str, text: str) -> Path:
        path = self.profiles / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    @property
    def outbox(self) -> Path:
        return self.config.parent / "var" / "outbox"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    config = tmp_path / "config" / "digest.yaml"
    config.parent.mkdir()
    config.write_text(SITE_CONFIG.format(arxiv=ARXIV_SAMPLE, hf=HF_SAMPLE), encoding="utf-8")
    made = Site(tmp_path, config)
    made.profile("alice", ALICE)
    return made


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run a digest command in-process; output streams are kept apart."""

    def invoke(*args: str | os.PathLike[str]) -> Result:
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@dataclass
class Reply:
    """One answer: a status, headers, and a body sent at once, byte by byte, or never."""

    status: int = 200
    body: bytes = FEED
    headers: dict[str, str] = field(default_factory=dict)
    drip: float | None = None  # seconds between body bytes
    stall: bool = False  # send the headers, then nothing


class QuietServer(http.server.ThreadingHTTPServer):
    """A loopback server that takes a client hanging up (as fetch tests make it) calmly."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class FeedServer:
    """A real HTTP server on loopback. Each path answers with its replies in turn, the last
    repeating; a reply with an ETag answers 304 to a request that already has it."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []  # header names in lower case
        self.closing = threading.Event()  # lets stalled and dripping handlers end at teardown
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                queue = server.replies.get(self.path, [Reply(404, b"not found")])
                reply = queue.pop(0) if len(queue) > 1 else queue[0]
                etag = reply.headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    reply = Reply(304, b"", {"ETag": etag})
                # The client may give up mid-answer, as it should when the answer is too slow.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    server.answer(self, reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        # A short poll interval so that shutting down takes milliseconds, not half a second.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)

    def answer(self, handler: http.server.BaseHTTPRequestHandler, reply: Reply) -> None:
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        if reply.stall:
            handler.wfile.flush()
            self.closing.wait(10)
        elif reply.drip is not None:
            for byte in reply.body:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                if self.closing.wait(reply.drip):
                    return
        else:
            handler.wfile.write(reply.body)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def script(self, path: str, *replies: Reply) -> str:
        self.replies[path] = list(replies)
        return self.url(path)

    def serve(self, path: str, body: bytes, status: int = 200, **headers: str) -> str:
        return self.script(path, Reply(status, body, headers))

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    server.thread.start()
    yield server
    server.closing.set()
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def two_editions(site: Site, cli: Callable[..., Result]) -> Site:
    """Alice got two editions of two papers each (the sample has more matches than that): what
    the archive and feed tests read back."""
    site.profile("alice", (site.profiles / "alice.yaml").read_text() + "max_papers: 2\n")
    for edition in ("2026-11-16", "2026-11-17"):
        assert cli("run", "--once", "--config", site.config, "--date", edition).exit_code == 0
    return site


@pytest.fixture
def relay() -> Iterator[Relay]:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives; a test module that
    needs another kind (logins, PIPELINING) defines its own."""
    with serving_relay() as running:
        yield running


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (see postgres_server.py). Where none can run, the
    tests that need it skip with the reason, but under CI=true they fail: CI installs it."""
    try:
        with running_server() as server:
            yield server
    except Unavailable as reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must be able to run PostgreSQL (see .ci/run): {reason}")
        pytest.skip(f"no PostgreSQL server here: {reason}")


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database on the session's server."""
    return postgres_server.new_database()


@dataclass(frozen=True)
class StateLocation:
    """Where a test's state database is: the SQLite file, or a PostgreSQL URL (`url`)."""

    path: Path
    url: str | None

    def open(self) -> Database:
        return connect(self.path, create=True, url=self.url)


@pytest.fixture(params=["sqlite", "postgresql"])
def state_location(request: pytest.FixtureRequest, tmp_path: Path) -> StateLocation:
    """A place for a fresh state database, on each engine the store supports."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    return StateLocation(tmp_path / "var" / "digest.sqlite3", url)


@pytest.fixture
def backend(state_location: StateLocation) -> Iterator[Database]:
    """A fresh state database at the current schema, on each engine the store supports."""
    db = state_location.open()
    yield db
    db.close()


# The system's Chromium (Debian's package): playwright's own browser download needs a network the
# tests do not have.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright: Any) -> Any:
    """Headless Chromium for a page test; close it when done."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
    )


def keep_screenshot(page: Any, path: Path, full_page: bool = True) -> None:
    """A screenshot kept for people to look at. On a machine busy with other work, headless
    Chromium now and then answers a capture with "Unable to capture screenshot", an intermittent
    error of its own; asked once more, it takes it."""
    from playwright.sync_api import Error

    try:
        page.screenshot(path=str(path), full_page=full_page)
    except Error as error:
        if "Unable to capture screenshot" not in str(error):
            raise
        page.screenshot(path=str(path), full_page=full_page)
