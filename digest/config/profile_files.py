"""Profile files written safely: in the YAML dialect they are read in, under a lock, never half.

Every save writes a temporary file in the profile's folder, flushes it to disk and renames it over
the old one (a reader on any machine sees the old file or the new), under a lock that also holds
on an NFSv4 share: the setups the README's "Running on several machines" supports.

Profiles are read as YAML 1.1 (PyYAML) and edited with ruamel's round-trip mode, which keeps
comments but speaks YAML 1.2: there a plain NO, ON, yes or 18:30 is text, while a 1.1 reader
takes them for false, true or the number 1110. So every string a 1.1 reader would not read as
text is written double-quoted, and the caller re-reads the text before it replaces anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

LOCKS = ".locks"  # a hidden folder inside the profiles folder: it holds no *.yaml file
_STR = "tag:yaml.org,2002:str"
_RESOLVER: Any = yaml.resolver.Resolver()  # the reader's own rules for plain scalars
# Line breaks in YAML 1.1 but not in 1.2: a reader would fold them away unless escaped.
_ONLY_11_BREAKS = ("\x85", "\u2028", "\u2029")


def round_trip_yaml() -> YAML:
    """ruamel in round-trip mode: an operator's comments, key order and quotes survive an edit."""
    editor = YAML()
    editor.indent(mapping=2, sequence=4, offset=2)
    editor.preserve_quotes = True
    editor.width = 4096  # long keywords stay on one line
    return editor


def dump(editor: YAML, data: CommentedMap) -> str:
    """The YAML text of `data`, with every string quoted where a YAML 1.1 reader needs it."""
    _quote_strings(data)
    buffer = io.StringIO()
    editor.dump(data, buffer)
    return buffer.getvalue()


def _quote_strings(node: Any) -> None:
    items = node.items() if isinstance(node, CommentedMap) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, CommentedMap | CommentedSeq):
            _quote_strings(value)
        elif isinstance(value, str) and _needs_quotes(value):
            node[key] = DoubleQuotedScalarString(value)


def _needs_quotes(text: str) -> bool:
    plain_tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    return bool(plain_tag != _STR or any(c in text for c in _ONLY_11_BREAKS))


class _ThreadLocks:
    """One lock per name for the threads of this process, kept only while someone holds or waits."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}  # name: (lock, holders and waiters)

    @contextlib.contextmanager
    def holding(self, name: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(name, (threading.Lock(), 0))
            self._locks[name] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[name]
                if users == 1:
                    del self._locks[name]
                else:
                    self._locks[name] = (lock, users - 1)


_THREADS = _ThreadLocks()


@contextlib.contextmanager
def locked(profiles_dir: Path, name: str) -> Iterator[None]:
    """Hold the exclusive lock `name` of this profiles folder, against threads, processes and
    other machines that share the folder.

    A POSIX record lock (lockf), because NFSv4 carries those to the server, so they hold between
    machines (a BSD flock may be local to one client). Such a lock belongs to the process, not
    to the descriptor, and closing any descriptor of the file drops it: so the threads of this
    process queue on a lock of their own first, and only the thread that holds it opens the file.
    """
    folder = profiles_dir / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.lock"
    with _THREADS.holding(str(path)):
        # Lock files stay: removing one while another process waits on it would split the lock in two.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # and with it the lock


def lock_name(text: str) -> str:
    """A file name for the lock of `text` (an address or a profile's file name), of fixed length."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def replace(path: Path, text: str) -> None:
    """Put `text` in place of `path` at once: a reader sees the old file or the new, never half."""
    temporary = _written_temporary(path.parent, text, stat.S_IMODE(path.stat().st_mode))
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def create(candidates: list[Path], text: str) -> Path:
    """Write `text` to the first candidate that does not exist yet, complete from the first instant."""
    temporary = _written_temporary(candidates[0].parent, text, 0o644)
    try:
        for candidate in candidates:
            try:
                os.link(temporary, candidate)  # fails when the name is taken, even by a racing writer
            except FileExistsError:
                continue
            _sync_folder(candidate.parent)
            return candidate
        raise FileExistsError(f"every name for this profile is taken, up to {candidates[-1].name}")
    finally:
        temporary.unlink(missing_ok=True)


def _written_temporary(folder: Path, text: str, mode: int) -> Path:
    """A new hidden file in `folder` holding `text`, flushed to disk; removed again if that fails."""
    descriptor, name = tempfile.mkstemp(dir=folder, prefix=".profile-", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(mode)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _sync_folder(folder: Path) -> None:
    """Make the new name durable, not only the data: a crash right after a save keeps the save."""
    # Some file systems refuse an fsync of a folder; the rename itself is still atomic there.
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
