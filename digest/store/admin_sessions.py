"""The operator console's sign-ins, kept in the state database so that signing out ends one for
good: a copied cookie of an ended sign-in is refused, however well it is signed."""

from __future__ import annotations

import datetime as dt
import secrets

from .connection import now_text as _now
from .database import Database


class AdminSessions:
    """Sign-ins by id: started, checked on every request, ended by signing out."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def start(self, lifetime: dt.timedelta) -> str:
        """A new sign-in's id; sign-ins past their lifetime are forgotten on the way."""
        session = secrets.token_urlsafe(24)
        expired = (dt.datetime.now(dt.UTC) - lifetime).isoformat(timespec="seconds")
        with self.db.transaction():
            self.db.execute("DELETE FROM admin_sessions WHERE created_at < ?", (expired,))
            self.db.execute("INSERT INTO admin_sessions (id, created_at) VALUES (?, ?)", (session, _now()))
        return session

    def is_live(self, session: str, lifetime: dt.timedelta) -> bool:
        """Started here, not ended, and younger than `lifetime`."""
        row = self.db.execute(
            "SELECT created_at FROM admin_sessions WHERE id = ? AND ended_at IS NULL", (session,)
        ).fetchone()
        if row is None:
            return False
        return dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(row[0]) < lifetime

    def end(self, session: str) -> None:
        self.db.execute("UPDATE admin_sessions SET ended_at = ? WHERE id = ?", (_now(), session))
