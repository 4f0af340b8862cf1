"""A subscriber's past editions: what each matched, why, and what was sent (archive and feed)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from ..models import (
    Match,
    Paper,
    Reason,
    SentEdition,
    SentPaper,
    paper_from_dict,
    reason_from_dict,
    reason_to_dict,
)
from .database import Database
from .listings import PaperArchive

# The same matches as stored: the paper ids and {paper id: reasons}, each as JSON text.
EncodedMatches = tuple[str, str]


class EditionArchive:
    """Every paper each edition matched for each address, with its reasons, beside the ledger."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def remember(self, editions: Iterable[tuple[str, str, EncodedMatches]]) -> None:
        """Keep what each (address, edition) matched, best first, and why (for its web pages),
        as `encode_matches` encoded it."""
        rows = [(address, edition, ids, reasons) for address, edition, (ids, reasons) in editions]
        with self.db.transaction():
            self.db.executemany(
                """INSERT INTO edition_papers (address, edition, paper_ids, reasons) VALUES (?, ?, ?, ?)
                   ON CONFLICT (address, edition) DO UPDATE SET paper_ids = excluded.paper_ids,
                     reasons = excluded.reasons""",
                rows,
            )

    def sent_editions(self, address: str, limit: int = 100) -> list[SentEdition]:
        """The address's editions that were sent, newest first."""
        rows = self.db.execute(
            """SELECT d.edition, d.updated_at, d.papers, e.paper_ids FROM deliveries d
               LEFT JOIN edition_papers e ON e.address = d.address AND e.edition = d.edition
               WHERE d.address = ? AND d.state = 'sent' ORDER BY d.edition DESC LIMIT ?""",
            (address, limit),
        )
        return [
            SentEdition(edition, _moment(at), len(json.loads(ids or papers)), len(json.loads(papers)))
            for edition, at, papers, ids in rows
        ]

    def matches(self, address: str, edition: str) -> list[Match]:
        """Every paper the edition matched for the address, best first, with its reasons."""
        row = self.db.execute(
            "SELECT paper_ids, reasons FROM edition_papers WHERE address = ? AND edition = ?",
            (address, edition),
        ).fetchone()
        if row is None:
            return []
        ids, reasons = json.loads(row[0]), json.loads(row[1])
        papers = PaperArchive(self.db).papers_with_ids(ids)
        return [_match(papers[i], reasons.get(i, [])) for i in ids if i in papers]

    def sent_papers(self, address: str, editions: int = 10) -> list[SentPaper]:
        """The papers the address's last `editions` sent editions carried, newest edition first,
        each edition's papers in the order the email showed them."""
        found: list[SentPaper] = []
        for sent in self.sent_editions(address, editions):
            row = self.db.execute(
                """SELECT d.papers, e.reasons FROM deliveries d LEFT JOIN edition_papers e
                   ON e.address = d.address AND e.edition = d.edition
                   WHERE d.address = ? AND d.edition = ?""",
                (address, sent.edition),
            ).fetchone()
            ids, reasons = json.loads(row[0]), json.loads(row[1] or "{}")
            papers = PaperArchive(self.db).papers_with_ids(ids)
            found += [
                SentPaper(_match(papers[i], reasons.get(i, [])), sent.edition, sent.sent_at)
                for i in ids
                if i in papers
            ]
        return found


# (paper id, reasons) → its JSON member: readers matched by the same terms share it, so an
# edition encodes each once. Forgotten whole past MEMO_SIZE entries, so memory stays flat.
_ENCODED: dict[tuple[str, tuple[Reason, ...]], str] = {}
MEMO_SIZE = 50_000


def encode_matches(matched: Iterable[tuple[str, tuple[Reason, ...]]]) -> EncodedMatches:
    """What an edition matched, as `EditionArchive.remember` stores it. A compose worker encodes its own
    editions: JSON text crosses to the sending process cheaper than Reason tuples, and there the
    encoding would take a core the workers share."""
    matched = list(matched)
    return json.dumps([i for i, _ in matched]), _reasons_json(matched)


def _reasons_json(matched: list[tuple[str, tuple[Reason, ...]]]) -> str:
    """{paper id: [reason, ...]} as JSON text."""
    if len(_ENCODED) > MEMO_SIZE:
        _ENCODED.clear()
    members = []
    for key in matched:
        member = _ENCODED.get(key)
        if member is None:
            reasons = [reason_to_dict(r) for r in key[1]]
            member = _ENCODED[key] = f"{json.dumps(key[0])}: {json.dumps(reasons, ensure_ascii=False)}"
        members.append(member)
    return "{" + ", ".join(members) + "}"


def _match(paper: Paper, reasons: list[dict[str, object]]) -> Match:
    return Match(paper, 0.0, tuple(reason_from_dict(r) for r in reasons))


def _moment(text: str) -> dt.datetime:
    """A stored timestamp as an aware datetime (they are written in UTC)."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def papers_by_day(db: Database, since: dt.datetime) -> list[tuple[dt.date, Paper]]:
    """Every paper a listing brought since `since`, with the day (UTC) it was first seen."""
    rows = db.execute(
        # last_seen '' marks a paper looked up by id (a liked one), which no listing brought
        "SELECT first_seen, data FROM papers WHERE first_seen >= ? AND last_seen != '' ORDER BY first_seen",
        (since.isoformat(timespec="seconds"),),
    )
    return [(_moment(seen).date(), paper_from_dict(json.loads(data))) for seen, data in rows]
