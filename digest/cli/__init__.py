"""The command line: the only code that prints."""

# Importing the command modules registers their commands on the group.
from . import console as _console  # noqa: F401
from . import edition as _edition  # noqa: F401
from . import mail as _mail  # noqa: F401
from . import migrate as _migrate  # noqa: F401
from . import service as _service  # noqa: F401
from . import votes as _votes  # noqa: F401
from .main import main

__all__ = ["main"]
