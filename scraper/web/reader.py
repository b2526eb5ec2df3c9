"""What the reader's pages need beyond Datasette's own: the archive's home page, a report's
related reports, citation and archived copy, and the BibTeX and RIS downloads."""

from __future__ import annotations

import json
import re
from typing import Any

from datasette.utils.asgi import Response

from analyst.countries import country_code
from analyst.model import DRIFT_PREFIX
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
               "countries": reading.COUNTRIES, "total": reading.TOTAL}
    found = {name: await rows(datasette, database, sql) for name, sql in queries.items()}
    found["total"] = found["total"][0]
    found["crawls"] = await crawl_vars(datasette, database)
    found["name"] = database
    found["years"] = with_bars(found["years"])
    return found


def with_bars(years: list[dict]) -> list[dict]:
    """Per-year counts with each bar's width, in % (the count stands beside the longest bar)."""
    peak = max((y["reports"] for y in years), default=1)
    return [y | {"width": round(85 * y["reports"] / peak)} for y in years]


async def crawl_vars(datasette: Any, database: str, recent: bool = False) -> dict[str, Any]:
    """The operator's view: the last run, the last successful one, the open warnings (and with
    `recent`, the last runs)."""
    last = await rows(datasette, database, reading.LAST_RUN)
    success = await rows(datasette, database, reading.LAST_SUCCESS)
    failing = await rows(datasette, database, reading.OPEN_FAILURES)
    uncounted = (await rows(datasette, database, reading.WITHOUT_COUNTRIES))[0]["reports"]
    found = {"last_run": last[0] if last else None, "last_success": success[0] if success else None}
    found["warnings"] = crawl_warnings(found["last_run"], found["last_success"], failing, uncounted)
    if recent:
        found["recent"] = await rows(datasette, database, reading.RECENT_RUNS)
    return found


def crawl_warnings(last: dict | None, success: dict | None, failing: list[dict],
                   without_countries: int = 0) -> list[str]:
    """What someone responsible for the cron job should look at: a last run that failed or walked
    the listing only in part, no successful run at all, pages still failing (drift first; every
    run retries them), reports stored before countries existed."""
    warnings = []
    if without_countries:
        warnings.append(f"{without_countries} report{'s' if without_countries != 1 else ''} stored before "
                        "countries existed: run `python -m scraper reclean` once to fill them in.")
    if last is None:
        return [*warnings, "No crawl has been recorded in this database."]
    if last["outcome"] != "ok":
        warnings.append(f"The last run (#{last['id']}, {last['started_at']}) did not succeed: "
                        f"{last['close_reason'] or last['outcome']}.")
    if last["listing_complete"] == 0:
        warnings.append(f"The last run (#{last['id']}) walked the listing only in part: the next run walks it all.")
    if success is None:
        warnings.append("No run has succeeded yet.")
    for failure in failing:
        drift = " (the site's markup changed)" if failure["reason"].startswith(DRIFT_PREFIX) else ""
        warnings.append(f"{failure['pages']} page{'s' if failure['pages'] != 1 else ''} failing: "
                        f"{failure['reason']}{drift}; latest {failure['latest']}, e.g. {failure['example']}.")
    return warnings


async def country_vars(datasette: Any, database: str, name: str) -> dict[str, Any]:
    """A country page's extras: its ISO code, its reports per year, who writes most on it."""
    years = await rows(datasette, database, reading.COUNTRY_YEARS, {"name": name})
    return {"caci_country_code": country_code(name), "caci_country_years": with_bars(years),
            "caci_country_authors": await rows(datasette, database, reading.COUNTRY_AUTHORS, {"name": name})}


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
            "caci_tags": json.loads(row.get("tags") or "[]"),
            "caci_countries": json.loads(row.get("countries") or "[]"), "caci_capture": capture[0] if capture else None}


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
