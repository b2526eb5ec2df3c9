"""The tables, declared once (the reports table from the Report model), and whether a file is ours."""

from __future__ import annotations

import dataclasses
import logging
import typing
from pathlib import Path
from typing import Any

from analyst.model import Report
from db.connection import DatabaseError, check_database
from db.migrations import MIGRATIONS

logger = logging.getLogger(__name__)

# Report fields kept elsewhere than in their column of `reports`.
NOT_COLUMNS = ("digest_items",)  # rows of digest_items
JSON_COLUMNS = ("authors", "tags", "countries")  # lists, stored as JSON text
# Columns of `reports` that are not Report fields: the row id and what storage derives.
DERIVED_COLUMNS: dict[str, type] = {"id": int, "title_key": str, "year": int, "first_seen": str, "categories": str,
                                    "changed_at": str}


def _column_type(hint: Any) -> type:
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    kind = typing.get_origin(args[0]) or args[0]
    return str if kind in (list, dict, str) else kind


def report_columns() -> dict[str, type]:
    """The `reports` table's columns: the Report model's fields, then the derived ones."""
    hints = typing.get_type_hints(Report)
    columns = {"id": int}
    columns |= {f.name: _column_type(hints[f.name]) for f in dataclasses.fields(Report) if f.name not in NOT_COLUMNS}
    return columns | DERIVED_COLUMNS


TABLES: dict[str, dict[str, Any]] = {
    "reports": {"columns": report_columns(), "pk": "id",
                "not_null": {"url", "title", "title_key", "published", "body", "body_html"}},
    "report_urls": {"columns": {"url": str, "report_id": int, "item_id": int, "first_seen": str,
                                "last_seen": str},
                    "pk": "url", "not_null": {"report_id"},
                    "foreign_keys": [("report_id", "reports", "id")]},
    "failures": {"columns": {"url": str, "reason": str, "attempts": int, "first_seen": str,
                             "last_seen": str, "listing_title": str, "listing_date": str},
                 "pk": "url", "not_null": {"reason"}},
    "report_versions": {"columns": {"report_id": int, "version": int, "fetched_at": str,
                                    "title": str, "body": str},
                        "pk": ("report_id", "version"),
                        "foreign_keys": [("report_id", "reports", "id")]},
    "digest_items": {"columns": {"report_id": int, "position": int, "headline": str, "text": str,
                                 "source": str},
                     "pk": ("report_id", "position"),
                     "foreign_keys": [("report_id", "reports", "id")]},
    "captures": {"columns": {"id": int, "url": str, "fetched_at": str, "status": int, "payload_digest": str,
                             "warc_file": str, "offset": int, "length": int, "crawl_id": int},
                 "pk": "id", "not_null": {"url", "warc_file", "offset", "length"}},
    "crawls": {"columns": {"id": int, "started_at": str, "finished_at": str, "mode": str,
                           "close_reason": str, "outcome": str, "pages_fetched": int,
                           "listing_pages": int, "item_pages": int, "reports_new": int,
                           "reports_updated": int, "reports_unchanged": int,
                           "reports_duplicate": int, "failures": int, "requests": int,
                           "listing_complete": int, "stats": str},
               "pk": "id"},
}


def _ours(table: str) -> bool:
    """A table this project makes: one of TABLES, their full-text index's, SQLite's own."""
    return table in TABLES or table.startswith(("reports_fts", "digest_items_fts", "sqlite_")) or \
        table == MIGRATIONS.migrations_table


def check_ours(path: str | Path, archive: bool = False) -> None:
    """Raise DatabaseError unless `path` does not exist yet or is this project's database (nothing is
    written): not SQLite, an empty file, another program's database is never taken over. Ours: its
    migrations are this project's, or (an archive from before migrations) every table is one ours.
    With `archive`, the file must also exist and hold the reports table (what a reader is shown)."""
    schema = check_database(path)
    if schema is None:
        if archive:
            raise DatabaseError(f"no database at {path}")
        return
    # No table at all: a database this project began and never migrated (or an empty one):
    # nothing in it to take over.
    if not schema.migrated_here and not all(map(_ours, schema.tables)):
        shown = sorted(t for t in schema.tables if not _ours(t))
        listed = ", ".join(shown[:5]) + (", ..." if len(shown) > 5 else "")
        raise DatabaseError(f"{path} is an SQLite database of something else (tables: {listed}), not a "
                            "caci-field-reports archive; refusing to touch it")
    if archive and "reports" not in schema.tables:
        raise DatabaseError(f"{path} holds no reports yet: not an archive to serve (crawl into it first)")
