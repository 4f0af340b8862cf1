"""What the pages of the site share, as the page modules see it: `web.Site` provides it.

The page modules (archive, feed, feedback, live preview, manage) type against this, not against
`Site`, so that web.py imports them and none of them imports web.py back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from ..errors import TokenError
from ..models import Settings
from ..render.pages import Pages
from ..store import Database
from .confirmation_queue import ConfirmationQueue

T = TypeVar("T")


class SiteTools(Protocol):
    settings: Settings
    secret: str
    pages: Pages
    mailer: ConfirmationQueue

    async def work(self, function: Callable[[Database], T]) -> T:
        """Blocking work on this worker thread's state connection."""
        ...

    async def link_address(self, purpose: str, token: str) -> str:
        """The address of a link that still works (TokenError when it does not)."""
        ...

    async def preview(self, request: Request, keywords: str) -> dict[str, Any]:
        """The live keyword preview a form page shows."""
        ...

    def page(self, template: str, status: int = 200, **context: Any) -> Response: ...

    def notice(self, heading: str, message: str, hint: str | None = None, status: int = 200) -> Response: ...

    def token_error(self, error: TokenError) -> Response: ...

    def event(self, action: str, address: str, outcome: str) -> None:
        """One log line for what a subscriber did, without the address."""
        ...
