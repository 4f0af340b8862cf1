"""Errors that digest reports to people, as opposed to bugs.

    DigestError                 anything the CLI turns into ``Error: …`` and exit 1
    ├── ConfigError             one or more problems in digest.yaml or a profile
    ├── SourceError             a source could not be fetched or parsed
    ├── DeliveryError           a message could not be handed over
    │   ├── TemporaryFailure    4xx, or the connection broke before the message was sent
    │   ├── PermanentFailure    5xx: this address will not take it
    │   ├── UncertainDelivery   the connection broke after the message was sent
    │   └── TransportDown       no message can be: the SMTP server is unreachable
    ├── TokenError              a link that is forged, damaged or for something else
    │   └── TokenGone           expired, used up, or replaced by newer links
    ├── SubscriptionError       a sign-up that cannot go ahead
    │   ├── TooManySignUps      the site's hourly limit of confirmations is reached
    │   ├── ProfileNotSaved     the profile could not be written; the link still works
    │   └── FormError           a form field that is not text (a file upload)
    ├── DkimError               the DKIM key cannot be read or is too weak
    ├── EditionLocked           another run is sending this edition
    ├── EditionProcessDied      digest serve's process for an edition ended without a report
    └── StateError              the state database is missing, broken or cannot be written

Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a YAML file, located as precisely as we can."""

    file: Path
    line: int | None
    key: str  # dotted key path, e.g. "delivery.smtp.port" or "keywords[2]"
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class DigestError(Exception):
    """An error to show as one line, with an optional hint on how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class ConfigError(DigestError):
    """Every problem found in one or more YAML files, reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        # In reading order: file by file, top to bottom.
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line or 0))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[Problem]]]:
        return ConfigError, (self.problems,)  # whole, from a worker process


class SourceError(DigestError):
    """A source that could not be fetched or did not hold a listing."""


class DeliveryError(DigestError):
    """A message that could not be delivered."""


class TemporaryFailure(DeliveryError):
    """Worth trying again later: a 4xx reply, or a connection lost before the data went out."""


class PermanentFailure(DeliveryError):
    """A 5xx reply: this address does not take this message."""


class UncertainDelivery(DeliveryError):
    """The connection broke after the message was sent: it may have arrived, so no resend."""


class TransportDown(DeliveryError):
    """The transport cannot deliver anything now; the rest of the run is left for later."""


class DkimError(DigestError):
    """The DKIM private key cannot be read, is not an RSA key, or is shorter than 2048 bits."""


class EditionLocked(DigestError):
    """Another process is sending this edition right now."""


class EditionProcessDied(DigestError):
    """The process sending a scheduled edition ended without a report (killed, out of memory)."""


class StateError(DigestError):
    """The state database cannot be used as it is: missing where it existed, corrupt, read-only."""


class TokenError(DigestError):
    """A token that is forged, damaged, expired, or meant for something else."""


class TokenGone(TokenError):
    """A genuine token that worked once: it has expired, or its one use is spent."""


class SubscriptionError(DigestError):
    """A sign-up that cannot go ahead: a bad address or keywords, or too many requests.
    `field`: the form field at fault, where the page shows the error."""

    def __init__(self, message: str, hint: str | None = None, field: str | None = None) -> None:
        super().__init__(message, hint)
        self.field = field


class TooManySignUps(SubscriptionError):
    """More confirmations in the last hour than the site allows (`subscriptions.max_per_hour`)."""


class ProfileNotSaved(SubscriptionError):
    """A profile that could not be written (disk full, folder not writable); nothing was used up."""


class FormError(SubscriptionError):
    """A form that is not plain text fields (a file upload, say): refused, never read as text."""

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields
