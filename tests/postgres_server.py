"""A real PostgreSQL server for the tests: initdb in a temporary folder, on a free loopback port.

Debian's server binaries live outside PATH (/usr/lib/postgresql/<version>/bin). PostgreSQL will not
run as root, so as root the cluster belongs to `nobody` and its commands run through setpriv.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUPERUSER = "digest"
UNPRIVILEGED = "nobody"


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's newest versioned one."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    return versions[-1].parent if versions else None


class PostgresServer:
    """One cluster for the whole session; each test gets a database of its own."""

    def __init__(self, binaries: Path, folder: Path, port: int) -> None:
        self.binaries = binaries
        self.folder = folder
        self.port = port
        self.databases = 0

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database's URL."""
        import psycopg

        self.databases += 1
        name = f"test_{self.databases}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def run(self, *command: str) -> None:
        arguments = [str(self.binaries / command[0]), *command[1:]]
        result = subprocess.run(_as_unprivileged(arguments), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise Unavailable(f"{command[0]} failed: {result.stderr.strip()} {tail}")


@contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started server, stopped (and its folder removed) on leaving."""
    binaries = server_binaries()
    if binaries is None:
        raise Unavailable("PostgreSQL's initdb is not installed (Debian: apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="digest-pg-"))  # not under pytest's root-only folder
    try:
        _hand_over(folder)
        server = PostgresServer(binaries, folder, _free_port())
        data = str(folder / "data")
        # Byte order for text, as the README asks of a state database and as SQLite compares.
        server.run(
            "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        options = f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        server.run("pg_ctl", "-D", data, "-o", options, "-l", str(folder / "server.log"), "-w", "start")
        try:
            yield server
        finally:
            server.run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as_unprivileged(arguments: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return arguments
    if shutil.which("setpriv") is None:
        raise Unavailable("running as root, and setpriv is missing to run PostgreSQL as another user")
    user = f"--reuid={UNPRIVILEGED}"
    return ["setpriv", user, f"--regid={_group_of(UNPRIVILEGED)}", "--clear-groups", *arguments]


def _group_of(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


def _hand_over(folder: Path) -> None:
    """As root: the cluster's folder belongs to the user that runs the server."""
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(UNPRIVILEGED)
        os.chown(folder, entry.pw_uid, entry.pw_gid)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
