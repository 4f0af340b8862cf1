"""Signing in and out of the console."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...store.admin_sessions import AdminSessions
from .access import ATTEMPT_WINDOW, COOKIE, SESSION_LIFETIME, same_origin
from .gate import Gate

log = logging.getLogger("digest.admin")


class SignIn:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def form(self, request: Request) -> Response:
        if self.gate.password is None:
            return self.gate.off()
        if await self.gate.live_session(request) is not None:
            return RedirectResponse("/admin", status_code=303)
        self.gate.snapshot.warm()  # 100,000 profiles take seconds: read them while the password is typed
        return self._form()

    def _form(self, status: int = 200, error: str | None = None) -> Response:
        token = self.gate.sessions.sign_in_token()
        return self.gate.page("sign_in", None, status=status, error=error, token=token, current="")

    async def submit(self, request: Request) -> Response:
        gate = self.gate
        if gate.password is None:
            return gate.off()
        started = asyncio.get_running_loop().time()
        form = await request.form()
        if not same_origin(request, gate.settings.base_url) or not gate.sessions.sign_in_token_ok(
            str(form.get("token", ""))
        ):
            return gate.refused()
        client = request.client.host if request.client else "unknown"
        if not gate.attempts.allowed(client):
            log.warning("console sign-in refused: too many wrong passwords (this one from %s)", client)
            await self._answer_at(started)
            minutes = ATTEMPT_WINDOW // 60
            return self._form(429, f"Too many wrong passwords. Try again in {minutes} minutes.")
        if await run_in_threadpool(gate.password.matches, str(form.get("password", ""))):
            log.info("console: signed in from %s", client)
            return await self._signed_in()
        log.warning("console sign-in: wrong password from %s", client)
        gate.attempts.failed(client)
        await self._answer_at(started)
        return self._form(401, "Wrong password.")

    async def _answer_at(self, started: float) -> None:
        """Wait until the fixed answer time of a wrong password, counted from its arrival."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, started + self.gate.wrong_answer_seconds - loop.time()))

    async def _signed_in(self) -> Response:
        gate = self.gate
        session = await gate.work(lambda db: AdminSessions(db).start(SESSION_LIFETIME))
        response = RedirectResponse("/admin", status_code=303)
        response.set_cookie(
            COOKIE, gate.sessions.cookie_value(session), max_age=int(SESSION_LIFETIME.total_seconds()),
            path="/admin", secure=gate.sessions.secure, httponly=True, samesite="strict",
        )  # fmt: skip
        return response

    async def sign_out(self, request: Request, session: str) -> Response:
        """End the sign-in for good: its cookie, even if copied, no longer opens anything."""
        await self.gate.work(lambda db: AdminSessions(db).end(session))
        log.info("console: signed out")
        message = "You are signed out. The cookie of this sign-in no longer works anywhere."
        response = self.gate.page("message", None, heading="Signed out", message=message, current="")
        response.delete_cookie(COOKIE, path="/admin", secure=self.gate.sessions.secure, httponly=True,
                               samesite="strict")  # fmt: skip
        return response
