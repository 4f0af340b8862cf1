"""The profiles as the console last read them: a site of 100,000 subscribers has as many files,
and reading them (even through the profile cache) takes seconds that a page should not wait."""

from __future__ import annotations

import threading
import time

from ...models import Profile, Settings
from ...pipeline.console import read_profiles

REFRESH_SECONDS = 30.0


class ProfileSnapshot:
    """Read once (from the sign-in page on, while the operator types), then again in the
    background whenever a page finds the copy older than REFRESH_SECONDS: pages show the profiles
    as they were at most that long before. The state database, where unsubscribes and
    deliveries are, is read fresh on every page."""

    def __init__(self, settings: Settings, refresh: float = REFRESH_SECONDS) -> None:
        self.settings, self.refresh = settings, refresh
        self.lock = threading.Lock()
        self._profiles: list[Profile] | None = None
        self._read_at = 0.0
        self._reading: threading.Event | None = None  # set when the read under way ends

    def warm(self) -> None:
        """Start reading, if nothing was read or is being read yet."""
        with self.lock:
            if self._profiles is None:
                self._start()

    def profiles(self) -> list[Profile]:
        with self.lock:
            kept, stale = self._profiles, time.monotonic() - self._read_at > self.refresh
            if kept is None or stale:
                reading = self._start()
        if kept is not None:
            return kept
        reading.wait()  # the first read: nothing older to show
        return self._profiles if self._profiles is not None else read_profiles(self.settings)

    def _start(self) -> threading.Event:
        """The read under way, or a new one (call with the lock held)."""
        if self._reading is None:
            self._reading = threading.Event()
            threading.Thread(target=self._read, args=(self._reading,), daemon=True).start()
        return self._reading

    def _read(self, done: threading.Event) -> None:
        try:
            profiles = read_profiles(self.settings)
            with self.lock:
                self._profiles, self._read_at = profiles, time.monotonic()
        finally:
            with self.lock:
                self._reading = None
            done.set()
