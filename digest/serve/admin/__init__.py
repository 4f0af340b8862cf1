"""The operator's console at /admin: off unless DIGEST_ADMIN_PASSWORD is set (see access.py)."""

from __future__ import annotations

from starlette.routing import Route

from ...models import Settings
from .actions import Actions
from .gate import Gate
from .pages import Console
from .sign_in import SignIn


def admin_routes(settings: Settings) -> list[Route]:
    gate = Gate(settings)
    sign_in, pages, actions = SignIn(gate), Console(gate), Actions(gate)
    guarded = gate.guarded
    return [
        Route("/admin", guarded(pages.overview), methods=["GET"]),
        Route("/admin/sign-in", sign_in.form, methods=["GET"]),
        Route("/admin/sign-in", sign_in.submit, methods=["POST"]),
        Route("/admin/sign-out", guarded(sign_in.sign_out), methods=["POST"]),
        Route("/admin/subscribers", guarded(pages.subscribers), methods=["GET"]),
        Route("/admin/subscriber", guarded(actions.subscriber), methods=["GET"]),
        Route("/admin/subscriber", guarded(actions.subscriber_action), methods=["POST"]),
        Route("/admin/editions", guarded(pages.editions), methods=["GET"]),
        Route("/admin/edition/{edition}", guarded(actions.edition), methods=["GET"]),
        Route("/admin/edition/{edition}", guarded(actions.resend_uncertain), methods=["POST"]),
        Route("/admin/sources", guarded(pages.sources), methods=["GET"]),
        Route("/admin/suppressions", guarded(pages.suppressions), methods=["GET"]),
    ]
