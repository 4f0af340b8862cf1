"""What the sources listed: the HTTP cache, every paper seen, each source's last listing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator

from ..models import CachedFeed, Paper, paper_from_dict, paper_to_dict
from .connection import now_text as _now
from .database import Database


class HttpCache:
    """The last body of each listing URL with its validators, for conditional GET."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def cached(self, url: str) -> CachedFeed | None:
        row = self.db.execute(
            "SELECT body, etag, last_modified FROM http_cache WHERE url = ?", (url,)
        ).fetchone()
        return CachedFeed(bytes(row[0]), row[1], row[2]) if row else None

    def remember(self, url: str, feed: CachedFeed) -> None:
        self.db.execute(
            """INSERT INTO http_cache (url, body, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (url) DO UPDATE SET body = excluded.body, etag = excluded.etag,
                 last_modified = excluded.last_modified, fetched_at = excluded.fetched_at""",
            (url, feed.body, feed.etag, feed.last_modified, _now()),
        )


# Meta key prefix: + arXiv id -> when the arXiv API was asked for it and did not have it.
UNKNOWN_TO_ARXIV = "arxiv.unknown:"
# last_seen of a paper looked up by id, never in a listing: before any date, so no backtest
# or weekly edition takes a liked paper of years ago for one listed this week.
NEVER_LISTED = ""


class PaperArchive:
    """Every paper ever fetched, so a fetch can tell what is new and a backtest can look back;
    and the papers looked up by id (liked ones), which no listing brought."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def remember(self, papers: Iterable[Paper]) -> frozenset[str]:
        """Store the papers; return the ids that were not known before."""
        rows = [(p.id, json.dumps(paper_to_dict(p), ensure_ascii=False)) for p in papers]
        now = _now()
        with self.db.transaction():
            known = self._known([row[0] for row in rows])
            self.db.executemany(
                """INSERT INTO papers (id, data, first_seen, last_seen) VALUES (?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET data = excluded.data, last_seen = excluded.last_seen""",
                [(paper_id, data, now, now) for paper_id, data in rows],
            )
        return frozenset(row[0] for row in rows) - known

    def remember_looked_up(self, papers: Iterable[Paper]) -> None:
        """Store papers looked up by id as never listed; a listed copy, if any, is kept as it is."""
        rows = [(p.id, json.dumps(paper_to_dict(p), ensure_ascii=False)) for p in papers]
        now = _now()
        with self.db.transaction():
            self.db.executemany(
                """INSERT INTO papers (id, data, first_seen, last_seen) VALUES (?, ?, ?, ?)
                   ON CONFLICT (id) DO NOTHING""",
                [(paper_id, data, now, NEVER_LISTED) for paper_id, data in rows],
            )

    def papers_with_ids(self, ids: Iterable[str]) -> dict[str, Paper]:
        """The archived papers among these ids, by id (the liked papers of profiles, say)."""
        return {p.id: p for p in self._by_ids(list(dict.fromkeys(ids)))}

    def remember_unknown_to_arxiv(self, ids: Iterable[str]) -> None:
        """Note that arXiv was asked for these ids and had none of them, so it is not asked again."""
        now = _now()
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                [(UNKNOWN_TO_ARXIV + paper_id, now) for paper_id in ids],
            )

    def unknown_to_arxiv(self, ids: Iterable[str]) -> dict[str, str]:
        """Of these ids, those arXiv said it did not have, with when it said so."""
        keys = [UNKNOWN_TO_ARXIV + paper_id for paper_id in dict.fromkeys(ids)]
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):  # SQLite caps its parameters
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT key, value FROM meta WHERE key IN ({marks})", chunk)
            found.update((key.removeprefix(UNKNOWN_TO_ARXIV), when) for key, when in rows)
        return found

    def seen_since(self, since: dt.datetime) -> list[Paper]:
        rows = self.db.execute(
            "SELECT data FROM papers WHERE last_seen >= ? ORDER BY first_seen",
            (since.isoformat(timespec="seconds"),),
        )
        return [paper_from_dict(json.loads(row[0])) for row in rows]

    def latest_ids(self, limit: int) -> list[str]:
        """The ids of the `limit` papers seen most recently: the site's usual papers, for the
        learned ranker (their text is read only when it fits its space)."""
        rows = self.db.execute("SELECT id FROM papers ORDER BY last_seen DESC, id LIMIT ?", (limit,))
        return [row[0] for row in rows]

    def _by_ids(self, ids: list[str]) -> list[Paper]:
        rows = self._rows_with_ids("data", ids)
        return [paper_from_dict(json.loads(row[0])) for row in rows]

    def _known(self, ids: list[str]) -> frozenset[str]:
        return frozenset(row[0] for row in self._rows_with_ids("id", ids))

    def _rows_with_ids(self, column: str, ids: list[str]) -> Iterator[tuple[str]]:
        """`column` of the papers with these ids, 500 ids to a query: SQLite caps its parameters."""
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(f"SELECT {column} FROM papers WHERE id IN ({marks})", chunk)


class SourceHistory:
    """What each source listed last time, to notice a listing that was not updated."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def repeats(self, location: str, paper_ids: Iterable[str], day: dt.date) -> dt.date | None:
        """The earlier day whose listing this one repeats exactly, if any; then remember today's."""
        digest = hashlib.sha256("\n".join(sorted(paper_ids)).encode()).hexdigest()
        row = self.db.execute(
            "SELECT ids_hash, day FROM source_fetches WHERE location = ?", (location,)
        ).fetchone()
        if row and row[1] == day.isoformat():
            return None  # fetched again the same day: the same listing is expected
        self.db.execute(
            """INSERT INTO source_fetches (location, ids_hash, day) VALUES (?, ?, ?)
               ON CONFLICT (location) DO UPDATE SET ids_hash = excluded.ids_hash, day = excluded.day""",
            (location, digest, day.isoformat()),
        )
        return dt.date.fromisoformat(row[1]) if row and row[0] == digest else None
