"""What the reader's pages need beyond Datasette's own: the archive's home page, a report's
related reports, citation and archived copy, and the BibTeX and RIS downloads."""

from __future__ import annotations

import json
import re
from typing import Any

from datasette.utils.asgi import Response

from db import reading
from scraper.web.cite import authors_of, bibtex, chicago, ris

# Columns a result must have to be cited (a report row, or a query selecting them).
CITABLE = {"title", "published", "url"}
FORMATS = {
    "bib": ("application/x-bibtex; charset=utf-8", bibtex),
    "ris": ("application/x-research-info-systems; charset=utf-8", ris),
}


async def rows(datasette: Any, database: str, sql: str, params: dict[str, Any] | None = None) -> list[dict]:
    result = await datasette.get_database(database).execute(sql, params or {})
    return [dict(row) for row in result.rows]


async def home_vars(datasette: Any, database: str) -> dict[str, Any]:
    """The archive at a glance: counts by section and year, newest and most-read, tags, authors."""
    queries = {"sections": reading.SECTIONS, "years": reading.YEARS, "newest": reading.NEWEST,
               "most_read": reading.MOST_READ, "tags": reading.TAGS, "authors": reading.AUTHORS,
               "total": reading.TOTAL}
    found = {name: await rows(datasette, database, sql) for name, sql in queries.items()}
    found["total"] = found["total"][0]
    found["name"] = database
    peak = max((y["reports"] for y in found["years"]), default=1)
    for year in found["years"]:
        year["width"] = round(85 * year["reports"] / peak)  # the count stands beside the longest bar
    return found


async def report_vars(datasette: Any, database: str, row: dict[str, Any]) -> dict[str, Any]:
    """A report page's extras: related reports, the Chicago line, the archived copy."""
    words = reading.title_words(row["title"])
    frequencies = await rows(datasette, database, reading.DOCUMENT_FREQUENCY, {"words": json.dumps(words)})
    # Candidates by the words that tell reports apart; by all of them when those find none (a
    # title of common words), as before.
    telling = reading.informative(frequencies)
    related = await _related(datasette, database, row["id"], telling)
    if not related and telling != words:  # the same query again would find nothing again
        related = await _related(datasette, database, row["id"], words)
    capture = await rows(datasette, database, reading.CAPTURE, {"id": row["id"]})
    return {"caci_related": related, "caci_chicago": chicago(row), "caci_authors": authors_of(row),
            "caci_tags": json.loads(row.get("tags") or "[]"), "caci_capture": capture[0] if capture else None}


async def _related(datasette: Any, database: str, report_id: int, words: list[str]) -> list[dict]:
    if not words:
        return []
    return await rows(datasette, database, reading.RELATED, {"id": report_id, "terms": reading.any_of(words)})


def _filename(row: dict[str, Any]) -> str:
    return re.sub(r"[^\w-]+", "-", f"caci-{row['published']}-{row['title'][:40]}").strip("-").lower()


def can_cite(columns: list[str]) -> bool:
    return CITABLE <= set(columns)


def citations(extension: str, rows: list[Any]) -> Response:
    """The rows as a BibTeX or RIS download (one record each)."""
    content_type, render = FORMATS[extension]
    records = [dict(row) for row in rows]
    name = _filename(records[0]) if len(records) == 1 else "caci-reports"
    return Response(body="\n".join(render(r) for r in records), content_type=content_type,
                    headers={"content-disposition": f'attachment; filename="{name}.{extension}"'})
