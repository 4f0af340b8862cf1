"""Confirmation emails sent from one background thread, for the web form.

The form answers as soon as the sign-up is recorded, the same way whether an email goes out or
one went out within the hour, so neither its words nor its timing tell who subscribes; and a slow
relay holds up no request.
"""

from __future__ import annotations

import logging
import queue
import threading
from contextlib import closing
from pathlib import Path

from ..errors import DigestError
from ..models import Settings
from ..pipeline.subscriptions import SignUp, send_confirmation
from ..store import Subscribers, connect

log = logging.getLogger(__name__)


class ConfirmationQueue:
    """Sign-ups whose confirmation is still to be mailed, sent in order by one worker thread."""

    def __init__(self, settings: Settings, database: Path) -> None:
        self.settings = settings
        self.database = database
        self.waiting: queue.Queue[SignUp | None] = queue.Queue()
        self.worker: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, signup: SignUp) -> None:
        with self.lock:
            if self.worker is None:
                self.worker = threading.Thread(target=self._work, name="confirmations", daemon=True)
                self.worker.start()
        self.waiting.put(signup)

    def wait_idle(self) -> None:
        """Return once every confirmation submitted so far was sent or given up."""
        self.waiting.join()

    def close(self) -> None:
        """Send what is queued, then stop the worker."""
        with self.lock:
            worker, self.worker = self.worker, None
        if worker is not None:
            self.waiting.put(None)
            worker.join()

    def _work(self) -> None:
        while True:
            signup = self.waiting.get()
            try:
                if signup is None:
                    return
                self._send(signup)
            finally:
                self.waiting.task_done()

    def _send(self, signup: SignUp) -> None:
        try:
            send_confirmation(self.settings, signup)
        except DigestError as error:
            log.warning("confirmation to %s not sent: %s", signup.address, error)
        except Exception:  # a bug: logged with its traceback, and the queue goes on for the others
            log.exception("confirmation to %s not sent", signup.address)
        else:
            return
        self._release(signup)

    def _release(self, signup: SignUp) -> None:
        """Free the slot of an email that did not go, so the person can ask again at once."""
        try:
            with closing(connect(self.database, url=self.settings.state_url)) as db:
                Subscribers(db).release(signup.nonce)
        except Exception:
            log.exception("the sign-up of %s could not be released", signup.address)
