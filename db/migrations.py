"""The migrations, each frozen with the tables and columns it makes, applied once per database."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from db.connection import MIGRATION_SET, read_only

logger = logging.getLogger(__name__)

# Applied in order, each once per database (sqlite-utils records them in _sqlite_migrations).
# A database written before migrations existed has none recorded: the first two bring any of
# its earlier schemas up to date without touching a row, because every change so far added
# tables and columns. A future change is a new function at the end, never an edit of these.
MIGRATIONS = Migrations(MIGRATION_SET)


# Frozen: each migration states the tables and columns it makes, as they were when it was
# written; today's TABLES (db/schema.py, from the model) is never read by one. A new column is a
# new migration, and tests/test_db.py checks that the migrations give every column TABLES has.
M001_TABLES: dict[str, dict[str, Any]] = {
    "reports": {"columns": {"id": int, "url": str, "title": str, "published": str, "body": str,
        "body_html": str, "item_id": int, "date_source": str, "issue_date": str, "author": str, "authors": str,
        "category": str, "hits": int, "tags": str, "word_count": int, "extraction": str, "fetched_at": str,
        "author_bio": str, "capture_id": int, "title_key": str, "year": int, "first_seen": str,
        "categories": str},
        "pk": "id", "not_null": ["body", "body_html", "published", "title", "title_key", "url"]},
    "report_urls": {"columns": {"url": str, "report_id": int, "item_id": int, "first_seen": str,
        "last_seen": str},
        "pk": "url", "not_null": ["report_id"], "foreign_keys": [("report_id", "reports", "id")]},
    "failures": {"columns": {"url": str, "reason": str, "attempts": int, "first_seen": str, "last_seen": str,
        "listing_title": str, "listing_date": str},
        "pk": "url", "not_null": ["reason"]},
    "report_versions": {"columns": {"report_id": int, "version": int, "fetched_at": str, "title": str,
        "body": str},
        "pk": ("report_id", "version"), "foreign_keys": [("report_id", "reports", "id")]},
    "digest_items": {"columns": {"report_id": int, "position": int, "headline": str, "text": str, "source": str},
        "pk": ("report_id", "position"), "foreign_keys": [("report_id", "reports", "id")]},
    "captures": {"columns": {"id": int, "url": str, "fetched_at": str, "status": int, "payload_digest": str,
        "warc_file": str, "offset": int, "length": int, "crawl_id": int},
        "pk": "id", "not_null": ["length", "offset", "url", "warc_file"]},
    "crawls": {"columns": {"id": int, "started_at": str, "finished_at": str, "mode": str, "close_reason": str,
        "outcome": str, "pages_fetched": int, "listing_pages": int, "item_pages": int, "reports_new": int,
        "reports_updated": int, "reports_unchanged": int, "reports_duplicate": int, "failures": int,
        "requests": int, "listing_complete": int, "stats": str},
        "pk": "id"},
}
M004_TABLES: dict[str, dict[str, Any]] = {
    "captures": {"columns": {"id": int, "url": str, "fetched_at": str, "status": int, "payload_digest": str,
        "warc_file": str, "offset": int, "length": int, "crawl_id": int},
        "pk": "id", "not_null": ["length", "offset", "url", "warc_file"]},
    "reports": {"columns": {"capture_id": int}, "pk": "id"},
}
M007_TABLES: dict[str, dict[str, Any]] = {
    "reports": {"columns": {"countries": str}, "pk": "id"},
}
M008_TABLES: dict[str, dict[str, Any]] = {
    "reports": {"columns": {"changed_at": str}, "pk": "id"},
}


def _tables_and_columns(db: Database, tables: dict[str, dict[str, Any]]) -> None:
    """Each table made if missing, each column added if missing (a database from before migrations)."""
    for name, spec in tables.items():
        table = db[name]
        # Not create(transform=True): a transform rebuilds the table, which drops the FTS triggers.
        table.create(spec["columns"], pk=spec["pk"], not_null=spec.get("not_null"),
                     foreign_keys=spec.get("foreign_keys"), if_not_exists=True)
        have = table.columns_dict
        for column, kind in spec["columns"].items():
            if column not in have:
                table.add_column(column, kind)


@MIGRATIONS()
def m001_tables_and_columns(db: Database) -> None:
    """Every table, and every column added since a table was first created."""
    _tables_and_columns(db, M001_TABLES)


@MIGRATIONS()
def m002_year_and_indexes(db: Database) -> None:
    """The stored year (rows from before it existed), the dedup index, the URL lookup index."""
    db.execute("update reports set year = cast(substr(published, 1, 4) as integer) "
               "where year is null and published is not null")
    db["reports"].create_index(["title_key", "published"], unique=True, if_not_exists=True,
                               index_name="reports_dedup")
    db["report_urls"].create_index(["report_id"], if_not_exists=True)


@MIGRATIONS(transactional=False)  # enable_fts runs SQL scripts, which commit by themselves
def m003_full_text_search(db: Database) -> None:
    """FTS5 (porter stemming) over reports and digest pieces, kept current by triggers."""
    if not db["reports_fts"].exists():
        db["reports"].enable_fts(["title", "body"], create_triggers=True, tokenize="porter")
    if not db["digest_items_fts"].exists():
        db["digest_items"].enable_fts(["headline", "text"], create_triggers=True, tokenize="porter")


@MIGRATIONS()
def m004_captures(db: Database) -> None:
    """The WARC index (captures) and the report's link to its capture (reports.capture_id)."""
    _tables_and_columns(db, M004_TABLES)
    db["captures"].create_index(["url"], if_not_exists=True)


