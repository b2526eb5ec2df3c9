"""The archive as a dataset: every report with its URLs and digest pieces, and the facts a datasheet
states, read from one snapshot of the database without writing to it."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from db.connection import read_only
from db.reading import TOTAL, WITHOUT_COUNTRIES
from db.schema import JSON_COLUMNS, check_ours

logger = logging.getLogger(__name__)

# In a stable order: the release's rows are sorted, so the same database gives the same bytes.
REPORTS = """
    select r.*,
           (select json_group_array(url) from (select url from report_urls where report_id = r.id
                                               order by item_id, url)) as urls,
           (select json_group_array(json_object('position', position, 'headline', headline, 'text', text,
                                                'source', source))
            from (select * from digest_items where report_id = r.id order by position)) as digest_items
    from reports r order by r.published, r.id"""
BY_SECTION_AND_YEAR = """
    select sections.value as section, reports.year, count(*) as reports
    from reports, json_each(reports.categories) as sections
    group by sections.value, reports.year order by sections.value, reports.year"""
RUNS = """select count(*) as runs, min(started_at) as first_started, max(finished_at) as last_finished,
                 sum(outcome = 'ok') as succeeded from crawls"""
# The release's own date is the database's: when its last crawl finished, else its last fetch.
CREATED = """select coalesce((select max(finished_at) from crawls),
                             (select max(fetched_at) from reports)) as created"""


class Snapshot:
    """One read transaction over an archive: its rows and facts agree even while a crawl writes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        columns = {row[1] for row in conn.execute("pragma table_info(reports)")}
        # An archive from before countries (m007) is read as it is; `reclean` fills them in.
        self.has_countries = "countries" in columns

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        return [dict(row) for row in self.conn.execute(sql)]

    def reports(self) -> Iterator[dict[str, Any]]:
        """Every report, lists as lists (authors, categories, tags, countries, urls, digest_items)."""
        for row in self.conn.execute(REPORTS):
            report = dict(row)
            for column in (*JSON_COLUMNS, "categories", "urls", "digest_items"):
                report[column] = json.loads(report.get(column) or "[]")
            yield report

    def facts(self) -> dict[str, Any]:
        """What the datasheet states: counts by section and year, the date range, the crawls."""
        span = self._rows(TOTAL)[0]
        without = self._rows(WITHOUT_COUNTRIES)[0]["reports"] if self.has_countries else span["reports"]
        return {"by_section_and_year": self._rows(BY_SECTION_AND_YEAR), "range": span,
                "runs": self._rows(RUNS)[0], "created": self._rows(CREATED)[0]["created"],
                "without_countries": without}


@contextlib.contextmanager
def snapshot(path: Path) -> Iterator[Snapshot]:
    """A read-only snapshot of the archive at `path` (DatabaseError if it is none)."""
    check_ours(path, archive=True)
    with read_only(path) as conn:
        conn.row_factory = sqlite3.Row
        conn.execute("begin")  # one snapshot for every query (WAL: a crawl may write meanwhile)
        try:
            yield Snapshot(conn)
        finally:
            conn.execute("rollback")
