"""The data that flows through the pipeline: frozen dataclasses, standard library only.

Every type that crosses from one module to another is here, so the stages share types
instead of importing each other.
"""

from .archive import SentEdition, SentPaper
from .delivery import (
    Compose,
    DeliveryLedger,
    DeliveryState,
    Job,
    Links,
    Outgoing,
    RenderedDigest,
    SendOutcome,
    Uncomposed,
)
from .papers import (
    SOURCE_KINDS,
    CachedFeed,
    Digest,
    Likeness,
    Listing,
    Match,
    Paper,
    Profile,
    Reason,
    SourceConfig,
    SourceReport,
    Span,
    paper_from_dict,
    paper_id_of,
    paper_to_dict,
    reason_from_dict,
    reason_to_dict,
    trending_reason,
)
from .settings import (
    WEEKDAYS,
    DeliveryPolicy,
    Settings,
    SmtpConfig,
    UnsetVariable,
)

__all__ = [
    "SOURCE_KINDS",
    "WEEKDAYS",
    "CachedFeed",
    "Compose",
    "DeliveryLedger",
    "DeliveryPolicy",
    "DeliveryState",
    "Digest",
    "Job",
    "Likeness",
    "Links",
    "Listing",
    "Match",
    "Outgoing",
    "Paper",
    "Profile",
    "Reason",
    "RenderedDigest",
    "SendOutcome",
    "SentEdition",
    "SentPaper",
    "Settings",
    "SmtpConfig",
    "SourceConfig",
    "SourceReport",
    "Span",
    "Uncomposed",
    "UnsetVariable",
    "paper_from_dict",
    "paper_id_of",
    "paper_to_dict",
    "reason_from_dict",
    "reason_to_dict",
    "trending_reason",
]
