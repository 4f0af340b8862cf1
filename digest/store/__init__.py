"""The state database: the only package that writes SQL or touches a database driver.

The state is one SQLite file in the state dir, or a PostgreSQL database (`state_url`); the rest of
the code holds a `Database` (database.py) and never sees which. It holds the delivery ledger and
the schedule log (ledger.py), the HTTP cache, the paper archive and each source's last listing
(listings.py), and the subscribers' sign-ups and unsubscribes (subscribers.py), bounce scores
(bounces.py), and what each edition matched for each address, with its reasons (editions.py: the
archive pages and the feed). Its tables and their numbered migrations are in schema.py; the
scheduler's lease, which says which `digest serve` sends the editions, in lease.py; connection.py
opens it (a `State` holds one connection for a whole run), and copy.py moves a whole state to
PostgreSQL. Unsubscribes are also kept in a file beside it (departures.py), and a marker says a
database was created, so a lost one is noticed.
"""

from .bounces import Bounces
from .connection import BROKEN_HINT, DATABASE_NAME, State, connect, now_text, state_unless_given
from .database import DATABASE_ERRORS, Database, SQLiteDatabase
from .departures import departed
from .editions import EditionArchive, EncodedMatches, encode_matches, papers_by_day
from .ledger import Ledger, ScheduleLog
from .listings import HttpCache, PaperArchive, SourceHistory
from .subscribers import Subscribers

__all__ = [
    "BROKEN_HINT", "DATABASE_ERRORS", "DATABASE_NAME", "Bounces", "Database", "EditionArchive",
    "EncodedMatches", "HttpCache", "Ledger", "PaperArchive", "SQLiteDatabase", "ScheduleLog", "SourceHistory",
    "State", "Subscribers", "connect", "departed", "encode_matches", "now_text", "papers_by_day",
    "state_unless_given",
]  # fmt: skip
