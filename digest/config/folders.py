"""The folders digest writes to, looked at before a confirm or a run finds them read-only."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import Problem
from ..models import Settings
from . import yamlfile


def folder_problems(settings: Settings) -> list[Problem]:
    """The folders digest writes to (profiles on confirm, state on every run) that it could not."""
    lines = yamlfile.load(settings.path)  # read again only for the line of each key
    problems = []
    for key, folder in (("profiles_dir", settings.profiles_dir), ("state_dir", settings.state_dir)):
        why = _why_not_writable(folder)
        if why:
            hint = (
                "make it writable by the user digest runs as"
                " (under Docker: the image's user must own the bind-mounted folder)"
            )
            problems.append(Problem(settings.path, lines.line((key,)), key, f"{folder} {why}", hint))
    return problems


def _why_not_writable(folder: Path) -> str | None:
    """Why `folder` cannot be written (or made), or None. Looks only: nothing is created."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot be written: {existing} is a file, not a folder"
    # os.access asks the kernel with this process's own ids: root passes, as it really may write.
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot be written: {existing} is not writable by this user (uid {os.getuid()})"
    return None
