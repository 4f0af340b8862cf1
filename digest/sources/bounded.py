"""Parsing with a time and a memory limit, so that one hostile document fails its source alone.

A large document is parsed in a child process whose address space is capped, and which is
killed at the deadline: feedparser has no limits of its own, and a malformed 20 MB feed can
take gigabytes and minutes. The child is a fresh interpreter started with subprocess rather
than a multiprocessing fork: `digest serve` is threaded (fork is unsafe there), a run may
already be a forked worker (a forkserver started by its parent is not its own), and a spawned
interpreter is what subprocess gives anyway, from any thread. Starting it costs about 0.2 s
(measured: 0.17 s against 0.01 s in place for a 500 KB feed), so a small document, whose worst
case is bounded by its size, is parsed here.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from .items import Parsed
from .parse import parse_listing

# Below this, the slowest input found (deep nesting, ~7 s per MB) parses in under 2 s and
# the hungriest in tens of MB: a child process would cost more than it protects.
IN_PROCESS_BYTES = 256 * 1024
OUT_OF_MEMORY = 3  # the child's exit status when parsing ran out of its address space
# Not `-m this.module`: runpy warns when the package, which imports this module, came first.
CHILD = "from digest.sources.bounded import child_main; child_main()"


@dataclass(frozen=True)
class ParseLimits:
    """How long parsing one document may take, and how much memory its child may map."""

    seconds: float = 30.0
    memory: int = 500 * 10**6  # bytes of address space, which bounds resident memory too
    in_process_bytes: int = IN_PROCESS_BYTES


DEFAULT_LIMITS = ParseLimits()


def parse_bounded(
    body: bytes, source: str, kind: str = "auto", limits: ParseLimits = DEFAULT_LIMITS
) -> Parsed:
    """parse_listing within the limits; SourceError says which limit a document passed."""
    if len(body) <= limits.in_process_bytes:
        return parse_listing(body, source, kind)
    # Everything goes in on stdin: a name is not always fit for a command line (a NUL byte).
    request = pickle.dumps((body, source, kind, limits.memory), protocol=pickle.HIGHEST_PROTOCOL)
    command = [sys.executable, "-c", CHILD]
    try:
        child = subprocess.run(
            command, input=request, capture_output=True, timeout=limits.seconds, env=_child_env()
        )
    except subprocess.TimeoutExpired:
        raise SourceError(f"parsing took longer than {limits.seconds:g} s; gave up") from None
    if child.returncode != 0:
        raise SourceError(_failure(child, limits))
    outcome = pickle.loads(child.stdout)  # written by our own child below, never by a feed
    if isinstance(outcome, Parsed):
        return outcome
    message, hint = outcome
    raise SourceError(message, hint)


def _failure(child: subprocess.CompletedProcess[bytes], limits: ParseLimits) -> str:
    """Why the child gave no answer, in a reader's words."""
    if child.returncode == OUT_OF_MEMORY:
        return f"parsing ran out of memory (over {limits.memory / 10**6:g} MB); gave up"
    if child.returncode < 0:
        number = -child.returncode
        name = signal.Signals(number).name if number in signal.valid_signals() else f"signal {number}"
        return f"the parser crashed ({name})"
    last = (child.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
    return f"the parser failed: {last}"


def _child_env() -> dict[str, str]:
    """This environment, with the folder holding this package first on the child's path."""
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}


def child_main() -> None:
    """In the child: read the request, cap the address space, parse, write the outcome to stdout."""
    import resource  # POSIX only; imported here so that the parent runs wherever Python does

    body, source, kind, memory = pickle.loads(sys.stdin.buffer.read())  # from parse_bounded
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        outcome: Parsed | tuple[str, str | None]
        try:
            outcome = parse_listing(body, source, kind)
        except SourceError as error:
            outcome = (str(error), error.hint)
        sys.stdout.buffer.write(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
        sys.stdout.buffer.flush()
    except MemoryError:
        os._exit(OUT_OF_MEMORY)
