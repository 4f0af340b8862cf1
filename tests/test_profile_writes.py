"""Profile saves under concurrency and failure: nothing lost, one file per address, no leftovers."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from digest.config.profile_edits import save_subscription
from digest.config.profiles import load_profile, load_profiles, profile_for, profile_paths
from digest.errors import ConfigError

# Addresses whose file names slug alike: all become a-b-at-example-org.
ALIKE = ["a.b@example.org", "a-b@example.org", "a_b@example.org", "a+b@example.org", "a--b@example.org"]


def save_many(folder: str, address: str, rounds: int) -> list[str]:
    """Runs in a worker process: save `address` `rounds` times, each with its own keyword."""
    written = [f"topic {address} {n}" for n in range(rounds)]
    for keyword in written:
        save_subscription(Path(folder), address, [keyword])
    return written


def visible_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def assert_one_valid_file_per_address(folder: Path, addresses: list[str]) -> None:
    profiles, errors = load_profiles(folder)
    assert errors == []
    assert sorted(p.emails[0] for p in profiles) == sorted(addresses)
    assert len(visible_files(folder)) == len(addresses)
    assert [p.name for p in folder.iterdir() if p.name.startswith(".") and p.is_file()] == []


def test_parallel_processes_saving_alike_addresses_lose_nothing(tmp_path: Path) -> None:
    addresses = [*ALIKE, "solo@example.org"]
    seen_broken: list[str] = []
    done = threading.Event()

    def read_while_writing() -> None:
        while not done.is_set():
            seen_broken.extend(str(error) for error in load_profiles(tmp_path)[1])

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    try:
        with ProcessPoolExecutor(8, mp_context=get_context("spawn")) as pool:
            jobs = [pool.submit(save_many, str(tmp_path), a, 6) for a in addresses for _ in range(2)]
            written = [job.result() for job in jobs]
    finally:
        done.set()
        reader.join()
    assert seen_broken == []  # a reader never saw an empty or half-written profile
    assert_one_valid_file_per_address(tmp_path, addresses)
    for address in addresses:
        profile = profile_for(tmp_path, address)
        assert profile is not None
        assert profile.keywords[0] in {k for batch in written for k in batch}


def test_parallel_threads_saving_one_address_keep_one_file(tmp_path: Path) -> None:
    address = "many@example.org"
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: save_subscription(tmp_path, address, [f"topic {n}"]), range(64)))
    assert_one_valid_file_per_address(tmp_path, [address])


def test_a_very_long_address_gets_a_file_name_the_disk_accepts(tmp_path: Path) -> None:
    address = "x" * 64 + "@" + ".".join(["d" * 60] * 3) + ".org"
    path = save_subscription(tmp_path, address, ["pretraining"])
    assert len(path.name) <= 120
    assert load_profile(path).emails == (address,)


FULL_DISK = """\
import resource, signal, sys
from pathlib import Path
from digest.errors import ConfigError
from digest.config.profile_edits import save_subscription
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))
try:
    save_subscription(Path(sys.argv[1]), sys.argv[2], ["topic " * 80])
except ConfigError as error:
    print(error)
"""


def test_a_failed_write_leaves_no_temporary_file_and_keeps_the_profile(tmp_path: Path) -> None:
    kept = save_subscription(tmp_path, "full@example.org", ["pretraining"])
    before = kept.read_text(encoding="utf-8")
    for address in ("full@example.org", "new@example.org"):  # an update, and a new file
        result = subprocess.run(
            [sys.executable, "-c", FULL_DISK, str(tmp_path), address],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert "cannot write" in result.stdout, result.stdout + result.stderr
    assert kept.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [kept.name]
    assert profile_paths(tmp_path) == [kept]


def test_a_failed_write_is_one_config_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "profiles").write_text("not a folder", encoding="utf-8")
    try:
        save_subscription(tmp_path / "profiles", "x@example.org", ["pretraining"])
    except ConfigError as error:
        assert "profiles" in str(error) and "\n" not in str(error)
    else:
        raise AssertionError("saving into a file instead of a folder did not fail")


def test_two_spellings_of_one_address_share_one_file(tmp_path: Path) -> None:
    first = save_subscription(tmp_path, "Mixed.Case@Example.ORG", ["pretraining"])
    second = save_subscription(tmp_path, "mixed.case@example.org", ["data selection"])
    assert first == second and visible_files(tmp_path) == [first.name]
    assert load_profile(first).keywords == ("data selection",)
