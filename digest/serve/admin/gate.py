"""The door of every console page: off without a password, signed in or sent to sign in, and
every POST from one of our own pages with its CSRF token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...models import Settings
from ...pipeline import subscriptions
from ...render.pages import Pages
from ...store import Database
from ...store.admin_sessions import AdminSessions
from ..thread_states import ThreadStates
from .access import (
    PASSWORD_VARIABLE,
    SESSION_LIFETIME,
    WRONG_ANSWER_SECONDS,
    Attempts,
    Password,
    Sessions,
    configured_password,
    same_origin,
)
from .snapshot import ProfileSnapshot

T = TypeVar("T")
Handler = Callable[[Request, str], Awaitable[Response]]  # the request and its session id


class Gate:
    """What every console handler shares: settings, pages, the password, sessions, connections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pages = Pages(settings.title, settings.base_url, settings.templates_dir)
        self.pages.html.filters["when"] = when
        password = configured_password()  # read once: a change takes a restart, as other settings do
        self.password = Password(password) if password else None
        secure = settings.base_url.startswith("https://")
        self.sessions = Sessions(subscriptions.secret(settings), secure)
        self.attempts = Attempts()
        self.wrong_answer_seconds = WRONG_ANSWER_SECONDS
        self.states = ThreadStates(settings)  # one State, so one connection, per worker thread
        self.snapshot = ProfileSnapshot(settings)

    def guarded(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """`handler`, behind the checks; it gets the session id of the signed-in operator."""

        async def checked(request: Request) -> Response:
            if self.password is None:
                return self.off()
            session = await self.live_session(request)
            if session is None:
                return RedirectResponse("/admin/sign-in", status_code=303)
            if request.method == "POST":
                form = await request.form()
                token = str(form.get("csrf", ""))
                if not same_origin(request, self.settings.base_url) or not self.sessions.csrf_ok(
                    session, token
                ):
                    return self.refused()
            return await handler(request, session)

        return checked

    async def live_session(self, request: Request) -> str | None:
        session = self.sessions.session_of(request)
        if session is None:
            return None
        live = await self.work(lambda db: AdminSessions(db).is_live(session, SESSION_LIFETIME))
        return session if live else None

    async def work(self, function: Callable[[Database], T]) -> T:
        """Blocking work on this worker thread's state connection (see thread_states)."""
        return await self.states.work(function)

    def page(self, template: str, session: str | None, status: int = 200, **context: Any) -> Response:
        csrf = self.sessions.csrf_token(session) if session else ""
        html = self.pages.page(f"admin/{template}", csrf=csrf, signed_in=session is not None, **context)
        return HTMLResponse(html, status_code=status)

    def off(self) -> Response:
        return self.page("off", None, status=404, variable=PASSWORD_VARIABLE, current="")

    def refused(self) -> Response:
        message = "This form did not come from this console, or it is too old. Reload the page and try again."
        return self.page("message", None, status=403, heading="Refused", message=message, current="")


def when(stamp: str | None) -> str:
    """A recorded time as the console shows it: '2026-11-16 07:00 UTC' (every stamp is UTC)."""
    return f"{stamp[:16].replace('T', ' ')} UTC" if stamp else ""
