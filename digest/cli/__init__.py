"""The command line: the only code that prints."""

from . import service as _service  # noqa: F401 - registers the subscriber and service commands
from .main import main

__all__ = ["main"]
