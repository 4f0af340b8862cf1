"""bioRxiv and medRxiv: the details API (JSON) and their author and abstract conventions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..errors import SourceError
from ..models import Paper
from .items import Parsed, papers_of
from .text import clean_names, squash

# JATS conversion leaves markers such as O_ST_ABS…C_ST_ABS and O_LI…C_LI in abstracts.
_LIST_ITEM = re.compile(r"\bO_LI\b")
_MARKER = re.compile(r"\b[OC]_(?:ST_ABS|LI|SCPLOW|FIG|TBL|SUP|SUB)\b")


def papers_from_details(data: dict[str, Any], source: str) -> Parsed:
    """Papers of a `api.biorxiv.org/details/…` or `api.medrxiv.org/details/…` response."""
    records = data.get("collection")
    if not isinstance(records, list):
        raise SourceError("not a bioRxiv/medRxiv details response (no 'collection' list)")
    return papers_of(records, lambda record: _record_paper(record, source), source)


def _record_paper(record: Any, source: str) -> Paper | None:
    if isinstance(record, dict) and record.get("doi") and record.get("title"):
        return _paper(record, source)
    return None


def semicolon_authors(text: str) -> tuple[str, ...]:
    """ "Kumar, P.; Aurange, A." → ("P. Kumar", "A. Aurange")."""
    names = []
    for name in text.split(";"):
        surname, _, given = name.partition(",")
        names.append(f"{given.strip()} {surname.strip()}" if given.strip() else surname)
    return clean_names(names)


def clean_abstract(text: str) -> str:
    return squash(_MARKER.sub(" ", _LIST_ITEM.sub(" • ", text)))


def doi_id(doi: str) -> str:
    """A DOI as a canonical paper id: lower-case, without a doi: prefix or URL."""
    return re.sub(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)", "", doi.strip(), flags=re.IGNORECASE).lower()


def _paper(record: dict[str, Any], source: str) -> Paper:
    doi = str(record["doi"])
    server = str(record.get("server") or "biorxiv").lower()
    url = f"https://www.{server}.org/content/{doi}v{record.get('version') or 1}"
    return Paper(
        id=doi_id(doi),
        title=squash(str(record["title"])),
        abstract=clean_abstract(str(record.get("abstract") or "")),
        authors=semicolon_authors(str(record.get("authors") or "")),
        url=url,
        pdf_url=url + ".full.pdf",
        categories=(str(record["category"]),) if record.get("category") else (),
        published=_date(record.get("date")),
        sources=(source,),
    )


def _date(text: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text)).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
