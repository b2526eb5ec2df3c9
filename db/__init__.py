"""The SQLite store: open it (migrated), and every read and write the crawler makes."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from db.captures import first_warc_file, latest_captures, record_capture
from db.connection import (
    DatabaseError,
    check_writable,
    connect,
    is_storage_fault,
    write,
)
from db.migrations import MIGRATIONS, migrate
from db.reports import (
    CONTENT_COLUMNS,
    report_urls,
    stored_fingerprints,
    unchanged,
    upsert_report,
)
from db.runs import (
    crawl_state,
    finish_crawl,
    last_crawl,
    record_failure,
    start_crawl,
)
from db.schema import TABLES, check_ours

__all__ = ["CONTENT_COLUMNS", "TABLES", "DatabaseError", "check_ours", "check_writable", "crawl_state",
           "finish_crawl", "first_warc_file", "is_storage_fault", "latest_captures", "record_capture",
           "last_crawl", "open_db", "record_failure", "report_urls", "start_crawl", "stored_fingerprints", "unchanged",
           "upsert_report", "write"]

# Database files this process has migrated: a crawl opens its database from several components,
# and the migrations are consulted once, not on every open (a file replaced since is noticed by
# its missing migrations table).
_migrated: set[str] = set()


def open_db(path: str | Path, busy_timeout_ms: int = 30_000) -> Database:
    """Open (creating if needed) the database at `path`, in WAL mode, migrated to the schema.

    A file that is not SQLite, or not this project's, is refused with DatabaseError and left untouched.
    """
    path = Path(path)
    check_ours(path)
    db = connect(path, busy_timeout_ms, checked=True)
    key = str(path.resolve())
    if key not in _migrated or not db[MIGRATIONS.migrations_table].exists():
        try:
            migrate(db)
        except Exception as exc:
            db.close()
            raise DatabaseError(f"cannot migrate {path}: {exc}") from exc
        _migrated.add(key)
    return db