@MIGRATIONS()
def m005_reading_indexes(db: Database) -> None:
    """Indexes for the reader's orderings: newest first (the reports table, the home page) and
    most recently added (the new reports feed); without them every page sorted the whole table."""
    db["reports"].create_index(["published"], if_not_exists=True, index_name="reports_published")
    db["reports"].create_index(["first_seen"], if_not_exists=True, index_name="reports_first_seen")


@MIGRATIONS()
def m006_sections_index(db: Database) -> None:
    """A covering index for counting reports by section (every search form lists the sections):
    the few distinct `categories` arrays are counted from it instead of every row's JSON parsed
    (10 → 0.8 ms at 3,000 reports)."""
    db["reports"].create_index(["categories", "year"], if_not_exists=True, index_name="reports_categories_year")


@MIGRATIONS()
def m007_countries(db: Database) -> None:
    """The countries a report is about (a JSON list); rows stored before it have none until
    `reclean` recomputes them from the archived pages."""
    _tables_and_columns(db, M007_TABLES)


@MIGRATIONS()
def m008_changed_at(db: Database) -> None:
    """When a report's content last changed (a feed entry's <updated>); rows stored before it read
    as changed when first seen."""
    _tables_and_columns(db, M008_TABLES)


def migrate(db: Database, wait: float = 30.0) -> list[str]:
    """Apply the pending migrations; return their names.

    Another writer holding the lock is waited for (up to `wait` seconds), as every write waits.
    Two processes opening an old database at the same moment may both start; the second then
    fails on what the first did, finds nothing pending any more, and goes on.
    """
    pending = [m.name for m in MIGRATIONS.pending(db)]
    if not pending:
        return []
    deadline = time.monotonic() + wait
    while True:
        try:
            MIGRATIONS.apply(db)
            break
        except sqlite3.OperationalError as exc:
            # A migration's transaction reads before it writes, so a writer elsewhere makes it
            # fail at once ("database is locked") instead of waiting on busy_timeout.
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        except sqlite3.DatabaseError:
            if MIGRATIONS.pending(db):
                raise
            break
    logger.info("Database migrated: %s", ", ".join(pending))
    return pending


def pending_migrations(path: str | Path) -> list[str]:
    """The migrations an existing database still lacks, read without writing (a reader of it, such
    as Datasette, needs the columns they add)."""
    with read_only(Path(path)) as conn:
        return [m.name for m in MIGRATIONS.pending(Database(conn))]
