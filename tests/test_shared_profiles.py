"""Profiles on shared storage: votes from several processes at once are all kept, under a POSIX lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from multiprocessing import get_context
from multiprocessing.synchronize import Barrier
from pathlib import Path

from digest.config.profile_edits import _file_lock
from digest.config.profile_files import LOCKS, lock_name
from digest.config.profiles import load_profile
from digest.config.votes import vote

from .conftest import ROOT

PROFILE = """\
# Alice's profile: this comment must survive every vote.
email: alice@example.org
keywords: [pretraining]
like: [2406.10670]
"""
VOTES = 15  # per voter


def ids_of(voter: int) -> list[str]:
    return [f"2401.{voter}{n:04}" for n in range(VOTES)]


def cast(path: str, voter: int, start: Barrier) -> None:
    """In a voter: wait for the others, then like each paper of its own, one vote at a time."""
    start.wait()
    for paper in ids_of(voter):
        vote(Path(path), "like", [paper])


def test_two_processes_voting_on_one_profile_lose_no_vote(tmp_path: Path) -> None:
    path = tmp_path / "alice.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    context = get_context("spawn")  # fresh interpreters: two separate processes, as on two machines
    start = context.Barrier(2)
    voters = [context.Process(target=cast, args=(str(path), n, start)) for n in (1, 2)]
    for voter in voters:
        voter.start()
    for voter in voters:
        voter.join(120)

    assert [voter.exitcode for voter in voters] == [0, 0]
    liked = load_profile(path).like
    assert sorted(liked) == sorted(["2406.10670", *ids_of(1), *ids_of(2)])
    assert path.read_text(encoding="utf-8").startswith("# Alice's profile: this comment must survive")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # no temporary left


def test_threads_of_one_process_voting_on_one_profile_lose_no_vote(tmp_path: Path) -> None:
    path = tmp_path / "alice.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    start = threading.Barrier(4)
    voters = [threading.Thread(target=cast, args=(str(path), n, start)) for n in range(1, 5)]
    for voter in voters:
        voter.start()
    for voter in voters:
        voter.join()

    expected = ["2406.10670", *(paper for n in range(1, 5) for paper in ids_of(n))]
    assert sorted(load_profile(path).like) == sorted(expected)


HOLDER_CHECK = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    print("busy")
else:
    print("free")
"""


def test_a_profile_lock_is_a_posix_lock_that_other_processes_see(tmp_path: Path) -> None:
    """NFSv4 carries POSIX (fcntl) locks between machines; a BSD flock would not stop this check."""
    path = tmp_path / "alice.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    lock_file = tmp_path / LOCKS / f"file-{lock_name(path.name)}.lock"

    with _file_lock(path):
        while_held = subprocess.run([sys.executable, "-c", HOLDER_CHECK, str(lock_file)],
                                    capture_output=True, text=True, check=True)  # fmt: skip
    after = subprocess.run([sys.executable, "-c", HOLDER_CHECK, str(lock_file)],
                           capture_output=True, text=True, check=True)  # fmt: skip

    assert (while_held.stdout.strip(), after.stdout.strip()) == ("busy", "free")


REFUSED_WRITE = """
import resource, signal, sys
from digest.cli import main
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))
sys.argv[0] = "digest"
main()
"""


def test_a_like_that_cannot_be_written_is_one_error_naming_the_file(tmp_path: Path) -> None:
    """A folder that refuses the save (here: a file size limit; read-only copies alike) changes nothing."""
    path = tmp_path / "profiles" / "alice.yaml"
    path.parent.mkdir()
    path.write_text(PROFILE + "# " + "a long comment " * 20 + "\n", encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    config = tmp_path / "digest.yaml"
    config.write_text('site: {title: T, sender: "D <d@example.org>", base_url: "http://x"}\n')

    done = subprocess.run(
        [sys.executable, "-c", REFUSED_WRITE, "like", str(path), "2401.00001", "--config", str(config)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip

    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == f"Error: {path}: not saved: File too large"
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
