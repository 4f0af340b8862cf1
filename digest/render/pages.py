"""The web pages and the confirmation email, rendered from `templates/` like the digest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .renderer import environments


class Pages:
    """One Jinja environment for the web pages; an operator's template folder overrides files."""

    def __init__(self, site_title: str, base_url: str, templates_dir: Path | None = None) -> None:
        self.html, self.text = environments(templates_dir)
        for env in (self.html, self.text):
            env.globals.update(site_title=site_title, base_url=base_url)

    def page(self, template: str, **context: Any) -> str:
        defaults = {"error": None, "error_field": None, "hint": None}
        return self.html.get_template(f"web/{template}.html.j2").render({**defaults, **context})

    def notice(self, heading: str, message: str, hint: str | None = None, error: bool = False) -> str:
        return self.page("notice", heading=heading, message=message, hint=hint, error=error)

    def confirmation_text(self, **context: Any) -> str:
        return self.text.get_template("confirm.txt.j2").render(context).strip() + "\n"
