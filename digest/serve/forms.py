"""Posted forms as text: the fields a page reads, files refused, and errors in sentences."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..config.profile_edits import SubscriberSettings
from ..errors import FormError

MANAGE_FIELDS = ("keywords", "exclude", "authors", "frequency", "max_papers")
FORM_FIELDS = 20  # the largest form has three; a flood of fields is refused unread


async def text_fields(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields of a posted form, each text ("" when absent); a file in any is refused."""
    try:
        form = await request.form(max_files=0, max_fields=FORM_FIELDS)
    except HTTPException as exc:
        raise FormError("this form takes its few text fields only, not files", {}) from exc
    fields = {name: form.get(name) or "" for name in names}
    texts = {name: value for name, value in fields.items() if isinstance(value, str)}
    for name, value in fields.items():
        if not isinstance(value, str):
            raise FormError(f"the {name} field takes text, not a file", texts)
    return texts


async def present_fields(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields a posted form has (absent ones left out), each text; a file is refused."""
    fields = await text_fields(request, names)
    form = await request.form(max_files=0, max_fields=FORM_FIELDS)  # the one read: kept by the request
    return {name: fields[name] for name in names if name in form}


def typed(fields: dict[str, str], current: SubscriberSettings) -> dict[str, Any]:
    """The manage form's values as the person typed them, to show again with an error."""
    shown: dict[str, Any] = dataclasses.asdict(current)
    for key in ("keywords", "exclude", "authors"):
        if key in fields:
            shown[key] = [line.strip() for line in fields[key].splitlines() if line.strip()]
    return shown | {key: fields[key] for key in ("frequency", "max_papers") if key in fields}


def sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
