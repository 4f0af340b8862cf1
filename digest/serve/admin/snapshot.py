"""The profiles as the console last read them: a site of 100,000 subscribers has as many files,
and reading them (even through the profile cache) takes seconds that a page should not wait."""

from __future__ import annotations

import threading
import time

from ...models import Profile, Settings
from ...pipeline.console import read_profiles

REFRESH_SECONDS = 30.0


class ProfileSnapshot:
    """Read once, then again in the background whenever a page finds the copy older than
    REFRESH_SECONDS: pages show the profiles as they were at most that long before (the state
    database, where unsubscribes and deliveries are, is read fresh on every page)."""

    def __init__(self, settings: Settings, refresh: float = REFRESH_SECONDS) -> None:
        self.settings, self.refresh = settings, refresh
        self.lock = threading.Lock()
        self._profiles: list[Profile] | None = None
        self._read_at = 0.0
        self._reading = False

    def profiles(self) -> list[Profile]:
        with self.lock:
            kept, stale = self._profiles, time.monotonic() - self._read_at > self.refresh
            if kept is not None and stale and not self._reading:
                self._reading = True
                threading.Thread(target=self._read, daemon=True, name="console-profiles").start()
        return kept if kept is not None else self._read()

    def _read(self) -> list[Profile]:
        try:
            profiles = read_profiles(self.settings)
        finally:
            with self.lock:
                self._reading = False
        with self.lock:
            self._profiles, self._read_at = profiles, time.monotonic()
        return profiles
