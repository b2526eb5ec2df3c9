"""Captures: the index of the WARC archive, and the latest archived copy of each stored page."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from db.connection import read_only, write


def record_capture(db: Database, **fields: Any) -> int:
    """Index one archived response (its WARC file, offset and length); its id.

    Plain SQL: sqlite-utils' insert reads the table's schema on every call, a cost per page.
    """
    columns = ", ".join(f"[{name}]" for name in fields)
    with write(db):
        cursor = db.execute(f"insert into captures ({columns}) values ({', '.join('?' * len(fields))})",
                            list(fields.values()))
        return cursor.lastrowid


# The newest 200 capture of a URL (a 304 or a cache hit writes none; an error page is no copy of
# the report), else the one the report was stored from.
_LATEST = "(select max(id) from captures where url = {url} and status = 200)"


def latest_captures(db: Database, sections: list[str] | None = None,
                    since: str | None = None) -> Iterator[dict[str, Any]]:
    """Every report and every failure, each with its latest archived copy (capture columns are
    null where the page was never archived): reports first, then failures, by URL. A report's
    `fetched_at` is its own (when it was last seen), a failure's the capture's.

    `sections` (section names) keeps the reports of those sections, and every failure (a page
    that failed has no section yet); `since` (YYYY-MM-DD) keeps reports published on or after it
    and failures whose listing date is, or who have none.
    """
    where, params = ["1"], []
    if sections:
        marks = ", ".join("?" * len(sections))
        where.append(f"(r.category in ({marks}) or exists (select 1 from json_each(r.categories) "
                     f"where value in ({marks})))")
        params += sections * 2
    if since:
        where.append("r.published >= ?")
        params.append(since)
    yield from db.query(f"""
        select 'report' as kind, r.id as report_id, r.url, r.title, r.published, r.category,
               null as reason, c.id as capture_id, c.url as capture_url, c.payload_digest,
               c.warc_file, c."offset", c.length,
               coalesce(r.fetched_at, c.fetched_at) as fetched_at
        from reports r
        left join captures c on c.id = coalesce({_LATEST.format(url='r.url')}, r.capture_id)
        where {' and '.join(where)} order by r.url""", params)
    yield from db.query(f"""
        select 'failure' as kind, null as report_id, f.url, f.listing_title as title,
               f.listing_date as published, null as category, f.reason,
               c.id as capture_id, c.url as capture_url, c.payload_digest,
               c.warc_file, c."offset", c.length, c.fetched_at
        from failures f left join captures c on c.id = {_LATEST.format(url='f.url')}
        where ? is null or f.listing_date is null or f.listing_date >= ?
        order by f.url""", [since, since])


def first_warc_file(path: Path) -> str | None:
    """The WARC file of the database's first capture, read without writing; None where there is
    none (no file, no captures table, not SQLite)."""
    if not path.is_file() or not path.stat().st_size:
        return None
    try:
        with read_only(path) as conn:
            row = conn.execute("select warc_file from captures order by id limit 1").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None
